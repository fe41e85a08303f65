"""Batch inference: a table of transactions scored with point-in-time features of the model's own service.

``skewless score TRANSACTIONS --model champion --out DIR`` reads the model's feature
service from its registry metadata (as the API does), asks Feast's
``get_historical_features`` for each transaction's features as of one microsecond before
it (what the online store held when the API scored it, and what training read), runs the
same on-demand transforms inside Feast, and scores with the native booster at the model's
own threshold. Transactions are taken a day at a time, so memory follows the largest day,
not the table, and each day is written as ``DIR/date=YYYY-MM-DD/part-0.parquet`` (atomic)
with the model's name, version and feature service beside every score. On the spark profile
the executors join every day's features and run the on-demand views in one Spark job, writing
them by day under the layout's staging folder (removed after); the driver reads back and
scores a day at a time, and never collects the join (Feast issue 5475).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from feast import FeatureStore

from feature_repo.operations import (
    WrittenFeatures,
    historical_features,
    open_feature_store,
    runs_on_spark,
    write_historical_features,
)
from skewless.atomic import write_parquet_atomic
from skewless.contract import CUSTOMER_KEY, MERCHANT_KEY, REQUEST_FIELDS
from skewless.errors import DataNotFoundError, InputError
from skewless.progress import Progress
from skewless.registry import ModelRegistry, RegisteredModel
from skewless.settings import Settings

__all__ = ["REQUIRED_COLUMNS", "BatchScores", "read_transactions", "score_transactions"]

REQUIRED_COLUMNS = (CUSTOMER_KEY, MERCHANT_KEY, *REQUEST_FIELDS)
_DAY = "skewless_day"  # the partition column of the spark profile's features


@dataclass(frozen=True)
class BatchScores:
    """What one batch-scoring run wrote."""

    rows: int
    days: int
    model_name: str
    model_version: int
    feature_service: str
    threshold: float
    flagged: int  # transactions at or above the threshold (decision "review")
    folder: Path
    files: list[Path]
    seconds: float


def read_transactions(source: Path | pd.DataFrame) -> pd.DataFrame:
    """Transactions from a DataFrame, a parquet file or folder, or a CSV, checked and with UTC times.

    Raises:
        DataNotFoundError: the file does not exist.
        InputError: a required column is missing, or a time is missing or without its zone.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        if not source.exists():
            raise DataNotFoundError(f"no such file or folder: {source}")
        if source.suffix.lower() in (".csv", ".tsv", ".txt"):
            frame = pd.read_csv(source)
        elif source.is_dir() or source.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(source)
        else:
            raise InputError(
                f"{source}: not a parquet or CSV file (give .parquet, .csv or a folder of parquet)"
            )
    missing = [column for column in REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise InputError(
            f"the transactions lack the column(s) {', '.join(missing)}; needed: {REQUIRED_COLUMNS}"
        )
    raw = frame["transaction_time"]
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        if raw.dt.tz is None:
            raise InputError("transaction_time must carry its time zone (e.g. 2026-05-01T12:00:00Z)")
    else:  # text: every value must name its offset (Z or +hh:mm); offsets may differ between rows
        zoned = raw.astype("string").str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True, na=False)
        if not zoned.all():
            raise InputError(
                f"{int((~zoned).sum())} transaction_time value(s) are missing or carry no time zone "
                "(write e.g. 2026-05-01T12:00:00Z)"
            )
    times = pd.to_datetime(raw, utc=True, errors="coerce", format="ISO8601")
    if times.isna().any():
        raise InputError(
            f"{int(times.isna().sum())} transaction_time value(s) are missing or not ISO 8601 times"
        )
    frame["transaction_time"] = times
    return frame.reset_index(drop=True)


def score_transactions(
    settings: Settings,
    registry: ModelRegistry,
    transactions: Path | pd.DataFrame,
    model: str | int,
    out: Path,
    progress: Progress,
) -> BatchScores:
    """Score ``transactions`` with ``model`` (an alias or a version) and write the scores under ``out``.

    Raises:
        ModelNotFoundError: no such model version or alias.
        DataNotFoundError, InputError: the transactions cannot be read or lack a column.
        FeatureRepoError: the model's feature service is not registered (run apply first).
    """
    started = time.perf_counter()
    if out.exists() and any(out.rglob("*.parquet")):
        raise InputError(f"{out} already holds scores: give an empty or new folder (nothing is overwritten)")
    loaded = registry.load(model)
    frame = read_transactions(transactions)
    store = open_feature_store(settings)
    days = frame["transaction_time"].dt.strftime("%Y-%m-%d")
    staging = settings.layout.staging_dir / f"score-{uuid.uuid4().hex}"
    files: list[Path] = []
    flagged = 0
    try:
        for day, count, features in _features_by_day(
            store, loaded.feature_service, frame, days, staging, progress
        ):
            with progress.step(f"score {count:,} transactions of {day} with v{loaded.version}"):
                result = _scored(features(), frame.columns, loaded)
                flagged += int((result["decision"] == "review").sum())
                path = out / f"date={day}" / "part-0.parquet"
                write_parquet_atomic(pa.Table.from_pandas(result, preserve_index=False), path)
                files.append(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BatchScores(
        rows=len(frame),
        days=len(files),
        model_name=loaded.name,
        model_version=loaded.version,
        feature_service=loaded.feature_service,
        threshold=loaded.threshold,
        flagged=flagged,
        folder=out,
        files=files,
        seconds=time.perf_counter() - started,
    )


def _features_by_day(
    store: FeatureStore,
    service: str,
    frame: pd.DataFrame,
    days: pd.Series,
    staging: Path,
    progress: Progress,
) -> Iterator[tuple[str, int, Callable[[], pd.DataFrame]]]:
    """Per day: the day, its number of transactions and how to get them with their point-in-time
    features (memory follows a day, not the table). On the spark profile the executors join and
    transform all days at once and write them by day under ``staging``, and the driver reads one
    day back at a time; otherwise each day is its own join."""
    counts = days.value_counts().sort_index()
    if counts.empty:
        return
    if not runs_on_spark(store):
        for day, count in counts.items():
            yield str(day), int(count), partial(historical_features, store, service, frame[days == day])
        return
    if _DAY in frame.columns:
        raise InputError(f"the transactions may not have a column named {_DAY} (their day goes there)")
    with progress.step(f"point-in-time features of {len(frame):,} transactions on Spark"):
        dated = frame.assign(**{_DAY: days})
        written = write_historical_features(store, service, dated, staging, _DAY, written_requests=())
    for day, count in counts.items():
        yield str(day), int(count), partial(_written_day, written, str(day))


def _written_day(written: WrittenFeatures, day: str) -> pd.DataFrame:
    return written.read(day).drop(columns=_DAY)


def _scored(joined: pd.DataFrame, carried_columns: pd.Index, loaded: RegisteredModel) -> pd.DataFrame:
    """One day's transactions (their own columns, the features), scored and decided, by time."""
    features = loaded.encoding.features
    scores = loaded.predict(loaded.encoding.encode(joined))
    review = scores >= loaded.threshold
    carried = [c for c in carried_columns if c in joined.columns and c not in features]
    result = joined[carried + [f for f in features if f not in carried]].assign(
        score=scores,
        decision=np.where(review, "review", "approve"),
        threshold=loaded.threshold,
        model_name=loaded.name,
        model_version=loaded.version,
        feature_service=loaded.feature_service,
    )
    return result.sort_values("transaction_time", kind="stable").reset_index(drop=True)
