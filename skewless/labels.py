"""The label feed's contract: where fraud labels come from, when they became known, and its checks.

A label is one row: ``transaction_id``, ``is_fraud`` (0/1), ``label_time`` (the moment
it became known) and ``source``:

- ``investigation``: an analyst reviewed the model's alert (fraud or legitimate),
  hours to a day after it; analysts have a daily capacity, so only the highest-scored
  alerts are reviewed;
- ``chargeback``: the card holder disputed the transaction, 1-30 days after it (fraud);
- ``matured``: the 30-day chargeback window closed without a dispute (legitimate).

A transaction may carry several labels (an investigation, then a chargeback); the
label known at a moment is its latest row whose ``label_time`` has passed. Consumers
never read a label before its ``label_time``.

Files: the simulator writes ``raw/labels.parquet`` (chargebacks and matured rows, one
per transaction); every other source is a parquet part under ``labels/`` (the
simulated analysts' daily reviews, or a case-management export ingested with
``skewless labels ingest``), validated by :func:`validate_labels` first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import pandas as pd

from skewless.errors import LabelFeedError

__all__ = [
    "CHARGEBACK_WINDOW_DAYS",
    "LABEL_AGE_DAYS",
    "LABEL_COLUMNS",
    "LabelSource",
    "label_files",
    "label_status_sql",
    "labels_sql",
    "validate_labels",
]

CHARGEBACK_WINDOW_DAYS = 30
# Monitoring and the training holdout judge AUC with the labels known this many days after
# each transaction, so that a live window and the holdout are compared like with like.
LABEL_AGE_DAYS = 7
LABEL_COLUMNS = ("transaction_id", "is_fraud", "label_time", "source")


class LabelSource(StrEnum):
    """Where a label came from (a member formats as its value)."""

    INVESTIGATION = "investigation"
    CHARGEBACK = "chargeback"
    MATURED = "matured"


def label_files(simulated: Path, feed_dir: Path) -> list[Path]:
    """Every label file of a workspace: the simulator's and the feed's parts (those that exist)."""
    files = [simulated] if simulated.exists() else []
    if feed_dir.is_dir():
        files += sorted(feed_dir.glob("*.parquet"))
    return files


def labels_sql(files: Iterable[Path]) -> str:
    """A DuckDB relation of every label row in ``files`` (``source`` filled for older files)."""
    names = ", ".join(f"'{path}'" for path in files)
    return (
        f"SELECT CAST(transaction_id AS BIGINT) AS transaction_id, CAST(is_fraud AS INT) AS is_fraud, "
        f"label_time, coalesce(source, CASE WHEN is_fraud = 1 THEN 'chargeback' ELSE 'matured' END) "
        f"AS source FROM read_parquet([{names}], union_by_name = true)"
    )


def label_status_sql(files: Iterable[Path], as_of: datetime | None = None) -> str:
    """A DuckDB relation, one row per labelled transaction, of what is known at ``as_of`` (default:
    everything): ``verdict``, the analysts' (1, 0, or NULL when not reviewed), and ``charged_at``,
    when its chargeback arrived (NULL: none yet)."""
    files = list(files)
    if not files:
        return "SELECT NULL::BIGINT AS transaction_id, NULL::INT AS verdict, NULL::TIMESTAMPTZ AS charged_at"
    known = "" if as_of is None else f" WHERE label_time <= CAST('{as_of.isoformat()}' AS TIMESTAMPTZ)"
    return (
        f"SELECT transaction_id, "
        f"max(is_fraud) FILTER (WHERE source = '{LabelSource.INVESTIGATION}') AS verdict, "
        f"min(label_time) FILTER (WHERE source = '{LabelSource.CHARGEBACK}') AS charged_at "
        f"FROM ({labels_sql(files)}){known} GROUP BY transaction_id"
    )


def _problem(rows: pd.DataFrame, what: str) -> str:
    shown = ", ".join(str(v) for v in rows["transaction_id"].head(3).tolist())
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    return f"{len(rows)} label(s) {what} (transaction_id {shown}{more})"


def validate_labels(
    labels: pd.DataFrame, transactions: pd.DataFrame, known: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Check a batch of labels against the transactions and the labels already held.

    Args:
        labels: the batch, with :data:`LABEL_COLUMNS`.
        transactions: ``transaction_id`` and ``transaction_time`` of every known transaction.
        known: labels already in the feed (``transaction_id``, ``source``), to refuse duplicates.

    Returns:
        The batch in the feed's types (``transaction_id`` int64, ``is_fraud`` int8,
        ``label_time`` UTC, ``source`` string).

    Raises:
        LabelFeedError: naming every problem: a missing column, an unknown source, a label
            other than 0/1, an unknown transaction, a label known before its transaction,
            a duplicate (same transaction and source), a fraud "matured" or a legitimate chargeback.
    """
    missing = [c for c in LABEL_COLUMNS if c not in labels.columns]
    if missing:
        raise LabelFeedError(
            f"the labels lack column(s) {', '.join(missing)}: expected {', '.join(LABEL_COLUMNS)}"
        )
    problems: list[str] = []
    frame = labels[list(LABEL_COLUMNS)].copy()
    try:
        frame["transaction_id"] = pd.to_numeric(frame["transaction_id"], errors="raise").astype("int64")
        frame["label_time"] = pd.to_datetime(frame["label_time"], utc=True)
    except (ValueError, TypeError) as e:
        raise LabelFeedError(f"the labels cannot be read: {e}") from e
    frame["source"] = frame["source"].astype(str)
    sources = {s.value for s in LabelSource}
    unknown_source = frame[~frame["source"].isin(sources)]
    if len(unknown_source):
        problems.append(_problem(unknown_source, f"with a source other than {', '.join(sorted(sources))}"))
    is_fraud = pd.to_numeric(frame["is_fraud"], errors="coerce")
    bad_label = frame[~is_fraud.isin([0, 1])]
    if len(bad_label):
        problems.append(_problem(bad_label, "with is_fraud other than 0 or 1"))
    frame["is_fraud"] = is_fraud.fillna(0).astype("int8")
    contradiction = frame[
        ((frame["source"] == LabelSource.MATURED) & (frame["is_fraud"] == 1))
        | ((frame["source"] == LabelSource.CHARGEBACK) & (frame["is_fraud"] == 0))
    ]
    if len(contradiction):
        problems.append(
            _problem(contradiction, "contradicting their source (a matured fraud or a legitimate chargeback)")
        )
    times = transactions.set_index("transaction_id")["transaction_time"]
    known_times = frame["transaction_id"].map(times)
    unknown = frame[known_times.isna()]
    if len(unknown):
        problems.append(_problem(unknown, "for transactions that do not exist"))
    early = frame[known_times.notna() & (frame["label_time"] < pd.to_datetime(known_times, utc=True))]
    if len(early):
        problems.append(_problem(early, "known before their transaction happened"))
    twice = frame[frame.duplicated(["transaction_id", "source"], keep="first")]
    if len(twice):
        problems.append(_problem(twice, "given twice in this batch"))
    if known is not None and len(known):
        held = pd.MultiIndex.from_frame(
            known[["transaction_id", "source"]].astype({"transaction_id": "int64"})
        )
        again = frame[pd.MultiIndex.from_frame(frame[["transaction_id", "source"]]).isin(held)]
        if len(again):
            problems.append(_problem(again, "already in the feed from the same source"))
    if problems:
        raise LabelFeedError("refused the labels: " + "; ".join(problems))
    return frame.reset_index(drop=True)
