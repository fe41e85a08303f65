"""Labels arriving: a batch of the label feed checked and stored, and the simulated analysts' day.

``skewless labels ingest FILE`` and the main job's analysts both go through
:func:`ingest_labels`, so a case-management export and the simulation meet the same
checks (``skewless.labels.validate_labels``) and land in the same place: one parquet
part per batch under ``data/labels/``, which monitoring and retraining read beside the
simulator's chargebacks.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from monitoring.windows import served_rows_sql
from simulation.analysts import AnalystTeam, review_alerts
from skewless.atomic import write_parquet_atomic
from skewless.errors import DataNotFoundError, LabelFeedError
from skewless.labels import LABEL_COLUMNS, validate_labels
from skewless.layout import DataLayout
from skewless.served_log import ServedColumn, has_log

__all__ = [
    "Analysts",
    "IngestedLabels",
    "batch_name",
    "ingest_labels",
    "read_label_file",
    "review_served_day",
]


@dataclass(frozen=True)
class IngestedLabels:
    """One stored batch: where it went and what it held."""

    path: Path
    rows: int
    frauds: int
    sources: dict[str, int]


def read_label_file(path: Path) -> pd.DataFrame:
    """A label export as a frame (parquet, or CSV with an ISO ``label_time``).

    Raises:
        DataNotFoundError: no such file.
        LabelFeedError: not parquet or CSV, or unreadable.
    """
    if not path.is_file():
        raise DataNotFoundError(f"no label file at {path}")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".csv":
            return pd.read_csv(path)
    except Exception as e:  # pyarrow and the csv reader raise many kinds
        raise LabelFeedError(f"cannot read labels from {path}: {e}") from e
    raise LabelFeedError(f"labels must be a .parquet or .csv file, not {path.name}")


def batch_name(path: Path) -> str:
    """A file's default batch name: its stem and the start of its content's hash, so that the same
    export is refused as stored already and a new export at the same path is a new batch."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "missing"
    return f"{path.stem}-{digest}"


def _held(layout: DataLayout) -> pd.DataFrame:
    parts = sorted(layout.label_feed_dir.glob("*.parquet")) if layout.label_feed_dir.is_dir() else []
    if not parts:
        return pd.DataFrame({"transaction_id": pd.Series(dtype="int64"), "source": pd.Series(dtype=str)})
    return pd.concat([pd.read_parquet(p, columns=["transaction_id", "source"]) for p in parts])


def ingest_labels(layout: DataLayout, labels: pd.DataFrame, name: str) -> IngestedLabels:
    """Check a batch against the transactions and the feed, then store it as ``labels/<name>.parquet``.

    Raises:
        DataNotFoundError: no transactions to check against (nothing simulated or loaded).
        LabelFeedError: the batch is refused (every problem named), or ``name`` is taken.
    """
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise LabelFeedError(f"bad batch name '{name}': use letters, digits, '.', '_' and '-'")
    path = layout.label_feed_dir / f"{name}.parquet"
    if path.exists():
        raise LabelFeedError(f"a batch named '{name}' is already in the feed ({path})")
    if not layout.transactions.exists():
        raise DataNotFoundError(f"no transactions at {layout.transactions} to check labels against")
    transactions = pd.read_parquet(layout.transactions, columns=["transaction_id", "transaction_time"])
    checked = validate_labels(labels, transactions, _held(layout))
    write_parquet_atomic(pa.Table.from_pandas(checked[list(LABEL_COLUMNS)], preserve_index=False), path)
    return IngestedLabels(
        path=path,
        rows=len(checked),
        frauds=int(checked["is_fraud"].sum()),
        sources={str(k): int(v) for k, v in checked["source"].value_counts().items()},
    )


def _day_alerts(layout: DataLayout, day: date) -> pd.DataFrame:
    """The answers flagged for review among those served for ``day``'s transactions."""
    c = ServedColumn
    low = datetime.combine(day, datetime.min.time(), UTC)
    transaction_id = f"TRY_CAST({c.TRANSACTION_ID} AS BIGINT)"
    columns = (
        f"{transaction_id} AS transaction_id, {c.TRANSACTION_TIME} AS transaction_time, {c.SCORE} AS score"
    )
    served = served_rows_sql(
        layout.served_log_dir, low, low + timedelta(days=1), None, columns, clock="event"
    )
    sql = f"{served} AND {c.DECISION} AND {transaction_id} IS NOT NULL"
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        alerts: pd.DataFrame = connection.execute(sql).df()
    return alerts


def review_served_day(layout: DataLayout, day: date, team: AnalystTeam, seed: int) -> IngestedLabels | None:
    """The simulated analysts review ``day``'s alerts (what the API flagged) and their verdicts are ingested.

    Returns None when nothing was flagged that day.
    """
    if not has_log(layout.served_log_dir):
        return None
    alerts = _day_alerts(layout, day)
    if alerts.empty:
        return None
    truth = pd.read_parquet(
        layout.labels, columns=["transaction_id", "is_fraud"],
        filters=[("transaction_id", "in", alerts["transaction_id"].astype("int64").tolist())],
    )  # fmt: skip
    verdicts = review_alerts(alerts, truth, team, np.random.default_rng(seed))
    if verdicts.empty:
        return None
    return ingest_labels(layout, verdicts, f"investigations-{day.isoformat()}")


class Analysts:
    """The simulated analysts of one run: each served day's alerts reviewed once."""

    def __init__(self, layout: DataLayout, team: AnalystTeam) -> None:
        self.layout, self.team = layout, team
        self.reviewed: dict[date, IngestedLabels | None] = {}

    def review(self, day: date) -> IngestedLabels | None:
        """Review ``day``'s alerts unless that is done already (seeded by the day)."""
        if day not in self.reviewed and self.team.capacity_per_day > 0:
            self.reviewed[day] = review_served_day(self.layout, day, self.team, seed=day.toordinal())
        return self.reviewed.get(day)
