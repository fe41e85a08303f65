"""Batch inference: a table of transactions scored with point-in-time features of the model's own service.

``skewless score TRANSACTIONS --model champion --out DIR`` reads the model's feature
service from its registry metadata (as the API does), asks Feast's
``get_historical_features`` for each transaction's features as of one microsecond before
it (what the online store held when the API scored it, and what training read), runs the
same on-demand transforms inside Feast, and scores with the native booster at the model's
own threshold. Transactions are taken a day at a time, so memory follows the largest day,
not the table, and each day is written as ``DIR/date=YYYY-MM-DD/part-0.parquet`` (atomic)
with the model's name, version and feature service beside every score.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from feature_repo.operations import historical_features, open_feature_store
from skewless.atomic import write_parquet_atomic
from skewless.contract import CUSTOMER_KEY, MERCHANT_KEY, REQUEST_FIELDS
from skewless.errors import DataNotFoundError, InputError
from skewless.progress import Progress
from skewless.registry import ModelRegistry
from skewless.settings import Settings

__all__ = ["REQUIRED_COLUMNS", "BatchScores", "read_transactions", "score_transactions"]

REQUIRED_COLUMNS = (CUSTOMER_KEY, MERCHANT_KEY, *REQUEST_FIELDS)


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
    features = loaded.encoding.features
    days = frame["transaction_time"].dt.strftime("%Y-%m-%d")
    files: list[Path] = []
    flagged = 0
    for day in sorted(days.unique()):
        requests = frame[days == day]
        with progress.step(f"score {len(requests):,} transactions of {day} with v{loaded.version}"):
            joined = historical_features(store, loaded.feature_service, requests)
            scores = loaded.predict(loaded.encoding.encode(joined))
            review = scores >= loaded.threshold
            flagged += int(review.sum())
            carried = [c for c in requests.columns if c in joined.columns and c not in features]
            result = joined[carried + [f for f in features if f not in carried]].assign(
                score=scores,
                decision=["review" if flag else "approve" for flag in review],
                threshold=loaded.threshold,
                model_name=loaded.name,
                model_version=loaded.version,
                feature_service=loaded.feature_service,
            )
            result = result.sort_values("transaction_time", kind="stable").reset_index(drop=True)
            path = out / f"date={day}" / "part-0.parquet"
            write_parquet_atomic(pa.Table.from_pandas(result, preserve_index=False), path)
            files.append(path)
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
