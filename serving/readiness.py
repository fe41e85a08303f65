"""Readiness that tells the truth: a champion is loaded, and the online store answers and holds
fresh features (checked at most once a second).

Reachable is not enough: a Redis restarted empty answers every read with nothing, and
the API would score every request with most features missing. So the probe counts the
entities stored and finds each view's newest rows (``online_store_state``): an empty
store, or one whose newest rows of a view are older than the view's TTL (every read of
that view would be missing), is not ready, and the reason names the way back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from feature_repo.operations import online_store_state
from serving.lineup import Lineup
from serving.schemas import HealthResponse
from skewless.errors import ModelNotFoundError, OnlineStoreError

if TYPE_CHECKING:
    from feast import FeatureStore

__all__ = ["RESTORE_HINT", "ReadinessProbe"]

logger = logging.getLogger("skewless.serving")

RESTORE_HINT = "restore it with `skewless materialize --full`"


class ReadinessProbe:
    """Checks the champion and the online store, at most every ``cache_s``.

    Args:
        store: the feature store whose online store is checked.
        current: the lineup in force (raises ``ModelNotFoundError`` before the first champion).
        require_fresh: also fail when a view's newest rows are older than its TTL (wall clock).
        timeout_s: longest wait for the online store.
    """

    def __init__(
        self,
        store: FeatureStore,
        current: Callable[[], Lineup],
        require_fresh: bool = True,
        timeout_s: float = 1.0,
        cache_s: float = 1.0,
    ) -> None:
        self.store = store
        self.current = current
        self.require_fresh = require_fresh
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self.ttls: dict[str, timedelta] = {
            view.name: view.ttl for view in store.list_feature_views() if view.ttl
        }
        self._last: tuple[float, HealthResponse] | None = None

    def check(self) -> HealthResponse:
        """Ready when the champion is loaded and the online store is reachable, not empty and fresh."""
        try:
            self.current()
        except ModelNotFoundError as e:  # no champion yet: nothing to be ready with
            return HealthResponse(
                status="unavailable", model_loaded=False, online_store="unknown", detail=str(e)
            )
        if self._last is not None and time.monotonic() - self._last[0] <= self.cache_s:
            return self._last[1]
        health = self._probe()
        self._last = (time.monotonic(), health)
        return health

    def _probe(self) -> HealthResponse:
        try:
            state = online_store_state(self.store, self.timeout_s)
        except OnlineStoreError as e:
            logger.warning("readiness: %s", e)
            return HealthResponse(
                status="unavailable", model_loaded=True, online_store="unreachable", detail=e.public
            )
        if state.entities == 0:
            return HealthResponse(
                status="unavailable", model_loaded=True, online_store="empty",
                detail=f"the online store holds no features (restarted empty?): {RESTORE_HINT}",
            )  # fmt: skip
        if state.empty_primaries:
            return HealthResponse(
                status="unavailable", model_loaded=True, online_store="empty",
                detail=f"{state.empty_primaries} of the Redis Cluster's {state.primaries} primaries hold no "
                f"features (restarted empty?): the customers whose keys they own get none; {RESTORE_HINT}",
            )  # fmt: skip
        if self.require_fresh:
            now = datetime.now(UTC)
            stale = state.stale_views(self.ttls, now)
            if stale:
                ages = ", ".join(
                    f"{view} {(now - state.newest[view]).days} days (TTL {self.ttls[view].days})"
                    for view in stale
                )
                return HealthResponse(
                    status="unavailable", model_loaded=True, online_store="stale",
                    detail=f"the online store's newest rows are older than their TTL: {ages}; {RESTORE_HINT} "
                    "once the feature pipeline has caught up",
                )  # fmt: skip
        return HealthResponse(status="ok", model_loaded=True, online_store="reachable")
