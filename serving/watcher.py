"""The lineup in force, and every change to it: reload, deployment, automatic canary rollback.

The registry is the shared state. :meth:`LineupWatcher.reload` rebuilds the lineup
when an alias, the deployment tag or a rollback tag moved (the API polls it every
``reload_interval_s``); :meth:`~LineupWatcher.set_deployment` records an admin's
deployment in the registry and applies it here at once; :meth:`~LineupWatcher.check_canary`
judges the canary and rolls it back, recording why on the version so that no worker or
restart puts it back. One change at a time (a lock); a swap is one reference assignment.

With no champion in the registry yet, the API starts with no lineup: it is not ready,
answers 503 saying so, and takes the champion at the first poll that finds one.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from serving.canary import CanaryVerdict, LiveComparison
from serving.deployment_events import DeploymentEventLog
from serving.feature_log import ServedFeatureLog
from serving.lineup import Lineup, build_lineup, read_registry_view
from serving.metrics import ServingMetrics
from serving.registry_deadline import RegistryDeadline
from skewless.errors import ModelNotFoundError, RegistryUnavailableError
from skewless.modes import DeploymentMode
from skewless.registry import Deployment, ModelRegistry
from skewless.served_log import log_schema
from skewless.settings import Settings

if TYPE_CHECKING:
    from feast import FeatureStore

__all__ = ["MAX_POLL_BACKOFF_S", "LineupWatcher", "ReloadResult", "freeze_heap"]

logger = logging.getLogger("skewless.serving")
MAX_POLL_BACKOFF_S = 300.0


@dataclass(frozen=True)
class ReloadResult:
    """What a reload check found (champion versions before and after)."""

    changed: bool
    from_version: int
    to_version: int
    challenger_version: int | None
    mode: DeploymentMode


def freeze_heap(collect: bool = True) -> None:
    """Put every object alive now out of the garbage collector's reach (``gc.freeze``).

    Feast, MLflow and the models leave about 400,000 tracked objects, and a full
    collection walks them all: about 230 ms during which no request is answered,
    which was the API's p99. Frozen, they are never walked again (a collection then
    takes microseconds). At start-up the heap is collected first; after a hot reload
    it is only frozen, so that a reload pauses no request.
    """
    import gc

    if collect:
        gc.collect()
    gc.freeze()


class LineupWatcher:
    """Holds the lineup in force and changes it, one change at a time."""

    def __init__(
        self,
        settings: Settings,
        registry: ModelRegistry,
        store: FeatureStore,
        lineup: Lineup | None,
        metrics: ServingMetrics,
        comparison: LiveComparison,
        log: ServedFeatureLog,
        events: DeploymentEventLog,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.store = store
        self.lineup = lineup
        self.metrics = metrics
        self.comparison = comparison
        self.log = log
        self.events = events
        self._lock = threading.Lock()
        self.deadline = RegistryDeadline(
            settings.registry_timeout_s, on_timeout=metrics.registry_timeouts.inc
        )
        self._failed_polls = 0
        self._next_poll = 0.0
        log.schema = log_schema(model.encoding for model in (lineup.models if lineup else []))
        if lineup is not None:
            metrics.publish_lineup(None, lineup)

    def current(self) -> Lineup:
        """The lineup in force.

        Raises:
            ModelNotFoundError: no champion has been found yet (the API is not ready).
        """
        lineup = self.lineup
        if lineup is None:
            raise ModelNotFoundError(
                f"no champion of '{self.registry.model_name}' yet: the API answers once one is promoted "
                "(it polls the registry)"
            )
        return lineup

    def reload(self) -> ReloadResult:
        """Rebuild the lineup if the registry moved (an alias, the deployment, a rollback tag).

        Raises:
            ModelNotFoundError: the champion alias is gone (the current lineup stays).
            RegistryUnavailableError: the registry cannot be read.
        """
        # The registry is read outside the lock: a hung read never holds up an admin call.
        view = self.deadline.call(read_registry_view, self.registry, self.settings)
        with self._lock:
            current = self.lineup
            lineup = (
                current
                if current is not None and current.matches(view)
                else build_lineup(self.registry, self.store, self.settings, view, current)
            )
            if lineup is not current:
                self._swap(current, lineup, "registry changed" if current else "first champion found")
            return ReloadResult(
                lineup is not current,
                current.champion.model.version if current else 0,
                lineup.champion.model.version,
                lineup.challenger_version,
                lineup.mode,
            )

    def set_deployment(self, mode: DeploymentMode, canary_share: float) -> Lineup:
        """Record a deployment in the registry (every worker follows) and apply it here now.

        Raises:
            DeploymentRefusedError: shadow or canary without a usable challenger.
            RegistryUnavailableError: the registry cannot be read or written.
        """
        self.current()  # no champion: nothing to deploy
        # The registry outside the lock, each call bounded: a hung registry fails this in time.
        requested = self.deadline.call(
            self.registry.request_deployment, mode, canary_share, "set by an admin"
        )
        view = replace(
            self.deadline.call(read_registry_view, self.registry, self.settings), requested=requested
        )
        with self._lock:
            current = self.current()
            lineup = build_lineup(self.registry, self.store, self.settings, view, current)
            self._swap(current, lineup, "set by an admin")
            return lineup

    def check_canary(self) -> CanaryVerdict:
        """Judge the challenger now; roll the canary back if it departed."""
        lineup = self.lineup
        verdict = self.comparison.verdict()
        if verdict.score_ks is not None:
            self.metrics.canary_score_ks.set(verdict.score_ks)
        if lineup is not None and lineup.mode is DeploymentMode.CANARY and verdict.departed:
            self._roll_back_canary(lineup, verdict)
        return verdict

    def poll(self) -> None:
        """One registry poll: a failure is counted, never raised. After failures in a row the polls
        back off (twice the wait each time, up to ``MAX_POLL_BACKOFF_S``) and resume at the normal
        interval once the registry answers."""
        now = time.monotonic()
        if now < self._next_poll:
            return
        try:
            self.reload()
        except ModelNotFoundError:
            if self.lineup is not None:  # the champion alias vanished under a serving API
                self.metrics.reload_errors.inc()
        except Exception as e:
            self.metrics.reload_errors.inc()
            self._failed_polls += 1
            wait = min(self.settings.reload_interval_s * 2**self._failed_polls, MAX_POLL_BACKOFF_S)
            self._next_poll = time.monotonic() + wait
            logger.warning(
                "registry poll failed (%d in a row; next in %.0f s): %s", self._failed_polls, wait, e
            )
            return
        if self._failed_polls:
            logger.warning("registry poll recovered after %d failures", self._failed_polls)
        self._failed_polls, self._next_poll = 0, 0.0

    def _roll_back_canary(self, lineup: Lineup, verdict: CanaryVerdict) -> None:
        with self._lock:
            if self.lineup is not lineup or lineup.challenger is None:
                return  # the lineup changed meanwhile; the new one is judged afresh
            version = lineup.challenger.model.version
            reason = f"automatic canary rollback of v{version}: {'; '.join(verdict.reasons)}"
            requested = Deployment(DeploymentMode.SINGLE, lineup.requested.canary_share, reason)
            self._swap(lineup, replace(lineup, requested=requested, mode=DeploymentMode.SINGLE), reason)
            self.metrics.canary_rollbacks.inc()
            self.events.append(
                "canary_rollback",
                logging.WARNING,
                model=lineup.champion.model.name,
                challenger_version=version,
                champion_version=lineup.champion.model.version,
                reasons=verdict.reasons,
                figures=verdict.figures(),
            )
            try:  # every worker and every restart follows the registry
                self.deadline.call(
                    self.registry.record_canary_rollback, version, verdict.reasons, verdict.figures()
                )
                self.deadline.call(self.registry.write_deployment, requested)
            except RegistryUnavailableError as e:
                self.events.append("registry_write_failed", logging.ERROR, error=str(e))

    def _swap(self, before: Lineup | None, after: Lineup, why: str) -> None:
        self.lineup = after
        self.log.schema = log_schema(model.encoding for model in after.models)
        if (
            before is None
            or before.mode is not after.mode
            or before.challenger_version != after.challenger_version
        ):
            self.comparison.reset()
        if before is None or before.champion.model.version != after.champion.model.version:
            self.metrics.reloads.inc()
        freeze_heap(collect=False)
        self.metrics.publish_lineup(before, after)
        self.events.append(
            "deployment",
            why=why,
            mode=after.mode.value,
            requested=after.requested.mode.value,
            canary_share=after.requested.canary_share,
            champion_version=after.champion.model.version,
            challenger_version=after.challenger_version,
            note=after.note,
        )
