"""Readiness: the model is loaded and the online store answers (probed at most once a second)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from feature_repo.operations import read_online_features
from serving.lineup import Lineup
from serving.schemas import HealthResponse
from serving.scorer import WARM_UP_ROW
from skewless.errors import ModelNotFoundError, OnlineStoreError

if TYPE_CHECKING:
    from feast import FeatureStore

__all__ = ["ReadinessProbe"]


class ReadinessProbe:
    """Reads the champion's feature service for a probe transaction, at most every ``cache_s``."""

    def __init__(self, store: FeatureStore, current: Callable[[], Lineup], cache_s: float = 1.0) -> None:
        self.store = store
        self.current = current
        self.cache_s = cache_s
        self._last: tuple[float, bool, str | None] = (float("-inf"), False, None)

    def check(self) -> HealthResponse:
        """Ready when the online store answers a read of the champion's feature service."""
        checked_at, reachable, detail = self._last
        if time.monotonic() - checked_at > self.cache_s:
            probe = {**WARM_UP_ROW, "transaction_time": datetime.now(UTC)}
            try:
                read_online_features(self.store, self.current().champion.scorer.service, [probe])
                reachable, detail = True, None
            except OnlineStoreError as e:
                reachable, detail = False, str(e)
            except ModelNotFoundError as e:  # no champion yet: nothing to be ready with
                self._last = (float("-inf"), False, None)
                return HealthResponse(
                    status="unavailable", model_loaded=False, online_store="unknown", detail=str(e)
                )
            self._last = (time.monotonic(), reachable, detail)
        return HealthResponse(
            status="ok" if reachable else "unavailable",
            model_loaded=True,
            online_store="reachable" if reachable else "unreachable",
            detail=detail,
        )
