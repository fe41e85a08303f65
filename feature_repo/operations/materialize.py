"""Load the latest feature values into the online store (SQLite or Redis)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from feast import FeatureStore

from feature_repo.operations.online import ONLINE_STORE_ERRORS
from skewless.errors import InvalidDateRangeError, OnlineStoreError

__all__ = ["MaterializeSummary", "materialize_features"]


@dataclass(frozen=True)
class MaterializeSummary:
    """What one materialization covered and how long it took."""

    start: datetime | None
    end: datetime
    feature_views: list[str]
    seconds: float


def longest_ttl(store: FeatureStore) -> timedelta:
    """The longest TTL of the repo's feature views: a materialization starting that far before its
    end loads every row a read can still use (what restores an emptied online store)."""
    return max((view.ttl or timedelta(0)) for view in store.list_feature_views())


def materialize_features(
    store: FeatureStore, end: datetime, start: datetime | None = None, views: Sequence[str] | None = None
) -> MaterializeSummary:
    """Materialize every online feature view up to ``end``.

    With ``start`` given, values with event time in ``[start, end)`` are loaded
    (``feast materialize``); without it, each view continues from where it last
    stopped, or from ``now - ttl`` the first time (``feast materialize-incremental``).
    ``views`` limits it to those feature views (default: every online one).

    Raises:
        InvalidDateRangeError: ``start`` is not before ``end``, or a time lacks a timezone.
        OnlineStoreError: the online store cannot be written.
    """
    if end.tzinfo is None or (start is not None and start.tzinfo is None):
        raise InvalidDateRangeError("materialize times must be timezone-aware (UTC)")
    if start is not None and start >= end:
        raise InvalidDateRangeError(f"bad date range: end {end} must be after start {start}")
    chosen = sorted(views or (view.name for view in store.list_feature_views() if view.online))
    started = time.perf_counter()
    try:
        if start is None:
            store.materialize_incremental(end_date=end, feature_views=chosen)
        else:
            store.materialize(start_date=start, end_date=end, feature_views=chosen)
    except ONLINE_STORE_ERRORS as e:
        raise OnlineStoreError(f"online store write failed: {type(e).__name__}: {e}") from e
    return MaterializeSummary(
        start=start, end=end, feature_views=chosen, seconds=time.perf_counter() - started
    )
