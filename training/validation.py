"""Data validation before fitting: every check runs, every failure is named.

Checks: the schema matches the FeatureService (every feature present, strings for
categorical features, numbers otherwise); null rates and value ranges within the
declared bounds below; no duplicate entity-timestamp rows; a sane label rate; each
split has both classes; and no feature state is dated after its row's timestamp.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import pandas as pd
from pandas.api.types import is_numeric_dtype

from skewless.contract import CUSTOMER_KEY, EVENT_TIMESTAMP
from skewless.errors import DataValidationError
from training.config import ValidationRules
from training.dataset import LABEL, SPLITS, TrainingSet

__all__ = ["Check", "ValidationReport", "validate_training_set"]


@dataclass(frozen=True)
class Check:
    """One check's name, verdict and what it saw."""

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ValidationReport:
    """All checks of one training set."""

    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def to_json(self) -> str:
        return json.dumps({"passed": self.passed, "checks": [asdict(c) for c in self.checks]}, indent=2)

    def raise_for_failures(self) -> None:
        """Raise one error naming every failing check."""
        if self.failures:
            named = "; ".join(f"{c.name}: {c.detail}" for c in self.failures)
            raise DataValidationError(f"training set failed {len(self.failures)} check(s): {named}")


def _schema(ts: TrainingSet) -> list[Check]:
    missing = [name for name in ts.features if name not in ts.frame.columns]
    checks = [
        Check("schema: features present", not missing, f"missing {missing}" if missing else "all present")
    ]
    wrong = [
        name
        for name in ts.features
        if name in ts.frame.columns
        and (name in ts.categorical) == is_numeric_dtype(ts.frame[name])
        and not ts.frame[name].isna().all()
    ]
    checks.append(
        Check("schema: dtypes", not wrong, f"unexpected dtype for {wrong}" if wrong else "as declared")
    )
    return checks


def _nulls(ts: TrainingSet, rules: ValidationRules) -> list[Check]:
    checks = []
    for name in ts.features:
        if name not in ts.frame.columns:
            continue
        rate = ts.unsampled_mean(ts.frame[name].isna())  # as if no legitimate train row were left out
        limit = rules.null_rate_overrides.get(name, rules.max_null_rate)
        checks.append(Check(f"null rate: {name}", rate <= limit, f"{rate:.2%} (limit {limit:.0%})"))
    return checks


def _ranges(ts: TrainingSet, rules: ValidationRules) -> list[Check]:
    checks = []
    for name, (low, high) in rules.ranges.items():
        if name not in ts.frame.columns:
            continue
        values = ts.frame[name].dropna()
        below = int((values < low).sum()) if low is not None else 0
        above = int((values > high).sum()) if high is not None else 0
        detail = f"{below} below {low}, {above} above {high}" if below or above else f"within [{low}, {high}]"
        checks.append(Check(f"range: {name}", not (below or above), detail))
    counts = [
        c for c in ts.features if c.startswith(("txn_count", "merchant_txn_count")) and c in ts.frame.columns
    ]
    negative = [c for c in counts if (ts.frame[c].dropna() < 0).any()]
    checks.append(
        Check("range: counts non-negative", not negative, f"negative in {negative}" if negative else "ok")
    )
    return checks


def _rows(ts: TrainingSet, rules: ValidationRules) -> list[Check]:
    frame = ts.frame
    duplicated = int(frame.duplicated([CUSTOMER_KEY, EVENT_TIMESTAMP]).sum())
    checks = [Check("rows: no duplicate entity-timestamp", duplicated == 0, f"{duplicated} duplicated")]
    rate = ts.unsampled_mean(frame[LABEL])  # as if no legitimate train row were left out
    sane = rules.min_label_rate <= rate <= rules.max_label_rate
    bounds = f"(bounds {rules.min_label_rate:.1%}..{rules.max_label_rate:.0%})"
    sampled = (
        f", legitimate train rows sampled at {ts.legit_sample_rate:g}" if ts.legit_sample_rate < 1 else ""
    )
    checks.append(Check("label rate", sane, f"{rate:.3%} {bounds}{sampled}"))
    for split in SPLITS:
        classes = set(frame.loc[frame["split"] == split, LABEL].unique())
        checks.append(Check(f"split {split}: both classes", classes == {0, 1}, f"classes {sorted(classes)}"))
    return checks


def _point_in_time(ts: TrainingSet) -> list[Check]:
    checks = []
    # Activity must be from before the row's state time (1 µs before the transaction); an account
    # may open at the transaction's very instant (its profile is valid from then, online too).
    for column, reference in (("last_txn_time", EVENT_TIMESTAMP), ("account_open_time", "transaction_time")):
        if column not in ts.frame.columns or reference not in ts.frame.columns:
            continue
        stamped = pd.to_datetime(ts.frame[column], utc=True)
        late = int((stamped > pd.to_datetime(ts.frame[reference], utc=True)).sum())
        checks.append(
            Check(f"point in time: {column} <= {reference}", late == 0, f"{late} rows from the future")
        )
    return checks


def validate_training_set(ts: TrainingSet, rules: ValidationRules | None = None) -> ValidationReport:
    """Run every check on ``ts``; the caller decides whether to stop (``raise_for_failures``)."""
    rules = rules or ValidationRules()
    checks = [*_schema(ts), *_nulls(ts, rules), *_ranges(ts, rules), *_rows(ts, rules), *_point_in_time(ts)]
    return ValidationReport(checks)
