"""Training-serving skew: what the API logged against what training would have read.

For a sample of served requests, the features the API logged are compared with what
``get_historical_features`` gives for the same entities, request fields and time,
which is exactly how training builds its rows. Any difference is skew: an online
store materialized from other data, a transform that differs between the online
and the offline path, a push that never reached the offline store. Requests scored
degraded (online store down) are left out and counted, since their features were
missing by design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import numpy as np
import pandas as pd

from monitoring.config import Clock
from monitoring.windows import served_rows_sql
from skewless.contract import CUSTOMER_KEY, MERCHANT_KEY, REQUEST_FIELDS
from skewless.errors import ServedLogError
from skewless.served_log import ServedColumn, has_log

if TYPE_CHECKING:
    from feast import FeatureStore

__all__ = ["FeatureSkew", "SkewReport", "check_skew"]

RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9
EXAMPLES = 3


@dataclass(frozen=True)
class FeatureSkew:
    """Mismatches of one feature over the sample."""

    name: str
    mismatches: int
    examples: list[dict[str, Any]] = field(default_factory=list)  # request id, served, offline


@dataclass(frozen=True)
class SkewReport:
    """The skew check over one sample of served requests."""

    status: Literal["ok", "skew", "insufficient"]
    sampled: int
    degraded_skipped: int
    mismatched_rows: int
    features: list[FeatureSkew]

    @property
    def skewed(self) -> list[str]:
        return [f.name for f in self.features if f.mismatches]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"skewed": self.skewed}


def _equal(served: pd.Series, offline: pd.Series, categorical: bool) -> np.ndarray:
    both_missing = served.isna().to_numpy() & offline.isna().to_numpy()
    one_missing = served.isna().to_numpy() ^ offline.isna().to_numpy()
    if categorical:
        same = served.astype(str).to_numpy() == offline.astype(str).to_numpy()
    else:
        a = pd.to_numeric(served, errors="coerce").to_numpy(dtype=np.float64)
        b = pd.to_numeric(offline, errors="coerce").to_numpy(dtype=np.float64)
        same = np.isclose(a, b, rtol=RELATIVE_TOLERANCE, atol=ABSOLUTE_TOLERANCE)
    equal: np.ndarray = both_missing | (~one_missing & same)
    return equal


def _sample(
    folder: Path, start: datetime, end: datetime, size: int, model_version: int, seed: int, clock: Clock
) -> pd.DataFrame:
    sample_clause = f"USING SAMPLE reservoir({int(size)} ROWS) REPEATABLE ({int(seed)})"
    # The sample must be drawn from the window's rows: attached to the scan directly,
    # DuckDB samples the whole log first and filters after (a day in a month kept 1/30).
    sql = f"SELECT * FROM ({served_rows_sql(folder, start, end, model_version, clock=clock)}) {sample_clause}"
    try:
        with duckdb.connect() as connection:
            connection.execute("SET TimeZone = 'UTC'")
            sampled: pd.DataFrame = connection.execute(sql).df()
            return sampled
    except duckdb.Error as e:
        raise ServedLogError(f"cannot sample the served-feature log in {folder}: {e}") from e


def check_skew(
    store: FeatureStore,
    folder: Path,
    feature_service: str,
    features: Sequence[str],
    categorical: Sequence[str],
    start: datetime,
    end: datetime,
    model_version: int,
    sample: int,
    seed: int = 0,
    clock: Clock = "served",
) -> SkewReport:
    """Compare a sample of served rows of ``model_version`` in ``[start, end)`` with offline retrieval."""
    from feature_repo.operations import historical_features  # Feast: seconds to import; only here

    if sample <= 0 or not has_log(folder):
        return SkewReport("insufficient", 0, 0, 0, [])
    rows = _sample(folder, start.astimezone(UTC), end.astimezone(UTC), sample, model_version, seed, clock)
    degraded = int(rows[ServedColumn.DEGRADED].sum()) if len(rows) else 0
    rows = rows[~rows[ServedColumn.DEGRADED].astype(bool)].reset_index(drop=True) if len(rows) else rows
    if rows.empty:
        return SkewReport("insufficient", 0, degraded, 0, [])
    request_id, at = ServedColumn.REQUEST_ID, ServedColumn.TRANSACTION_TIME
    requests = rows[[request_id, CUSTOMER_KEY, MERCHANT_KEY, *REQUEST_FIELDS]].copy()
    requests[at] = pd.to_datetime(requests[at], utc=True)
    offline = historical_features(store, feature_service, requests).set_index(request_id)
    served = rows.set_index(request_id).loc[offline.index]
    mismatched = np.zeros(len(offline), dtype=bool)
    results = []
    for name in features:
        if name not in served.columns:
            results.append(FeatureSkew(name, len(offline), [{"reason": "not in the served-feature log"}]))
            mismatched[:] = True
            continue
        equal = _equal(served[name], offline[name], name in categorical)
        mismatched |= ~equal
        examples = [
            {
                "request_id": str(rid),
                "served": _plain(served.at[rid, name]),
                "offline": _plain(offline.at[rid, name]),
            }
            for rid in offline.index[~equal][:EXAMPLES]
        ]
        results.append(FeatureSkew(name, int((~equal).sum()), examples))
    status: Literal["ok", "skew", "insufficient"] = "skew" if mismatched.any() else "ok"
    return SkewReport(status, len(offline), degraded, int(mismatched.sum()), results)


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, (int, float, str, bool)) else str(value)
