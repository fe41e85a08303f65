"""Point-in-time training sets from the model's FeatureService.

Entity rows are matured, labelled transactions. Each asks Feast for the features as
of one microsecond before the transaction, which is what the online store holds
when that transaction arrives. Its own fields are the request data that feeds the
on-demand transforms. The feature list comes from the FeatureService in the
registry, never from a list written here.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from feast import FeatureStore

from feature_repo.operations import (
    ONE_MICROSECOND,
    feature_service_schema,
    historical_features,
    runs_on_spark,
    write_historical_features,
)
from skewless.atomic import move_directory, write_parquet_by_content
from skewless.contract import CUSTOMER_KEY, EVENT_TIMESTAMP, MERCHANT_KEY, REQUEST_FIELDS
from skewless.errors import ConfigurationError, DataNotFoundError, InvalidDateRangeError
from skewless.labels import CHARGEBACK_WINDOW_DAYS, LabelSource, labels_sql
from skewless.layout import DataLayout
from skewless.progress import Progress
from skewless.raw_data import RawDataManifest, read_manifest
from training.config import TrainingConfig

__all__ = ["LABEL", "SPLITS", "TrainingSet", "build_training_set", "sampling_draw"]

LABEL = "is_fraud"
SPLITS = ("train", "validation", "holdout")
# Columns kept beside the features: ids, time, label, oracle, split, and timestamps
# of the state used (to audit point-in-time correctness).
CONTEXT_COLUMNS = ("transaction_id", CUSTOMER_KEY, MERCHANT_KEY, EVENT_TIMESTAMP, *REQUEST_FIELDS)
AUDIT_COLUMNS = ("last_txn_time", "account_open_time", "home_country")


@dataclass(frozen=True)
class TrainingSet:
    """A built training set and what it was built from."""

    frame: pd.DataFrame
    features: list[str]
    categorical: list[str]
    feature_service: str
    content_hash: str
    path: Path
    cutoff: datetime
    seed: int = 0  # of the legitimate rows' sampling draw
    legit_sample_rate: float = 1.0  # share of the train split's legitimate rows kept

    def split(self, name: str) -> pd.DataFrame:
        """Rows of one split (train, validation or holdout)."""
        return self.frame[self.frame["split"] == name]

    def sampling_weights(self) -> np.ndarray:
        """Each row's inverse chance of being in the set: ``1 / legit_sample_rate`` for the train
        split's legitimate rows, 1 for the others. Weighted so, the set counts as the unsampled one."""
        return np.where(_legitimate_train(self.frame), 1.0 / self.legit_sample_rate, 1.0)

    def unsampled_mean(self, values: pd.Series) -> float:
        """The mean of ``values`` (one per row) as the unsampled set would give it (0 for no rows)."""
        return float(np.average(values, weights=self.sampling_weights())) if len(values) else 0.0

    def uniform_sample(self, name: str) -> pd.DataFrame:
        """Rows of one split as a uniform sample of the unsampled split: where the train split's
        legitimate rows were sampled, its frauds are drawn by the same rule (all rows otherwise)."""
        rows = self.split(name)
        if name != "train" or self.legit_sample_rate >= 1.0:
            return rows
        return rows[sampling_draw(rows["transaction_id"], self.seed) < self.legit_sample_rate]

    def time_range(self, name: str | None = None) -> tuple[datetime, datetime]:
        """First and last transaction time, of one split or of all rows."""
        frame = self.frame if name is None else self.split(name)
        times = frame["transaction_time"]
        return times.min().to_pydatetime(), times.max().to_pydatetime()


def _cutoff(manifest: RawDataManifest, config: TrainingConfig) -> datetime:
    end = datetime(manifest.end.year, manifest.end.month, manifest.end.day, tzinfo=UTC)
    cutoff = config.cutoff or end
    if cutoff.tzinfo is None:
        raise InvalidDateRangeError("the training cut-off must be timezone-aware (UTC)")
    if cutoff > end:
        raise InvalidDateRangeError(f"bad cut-off {cutoff:%Y-%m-%d}: the data ends {end:%Y-%m-%d}")
    return cutoff


def known_labels(layout: DataLayout, cutoff: datetime) -> pd.DataFrame:
    """Each transaction's label as known at ``cutoff``, from every source (``skewless.labels``).

    A fraud label from any source wins over a legitimate one; among equals the first known.
    Transactions with no label known yet are absent.
    """
    sql = (
        f"SELECT transaction_id, is_fraud AS {LABEL}, label_time, source "
        f"FROM ({labels_sql(layout.label_files)}) "
        f"WHERE label_time <= CAST('{cutoff.isoformat()}' AS TIMESTAMPTZ) QUALIFY row_number() OVER "
        f"(PARTITION BY transaction_id ORDER BY is_fraud DESC, label_time, source) = 1 "
        "ORDER BY transaction_id"
    )
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        labels: pd.DataFrame = connection.execute(sql).df()
    return labels


def chargeback_delay_share(
    rows: pd.DataFrame, cutoff: pd.Timestamp
) -> Callable[[np.ndarray], np.ndarray] | None:
    """F(a): the share of frauds whose chargeback arrived within ``a`` days, measured on the frauds
    whose chargeback window closed before ``cutoff`` (None with fewer than 30 of them)."""
    closed = rows[
        (rows[LABEL] == 1)
        & (rows["source"] == LabelSource.CHARGEBACK.value)
        & (rows["transaction_time"] <= cutoff - pd.Timedelta(days=CHARGEBACK_WINDOW_DAYS))
    ]
    if len(closed) < 30:
        return None
    delays = np.sort(
        ((closed["label_time"] - closed["transaction_time"]).dt.total_seconds() / 86_400).to_numpy()
    )

    def share(age_days: np.ndarray) -> np.ndarray:
        found: np.ndarray = np.searchsorted(delays, age_days, side="right") / len(delays)
        return found

    return share


def _known_now(
    layout: DataLayout, transactions: pd.DataFrame, cutoff: datetime, config: TrainingConfig
) -> pd.DataFrame:
    """Transactions at least ``min_label_age_days`` old with the labels known at ``cutoff`` and a weight."""
    at = pd.Timestamp(cutoff)
    labels = known_labels(layout, cutoff)
    rows = transactions[transactions["transaction_time"] <= at - pd.Timedelta(days=config.min_label_age_days)]
    rows = rows.merge(labels, on="transaction_id", how="left", validate="one_to_one")
    share = chargeback_delay_share(rows, at)
    rows[LABEL] = rows[LABEL].fillna(0).astype(np.int8)
    rows["source"] = rows["source"].fillna("unlabelled")
    rows["label_time"] = rows["label_time"].fillna(at)
    rows["weight"] = 1.0
    if share is not None:
        young_fraud = ((rows[LABEL] == 1) & (rows["source"] == LabelSource.CHARGEBACK.value)).to_numpy()
        age = ((at - rows["transaction_time"]).dt.total_seconds() / 86_400).to_numpy()
        found = np.maximum(share(age[young_fraud]), 1.0 / config.max_fraud_weight)
        rows.loc[young_fraud, "weight"] = 1.0 / found
    return rows


def _split_by_customer(
    rows: pd.DataFrame, newest: pd.Timestamp, data_start: pd.Timestamp, config: TrainingConfig
) -> pd.DataFrame:
    """The newest window split by customer, not by time, so the newest days are learned from.

    A time split would hold the newest days out, and after a change of the fraud pattern
    those are the only days that show it. Customers are split (15% validation, 15%
    holdout, by a seeded hash), so no customer's history is on both sides; the holdout
    keeps only its customers' newest ``holdout_days``, the traffic the gate compares on,
    reaching further back only as far as it takes to hold ``min_holdout_frauds`` known
    frauds (a small world has few in five days).
    """
    first = data_start + pd.Timedelta(days=config.warmup_days)
    if config.train_days is not None:
        first = max(first, newest - pd.Timedelta(days=config.train_days))
    rows = rows[(rows["transaction_time"] >= first) & (rows["transaction_time"] <= newest)].copy()
    bucket = (rows[CUSTOMER_KEY].astype("int64") * 2_654_435_761 + config.seed) % 1_000_003 % 100
    rows["split"] = np.select([bucket < 15, bucket < 30], ["validation", "holdout"], "train")
    holdout = rows["split"] == "holdout"
    frauds = rows.loc[holdout & (rows[LABEL] == 1), "transaction_time"].sort_values(ascending=False)
    holdout_from = newest - pd.Timedelta(days=config.holdout_days)
    if len(frauds) >= config.min_holdout_frauds:
        holdout_from = min(holdout_from, frauds.iloc[config.min_holdout_frauds - 1])
    elif len(frauds):
        holdout_from = frauds.iloc[-1]
    old_holdout = holdout & (rows["transaction_time"] < holdout_from)
    rows = rows[~old_holdout].reset_index(drop=True)
    if (rows["split"] == "train").sum() == 0 or rows[LABEL].sum() == 0:
        raise InvalidDateRangeError(
            f"no labelled training rows between {first:%Y-%m-%d} and {newest:%Y-%m-%d}: "
            "nothing to learn from with the labels known at the cut-off"
        )
    return rows


def labelled_entity_rows(layout: DataLayout, config: TrainingConfig) -> tuple[pd.DataFrame, datetime]:
    """Transactions with their label, split by time: matured ones with their final label, or (with
    ``config.labels == "known"``) the newest ones with the labels known at the cut-off, weighted.

    Returns:
        The entity rows (ids, request fields, label, oracle score, split) and the cut-off.
    """
    manifest = read_manifest(layout)
    cutoff = _cutoff(manifest, config)
    data_start = pd.Timestamp(manifest.start, tz="UTC")
    if config.labels == "known":
        rows = _known_now(layout, pd.read_parquet(layout.transactions), cutoff, config)
        matured_until = pd.Timestamp(cutoff) - pd.Timedelta(days=config.min_label_age_days)
        return _split_by_customer(rows, matured_until, data_start, config), cutoff
    matured_until = pd.Timestamp(cutoff) - pd.Timedelta(days=config.label_maturity_days)
    holdout_from = matured_until - pd.Timedelta(days=config.holdout_days)
    validation_from = holdout_from - pd.Timedelta(days=config.validation_days)
    first = data_start + pd.Timedelta(days=config.warmup_days)
    if config.train_days is not None:  # retraining on the latest window only
        first = max(first, validation_from - pd.Timedelta(days=config.train_days))
    # Only the window's transactions and the labels known at the cut-off are read and merged.
    transactions = pd.read_parquet(
        layout.transactions,
        filters=[("transaction_time", ">=", first), ("transaction_time", "<", matured_until)],
    )
    labels = pd.read_parquet(
        layout.labels, columns=["transaction_id", LABEL, "label_time"],
        filters=[("label_time", "<=", pd.Timestamp(cutoff))],
    )  # fmt: skip
    rows = transactions.merge(labels, on="transaction_id", validate="one_to_one")
    del transactions, labels
    rows["split"] = "train"
    rows.loc[rows["transaction_time"] >= validation_from, "split"] = "validation"
    rows.loc[rows["transaction_time"] >= holdout_from, "split"] = "holdout"
    if rows.empty or (rows["split"] == "train").sum() == 0:
        needed = config.warmup_days + config.validation_days + config.holdout_days
        needed += config.label_maturity_days
        raise InvalidDateRangeError(
            f"no training rows before {validation_from:%Y-%m-%d}: the data needs more than "
            f"{needed} days before the cut-off {cutoff:%Y-%m-%d}"
        )
    if config.shuffle_labels:
        # Rehearsal of a bad model: training labels no longer match the features, while
        # validation and holdout keep the truth, so the model is judged honestly.
        train = rows["split"] == "train"
        rows.loc[train, LABEL] = rows.loc[train, LABEL].sample(frac=1.0, random_state=config.seed).to_numpy()
    return rows, cutoff


def sampling_draw(transaction_ids: pd.Series, seed: int) -> np.ndarray:
    """Each transaction's draw in [0, 1) from its id and ``seed`` (SplitMix64 of the id, or of its
    text's hash, offset by the seed): the same on every run, machine and profile, whatever the order."""
    if pd.api.types.is_integer_dtype(transaction_ids.dtype):
        bits: np.ndarray = transaction_ids.to_numpy(dtype=np.int64).view(np.uint64)
    else:
        bits = pd.util.hash_pandas_object(transaction_ids.astype(str), index=False).to_numpy()
    with np.errstate(over="ignore"):  # the mixing multiplies modulo 2**64
        z = bits + np.uint64(0x9E3779B97F4A7C15) * np.uint64((seed + 1) % 2**64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    draw: np.ndarray = (z >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return draw


def _legitimate_train(rows: pd.DataFrame) -> np.ndarray:
    """Which rows are the train split's legitimate ones (those ``legit_sample_rate`` samples)."""
    legit: np.ndarray = ((rows["split"] == "train") & (rows[LABEL] == 0)).to_numpy()
    return legit


def _sample_legitimate(rows: pd.DataFrame, config: TrainingConfig) -> pd.DataFrame:
    """The train split's frauds and ``config.legit_sample_rate`` of its legitimate rows, each of
    those weighted ``1 / rate`` (times any weight it has); validation and holdout whole.

    Raises:
        ConfigurationError: the rate is not in (0, 1].
    """
    rate = config.legit_sample_rate
    if not 0.0 < rate <= 1.0:
        raise ConfigurationError(f"legit_sample_rate must be in (0, 1], got {rate}")
    if rate == 1.0:
        return rows
    legit = _legitimate_train(rows)
    kept = ~legit | (sampling_draw(rows["transaction_id"], config.seed) < rate)
    rows = rows[kept].reset_index(drop=True)
    weight = rows["weight"].to_numpy() if "weight" in rows.columns else np.ones(len(rows))
    rows["weight"] = np.where(legit[kept], weight / rate, weight)
    return rows


def _moved(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``frame[names]``, each column taken out of ``frame`` as it is copied: a training set's
    columns are held twice one at a time, not all at once."""
    moved = pd.DataFrame(index=frame.index)
    for name in names:
        moved[name] = frame.pop(name).array
    return moved


def build_training_set(
    store: FeatureStore, layout: DataLayout, config: TrainingConfig, progress: Progress
) -> TrainingSet:
    """Build, hash and save the point-in-time training set of ``config.feature_service``.

    Raises:
        DataNotFoundError: nothing simulated, or no feature tables.
        FeatureRepoError: the feature service is not registered.
        InvalidDateRangeError: the cut-off leaves no training rows.
    """
    features, categorical = feature_service_schema(store, config.feature_service)
    if not layout.features_dir.is_dir():
        raise DataNotFoundError(
            f"no feature tables in {layout.features_dir}: run `skewless features build` first"
        )
    partitioned = layout.training_sets_dir / f".building-{uuid.uuid4().hex}"  # the spark profile's
    try:
        return _build(store, layout, config, progress, features, categorical, partitioned)
    finally:
        shutil.rmtree(partitioned, ignore_errors=True)


def _build(
    store: FeatureStore,
    layout: DataLayout,
    config: TrainingConfig,
    progress: Progress,
    features: list[str],
    categorical: list[str],
    partitioned: Path,
) -> TrainingSet:
    """The body of ``build_training_set``, the labelled rows its own (freed once joined)."""
    entity_rows, cutoff = labelled_entity_rows(layout, config)
    entity_rows = _sample_legitimate(entity_rows, config)  # before the join: its cost shrinks too
    if not entity_rows["transaction_id"].is_monotonic_increasing:  # sorted here, while memory is free
        entity_rows = entity_rows.sort_values("transaction_id", ignore_index=True)
    with progress.step(
        f"point-in-time join of {len(entity_rows):,} labelled transactions ({config.feature_service})"
    ):
        columns = [*features, *AUDIT_COLUMNS]
        if runs_on_spark(store):  # joined, transformed and written by the executors
            written = write_historical_features(
                store, config.feature_service, entity_rows, partitioned, "split", columns
            )
            joined = written.read()
            del written
        else:
            joined = historical_features(store, config.feature_service, entity_rows, columns)
        del entity_rows  # the rows joined carry their columns: one copy held, not two
        joined[EVENT_TIMESTAMP] = joined["transaction_time"] - ONE_MICROSECOND
    keep = [*CONTEXT_COLUMNS, LABEL, "label_time", "oracle_score", "split", *features]
    keep += [column for column in ("source", "weight") if column in joined.columns]
    keep += [column for column in AUDIT_COLUMNS if column in joined.columns and column not in keep]
    frame = _moved(joined, keep)  # in the entity rows' order: by transaction_id
    del joined
    path, content_hash = write_parquet_by_content(
        pa.Table.from_pandas(frame, preserve_index=False), layout.training_sets_dir
    )
    if partitioned.is_dir():  # the spark profile's, kept beside the file as the executors wrote it
        move_directory(partitioned, path.with_name(f"{content_hash[:16]}-by-split"))
    return TrainingSet(
        frame=frame,
        features=features,
        categorical=categorical,
        feature_service=config.feature_service,
        content_hash=content_hash,
        path=path,
        cutoff=cutoff,
        seed=config.seed,
        legit_sample_rate=config.legit_sample_rate,
    )
