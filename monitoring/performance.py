"""Live performance from delayed labels: served predictions joined with labels as they arrive.

A label (``transaction_id``, ``is_fraud``, ``label_time``) counts only once its
``label_time`` has passed at ``as_of``, so a report run on a past date sees exactly
the labels known then. Fraud labels arrive 1-30 days after the transaction and
legitimate ones when the 30-day chargeback window closes, so young windows show
low coverage and are judged only once enough is known (see PerformanceRules).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
from scipy.stats import rankdata

from monitoring.config import Clock, PerformanceRules
from monitoring.reference import ModelReference
from monitoring.windows import bucket_sql, served_rows_sql, window_bounds
from skewless.auc import hanley_mcneil_error
from skewless.errors import ServedLogError
from skewless.served_log import ServedColumn, has_log

__all__ = ["WindowPerformance", "auc_with_error", "measure_performance", "measure_performance_range"]


@dataclass(frozen=True)
class WindowPerformance:
    """The served model's figures on one window's labelled predictions."""

    start: str
    end: str
    predictions: int
    labelled: int
    coverage: float
    positives: int
    flagged: int
    auc: float | None
    auc_standard_error: float | None
    precision: float | None  # at the decision threshold the API applied
    recall: float | None
    business_cost: float | None
    cost_per_1k: float | None
    reference_auc: float | None
    status: Literal["ok", "drop", "insufficient"]
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def auc_with_error(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float] | None:
    """ROC-AUC (Mann-Whitney, ties averaged) and its Hanley-McNeil error; None without both classes."""
    positives, negatives = int(labels.sum()), int(len(labels) - labels.sum())
    if positives == 0 or negatives == 0:
        return None
    ranks = rankdata(scores)
    auc = (ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    return float(auc), hanley_mcneil_error(float(auc), positives, negatives)


def _judge(
    start: datetime,
    end: datetime,
    predictions: int,
    rows: np.ndarray,
    reference: ModelReference,
    rules: PerformanceRules,
) -> WindowPerformance:
    labels = rows[:, 0].astype(np.int64) if len(rows) else np.zeros(0, np.int64)
    scores, decisions, amounts = (rows[:, i] if len(rows) else np.zeros(0) for i in (1, 2, 3))
    flagged = decisions > 0.5
    labelled, positives = len(labels), int(labels.sum())
    coverage = labelled / predictions if predictions else 0.0
    measured = auc_with_error(labels, scores)
    auc, error = measured if measured else (None, None)
    true_positives = int((flagged & (labels == 1)).sum())
    cost = None
    if labelled:
        missed = float(amounts[(labels == 1) & ~flagged].sum())
        cost = missed + reference.review_cost * int((flagged & (labels == 0)).sum())
    reasons: list[str] = []
    status: Literal["ok", "drop", "insufficient"] = "ok"
    if positives < rules.min_positives or coverage < rules.min_coverage or auc is None or error is None:
        status = "insufficient"
        reasons.append(
            f"{positives} labelled frauds and {coverage:.0%} label coverage; judged from "
            f"{rules.min_positives} frauds and {rules.min_coverage:.0%} coverage"
        )
    elif reference.holdout_auc is not None:
        drop = reference.holdout_auc - auc
        if drop > rules.max_auc_drop and auc + rules.z * error < reference.holdout_auc:
            status = "drop"
            reasons.append(
                f"AUC {auc:.3f} ± {error:.3f} against {reference.holdout_auc:.3f} on the training holdout "
                f"(a drop of {drop:.3f}, past {rules.max_auc_drop})"
            )
    return WindowPerformance(
        start=start.isoformat(),
        end=end.isoformat(),
        predictions=predictions,
        labelled=labelled,
        coverage=coverage,
        positives=positives,
        flagged=int(flagged.sum()),
        auc=auc,
        auc_standard_error=error,
        precision=true_positives / int(flagged.sum()) if flagged.any() else None,
        recall=true_positives / positives if positives else None,
        business_cost=cost,
        cost_per_1k=cost / labelled * 1_000 if cost is not None and labelled else None,
        reference_auc=reference.holdout_auc,
        status=status,
        reasons=reasons,
    )


def measure_performance(
    folder: Path,
    labels: Path,
    reference: ModelReference,
    start: datetime,
    end: datetime,
    as_of: datetime,
    rules: PerformanceRules,
    every: timedelta | None = None,
    model_version: int | None = None,
    clock: Clock = "served",
) -> list[WindowPerformance]:
    """Performance per window of served predictions in ``[start, end)``, with labels known at ``as_of``.

    Args:
        folder: the served-feature log folder.
        labels: parquet with ``transaction_id``, ``is_fraud`` and ``label_time``.
        reference: the model's reference (holdout AUC, review cost).
        start, end: the range, on ``clock`` (``served_at`` or ``transaction_time``).
        as_of: labels with ``label_time`` after this are not known yet.
        rules: when a window counts as a drop.
        every: split the range into windows of this length; None for one window.
        model_version: only this version's predictions (default: the reference's).
        clock: ``served`` or ``event`` (see ``monitoring.windows``).

    Raises:
        ServedLogError: the log or the labels cannot be read.
    """
    ranged = measure_performance_range(
        folder, labels, reference, start, end, as_of, rules, every, model_version, clock
    )
    return ranged[1]


def measure_performance_range(
    folder: Path,
    labels: Path,
    reference: ModelReference,
    start: datetime,
    end: datetime,
    as_of: datetime,
    rules: PerformanceRules,
    every: timedelta | None = None,
    model_version: int | None = None,
    clock: Clock = "served",
) -> tuple[WindowPerformance, list[WindowPerformance]]:
    """The whole range and each window, from one read of the log and the labels."""
    bounds = window_bounds(start, end, every)
    start, end, as_of = bounds[0][0], bounds[-1][1], as_of.astimezone(UTC)
    version = reference.version if model_version is None else model_version
    totals: dict[int, int] = {}
    joined: list[tuple[Any, ...]] = []
    if has_log(folder):
        bucket = bucket_sql(start, bounds[0][1] - bounds[0][0], clock)
        c = ServedColumn
        columns = f"{bucket} AS bucket, {c.TRANSACTION_ID}, {c.SCORE}, {c.DECISION}, {c.AMOUNT}"
        rows = served_rows_sql(folder, start, end, version, columns, clock)
        served = f"{rows} AND {c.TRANSACTION_ID} IS NOT NULL"
        known = f"l.label_time <= CAST('{as_of.isoformat()}' AS TIMESTAMPTZ)"
        try:
            with duckdb.connect() as connection:
                connection.execute("SET TimeZone = 'UTC'")
                connection.execute(f"CREATE TEMP VIEW served_rows AS {served}")
                counted = connection.execute(
                    "SELECT bucket, count(*) FROM served_rows GROUP BY bucket"
                ).fetchall()
                totals = {int(bucket): int(count) for bucket, count in counted}
                if labels.exists():
                    joined = connection.execute(
                        f"SELECT s.bucket, l.is_fraud, s.{c.SCORE}, s.{c.DECISION}::INT, s.{c.AMOUNT} "
                        f"FROM served_rows s JOIN read_parquet('{labels}') l "
                        f"ON s.{c.TRANSACTION_ID} = CAST(l.transaction_id AS VARCHAR) WHERE {known}"
                    ).fetchall()
        except duckdb.Error as e:
            raise ServedLogError(f"cannot join the served-feature log with the labels: {e}") from e
    table = np.array([row[1:] for row in joined], dtype=np.float64).reshape(-1, 4)
    buckets = np.array([row[0] for row in joined], dtype=np.int64)
    total = _judge(start, end, sum(totals.values()), table, reference, rules)
    windows = [
        _judge(low, high, totals.get(index, 0), table[buckets == index], reference, rules)
        for index, (low, high) in enumerate(bounds)
    ]
    return total, windows
