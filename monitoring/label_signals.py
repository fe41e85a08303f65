"""Early performance signals: what the labels known so far say, days after the traffic, not weeks.

Three signals per window of served answers, each with a 95% interval that stays inside
[0, 1] and the labels it rests on (``skewless.labels`` names the sources):

- **alert precision**: of the alerts the analysts have reviewed (``investigation``
  labels, known within a day), the share that were fraud. Analysts review the
  highest-scored alerts first, so when their capacity binds this is the precision of
  the top alerts, at least the precision of all of them: a fall is still a fall.
- **recall on known frauds**: of the frauds reported by a chargeback so far, the share
  the model had flagged. Chargebacks come whatever the model said, so this is the
  model's recall on an unbiased sample of frauds, available days after the traffic.
- **AUC at a matched label age**: each answer at least ``LABEL_AGE_DAYS`` old, counted
  as fraud when its chargeback arrived within that age and as legitimate otherwise,
  exactly as the model's holdout was cut at training (``training.evaluation``), so the
  live figure is compared like with like.

Each is judged against the model's own holdout figure: a **drop** when it is both
material (``max_drop`` below) and significant (more than ``z`` standard errors of the
difference, the live figure's and the holdout's own combined). Intervals: Wilson for
the two shares, and for the AUC the Hanley-McNeil error on the logit scale, transformed
back.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np

from monitoring.config import Clock, SignalRules
from monitoring.performance import auc_with_error
from monitoring.reference import ModelReference
from monitoring.windows import bucket_sql, served_rows_sql, window_bounds
from skewless.errors import ServedLogError
from skewless.labels import LABEL_AGE_DAYS, label_status_sql
from skewless.served_log import ServedColumn, has_log

__all__ = [
    "LabelSignals",
    "Signal",
    "auc_interval",
    "measure_signals",
    "signals_from_rows",
    "wilson_interval",
]

SignalStatus = Literal["ok", "drop", "insufficient"]


@dataclass(frozen=True)
class Signal:
    """One signal on one window: its value, 95% interval, sample and verdict against the holdout."""

    name: str
    value: float | None
    low: float | None
    high: float | None
    count: int  # the labels it rests on
    basis: str  # what those labels are
    reference: float | None  # the model's holdout figure
    status: SignalStatus
    reason: str = ""


@dataclass(frozen=True)
class LabelSignals:
    """The three early signals of one window."""

    start: str
    end: str
    answers: int
    precision: Signal
    recall: Signal
    auc_at_age: Signal

    @property
    def all(self) -> list[Signal]:
        return [self.precision, self.recall, self.auc_at_age]

    @property
    def dropped(self) -> list[Signal]:
        return [s for s in self.all if s.status == "drop"]

    @property
    def judged(self) -> bool:
        return any(s.status != "insufficient" for s in self.all)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a share: always inside [0, 1], sensible at 0 and at n."""
    if trials <= 0:
        return 0.0, 1.0
    share = successes / trials
    denominator = 1 + z**2 / trials
    centre = (share + z**2 / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z**2 / (4 * trials**2)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def auc_interval(auc: float, standard_error: float, z: float = 1.96) -> tuple[float, float]:
    """An AUC's interval on the logit scale, transformed back: inside (0, 1) whatever the error."""
    clipped = min(max(auc, 1e-6), 1 - 1e-6)
    logit = math.log(clipped / (1 - clipped))
    spread = z * standard_error / (clipped * (1 - clipped))
    return _sigmoid(logit - spread), _sigmoid(logit + spread)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    return math.exp(x) / (1 + math.exp(x))


def _judge(
    name: str, value: float | None, interval: tuple[float, float] | None, count: int, basis: str,
    reference: float | None, reference_error: float | None, minimum: int, rules: SignalRules,
) -> Signal:  # fmt: skip
    low, high = interval if interval else (None, None)
    if value is None or count < minimum:
        reason = f"{count} {basis}; judged from {minimum}"
        return Signal(name, value, low, high, count, basis, reference, "insufficient", reason)
    if reference is None:
        return Signal(name, value, low, high, count, basis, None, "ok", "no holdout figure to compare with")
    fall = reference - value
    # The live figure's error from its 95% interval, the holdout's from its own sample: a fall
    # counts only beyond both, or an unchanged model would alarm whenever its holdout was lucky.
    live_error = (high - low) / (2 * 1.96) if low is not None and high is not None else 0.0
    error = math.sqrt(live_error**2 + (reference_error or 0.0) ** 2)
    if fall > rules.max_drop and fall > rules.z * error:
        reason = (
            f"{name.replace('_', ' ')} {value:.3f} (95% {low:.3f}-{high:.3f}, {count} {basis}) "
            f"against {reference:.3f} on the training holdout (a fall of {fall:.3f}, "
            f"{fall / error if error else float('inf'):.1f} standard errors)"
        )
        return Signal(name, value, low, high, count, basis, reference, "drop", reason)
    return Signal(name, value, low, high, count, basis, reference, "ok")


def signals_from_rows(
    rows: np.ndarray, answers: int, start: datetime, end: datetime, as_of: datetime,
    reference: ModelReference, rules: SignalRules,
) -> LabelSignals:  # fmt: skip
    """The three signals of one window from its labelled rows.

    ``rows`` has one row per answer with a column each for: transaction age at ``as_of`` in
    days, score, flagged (0/1), investigation verdict (1, 0, or NaN when not reviewed by
    ``as_of``), chargeback delay in days (NaN when no chargeback has arrived by ``as_of``).
    """
    age, score, flagged, verdict, delay = (rows[:, i] for i in range(5)) if len(rows) else (np.zeros(0),) * 5
    reviewed = flagged.astype(bool) & ~np.isnan(verdict)
    frauds = int(verdict[reviewed].sum())
    precision = _judge(
        "alert_precision", frauds / reviewed.sum() if reviewed.any() else None,
        wilson_interval(frauds, int(reviewed.sum())) if reviewed.any() else None, int(reviewed.sum()),
        "reviewed alerts", reference.holdout_precision, reference.holdout_precision_se,
        rules.min_reviewed_alerts, rules,
    )  # fmt: skip
    reported = ~np.isnan(delay)
    caught = int(flagged[reported].sum())
    recall = _judge(
        "recall_on_known_frauds", caught / reported.sum() if reported.any() else None,
        wilson_interval(caught, int(reported.sum())) if reported.any() else None, int(reported.sum()),
        "frauds reported by chargeback", reference.holdout_recall, reference.holdout_recall_se,
        rules.min_known_frauds, rules,
    )  # fmt: skip
    old_enough = age >= LABEL_AGE_DAYS
    known = (reported & (delay <= LABEL_AGE_DAYS))[old_enough].astype(np.int64)
    measured = auc_with_error(known, score[old_enough])
    auc_value, interval = (measured[0], auc_interval(*measured)) if measured else (None, None)
    basis = f"frauds reported within {LABEL_AGE_DAYS} days"
    auc = _judge(
        "auc_at_label_age", auc_value, interval, int(known.sum()), basis,
        reference.holdout_auc_at_age, reference.holdout_auc_at_age_se, rules.min_known_frauds, rules,
    )  # fmt: skip
    return LabelSignals(start.isoformat(), end.isoformat(), answers, precision, recall, auc)


def measure_signals(
    folder: Path,
    label_files: list[Path],
    reference: ModelReference,
    start: datetime,
    end: datetime,
    as_of: datetime,
    rules: SignalRules,
    every: timedelta | None = None,
    clock: Clock = "served",
) -> tuple[LabelSignals, list[LabelSignals]]:
    """The early signals of the served answers of ``reference``'s version in ``[start, end)``, with
    the labels known at ``as_of``: the whole range and each window of ``every``.

    Raises:
        ServedLogError: the log or the labels cannot be read.
    """
    bounds = window_bounds(start, end, every)
    start, end, as_of = bounds[0][0], bounds[-1][1], as_of.astimezone(UTC)
    table: list[tuple[Any, ...]] = []
    totals: dict[int, int] = {}
    if has_log(folder):
        c = ServedColumn
        bucket = bucket_sql(start, bounds[0][1] - bounds[0][0], clock)
        columns = f"{bucket} AS bucket, {c.TRANSACTION_ID}, {c.TRANSACTION_TIME}, {c.SCORE}, {c.DECISION}"
        rows = served_rows_sql(folder, start, end, reference.version, columns, clock)
        served = f"{rows} AND {c.TRANSACTION_ID} IS NOT NULL"
        moment = f"CAST('{as_of.isoformat()}' AS TIMESTAMPTZ)"
        known = label_status_sql(label_files, as_of)
        query = (
            f"SELECT s.bucket, epoch({moment} - s.{c.TRANSACTION_TIME}) / 86400.0, s.{c.SCORE}, "
            f"s.{c.DECISION}::INT, "
            f"k.verdict, epoch(k.charged_at - s.{c.TRANSACTION_TIME}) / 86400.0 "
            f"FROM served s LEFT JOIN known k ON s.{c.TRANSACTION_ID} = CAST(k.transaction_id AS VARCHAR)"
        )
        try:
            with duckdb.connect() as connection:
                connection.execute("SET TimeZone = 'UTC'")
                connection.execute(f"CREATE TEMP VIEW served AS {served}")
                connection.execute(f"CREATE TEMP VIEW known AS {known}")
                table = connection.execute(query).fetchall()
        except duckdb.Error as e:
            raise ServedLogError(f"cannot join the served-feature log with the label feed: {e}") from e
        for row in table:
            totals[int(row[0])] = totals.get(int(row[0]), 0) + 1
    values = np.array(
        [[np.nan if v is None else v for v in row[1:]] for row in table], dtype=np.float64
    ).reshape(-1, 5)
    buckets = np.array([row[0] for row in table], dtype=np.int64)
    total = signals_from_rows(values, len(table), start, end, as_of, reference, rules)
    windows = [
        signals_from_rows(values[buckets == i], totals.get(i, 0), low, high, as_of, reference, rules)
        for i, (low, high) in enumerate(bounds)
    ]
    return total, windows
