"""Assemble everything one API process holds, start its background work and stop it.

:func:`build_runtime` loads the lineup the registry describes, opens the feature
store of the settings' profile, and wires the request path (:class:`Predictor`, with concurrent single
requests gathered by :class:`MicroBatcher`), the
lineup watcher, readiness, the served-feature log, shadow scoring and the metrics.
:meth:`ServingRuntime.start` starts the log writer, the registry poll and the canary
guard; :meth:`~ServingRuntime.close` stops them, finishes shadow work and flushes the
log (the API does it on shutdown, SIGTERM included).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from feature_repo.operations import open_feature_store
from serving.canary import CanaryLimits, LiveComparison
from serving.deployment_events import DeploymentEventLog
from serving.feature_log import ServedFeatureLog
from serving.lineup import Lineup, build_lineup, read_registry_view
from serving.metrics import ServingMetrics
from serving.micro_batch import ON_LOOP_ROWS, MicroBatcher
from serving.monitoring_gauges import MonitoringGaugesCollector
from serving.periodic import PeriodicTasks
from serving.predictor import Predictor
from serving.readiness import ReadinessProbe
from serving.shadow import ShadowRunner
from serving.watcher import LineupWatcher, freeze_heap
from skewless.errors import ModelNotFoundError
from skewless.registry import ModelRegistry
from skewless.settings import Settings

if TYPE_CHECKING:
    from feast import FeatureStore

__all__ = ["ServingRuntime", "build_runtime", "start_runtime"]

logger = logging.getLogger("skewless.serving")


@dataclass(frozen=True)
class ServingRuntime:
    """The API's collaborators (the routes reach them through ``serving.deps``)."""

    settings: Settings
    store: FeatureStore
    metrics: ServingMetrics
    log: ServedFeatureLog
    shadow: ShadowRunner
    comparison: LiveComparison
    watcher: LineupWatcher
    predictor: Predictor
    gatherer: MicroBatcher
    readiness: ReadinessProbe
    tasks: PeriodicTasks

    def start(self) -> None:
        """Start the log writer, the registry poll (unless ``reload_interval_s`` is 0), the canary guard."""
        self.log.start()
        if self.settings.reload_interval_s > 0:
            self.tasks.every(self.settings.reload_interval_s, self.watcher.poll, "model-watcher")
        self.tasks.every(self.settings.canary_check_interval_s, self.watcher.check_canary, "canary-guard")

    def close(self) -> None:
        """Stop the background threads, finish shadow work, and flush the served-feature log."""
        self.tasks.stop()
        self.shadow.close()
        self.log.close()
        self.watcher.deadline.close()
        self.metrics.close()


def build_runtime(settings: Settings, registry: ModelRegistry) -> ServingRuntime:
    """Load the lineup ``registry`` describes and wire the API's parts (not started).

    With no champion yet, the API starts without a lineup: not ready, answering 503 with the
    reason, until a poll of the registry finds one.

    Raises:
        RegistryUnavailableError: the registry cannot be read.
    """
    store = open_feature_store(settings)
    lineup: Lineup | None
    try:
        lineup = build_lineup(registry, store, settings, read_registry_view(registry, settings))
    except ModelNotFoundError as e:
        logger.warning(
            "starting not ready: %s; the registry is polled every %s s", e, settings.reload_interval_s
        )
        lineup = None
    metrics = ServingMetrics()
    metrics.add_collector(MonitoringGaugesCollector(settings.layout.monitoring_gauges))
    log = ServedFeatureLog(
        settings.layout.served_log_dir,
        flush_rows=settings.log_flush_rows,
        flush_seconds=settings.log_flush_seconds,
        queue_size=settings.log_queue_size,
        on_drop=metrics.log_dropped.inc,
        on_write_error=metrics.log_write_errors.inc,
        retry_rows=settings.log_retry_rows,
        on_buffered=metrics.log_buffered.set,
    )
    shadow = ShadowRunner(settings.shadow_queue_size, on_skip=metrics.shadow_skipped.inc)
    comparison = LiveComparison(CanaryLimits.from_settings(settings))
    events = DeploymentEventLog(settings.layout.deployment_events)
    watcher = LineupWatcher(settings, registry, store, lineup, metrics, comparison, log, events)

    current = watcher.current

    predictor = Predictor(current, settings.max_batch_size, metrics, log, comparison, shadow)
    return ServingRuntime(
        settings=settings,
        store=store,
        metrics=metrics,
        log=log,
        shadow=shadow,
        comparison=comparison,
        watcher=watcher,
        predictor=predictor,
        gatherer=MicroBatcher(
            predictor.predict,
            min(settings.gather_max_rows, settings.max_batch_size, ON_LOOP_ROWS),
            on_batch=metrics.gathered.observe,
        ),
        readiness=ReadinessProbe(
            store, current, settings.ready_requires_fresh_store, timeout_s=settings.online_store_timeout_s
        ),
        tasks=PeriodicTasks(),
    )


def start_runtime(settings: Settings, registry: ModelRegistry) -> ServingRuntime:
    """:func:`build_runtime`, started, with the start-up heap frozen (see ``freeze_heap``)."""
    runtime = build_runtime(settings, registry)
    runtime.start()
    freeze_heap()
    return runtime
