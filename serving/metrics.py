"""Prometheus metrics of the API, on a registry of its own (one per app instance)."""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.registry import Collector

from skewless.errors import ConfigurationError
from skewless.modes import DeploymentMode

if TYPE_CHECKING:
    from serving.lineup import Lineup
    from serving.scorer import Scored

__all__ = ["ServingMetrics"]

LATENCY_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
MISSING_WINDOW_ROWS = 1_000
GATHER_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
SCORE_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


class ServingMetrics:
    """Every metric the API exports, counted in this object alone (one process), or summed over the
    worker processes of one server in ``prometheus_client``'s multiprocess mode.

    ``skewless serve --workers N`` (N > 1) points ``PROMETHEUS_MULTIPROC_DIR`` at a fresh folder
    of its own before the workers start: each worker writes its values there, and any worker's
    ``/metrics`` sums them, so successive scrapes of a counter never go down.

    Raises:
        ConfigurationError: ``prometheus_client`` is in multiprocess mode on Feast's folder (Feast
            sets one when imported first; see ``skewless.third_party.keep_metrics_in_process``):
            two APIs in one process would count each other's requests.
    """

    def __init__(self) -> None:
        self.multiprocess_dir: Path | None = None
        if values.ValueClass is not values.MutexValue:
            folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
            if not folder or Path(folder).name.startswith("feast_metrics_"):
                raise ConfigurationError(
                    "prometheus_client was imported in multiprocess mode (PROMETHEUS_MULTIPROC_DIR="
                    f"{folder!r}, which Feast sets when it is imported first): call "
                    "skewless.third_party.keep_metrics_in_process() before importing Feast"
                )
            self.multiprocess_dir = Path(folder)
        self._collectors: list[Collector] = []
        self.registry = CollectorRegistry()
        self.request_latency = Histogram(
            "skewless_request_duration_seconds",
            "Request latency by endpoint and status code.",
            ["endpoint", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.score = Histogram(
            "skewless_prediction_score",
            "Fraud probability by model version and role (champion, canary, shadow).",
            ["model_version", "role"],
            buckets=SCORE_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "skewless_predictions_total", "Predictions by decision.", ["decision"], registry=self.registry
        )
        self.features_served = Counter(
            "skewless_features_served_total", "Feature values served to the model.", registry=self.registry
        )
        self.features_missing = Counter(
            "skewless_features_missing_total",
            "Feature values missing from the online store.",
            registry=self.registry,
        )
        self.online_store_errors = Counter(
            "skewless_online_store_errors_total", "Failed online-store reads.", registry=self.registry
        )
        self.online_store_timeouts = Counter(
            "skewless_online_store_timeouts_total", "Online-store reads that timed out (also errors).",
            registry=self.registry,
        )  # fmt: skip
        self.missing_share = Gauge(
            "skewless_missing_feature_share",
            f"Share of feature values missing in the last {MISSING_WINDOW_ROWS:,} answers (0..1).",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self._missing_window: deque[tuple[int, int, int]] = deque()  # rows, served, missing per call
        self._missing_totals = [0, 0, 0]
        self.degraded = Counter(
            "skewless_degraded_predictions_total", "Predictions made with request-time features only.",
            registry=self.registry,
        )  # fmt: skip
        self.log_dropped = Counter(
            "skewless_served_log_dropped_total", "Served-log rows dropped (queue or retry buffer full).",
            registry=self.registry,
        )  # fmt: skip
        self.log_write_errors = Counter(
            "skewless_served_log_write_errors_total", "Served-log rows whose write failed (kept for retry).",
            registry=self.registry,
        )  # fmt: skip
        self.reloads = Counter(
            "skewless_model_reloads_total", "Hot reloads of the served model.", registry=self.registry
        )
        self.reload_errors = Counter(
            "skewless_model_reload_errors_total", "Failed registry polls.", registry=self.registry
        )
        self.registry_timeouts = Counter(
            "skewless_registry_timeouts_total", "Registry calls that timed out (polls, admin calls).",
            registry=self.registry,
        )  # fmt: skip
        self.log_buffered = Gauge(
            "skewless_served_log_buffered_rows", "Served-log rows kept for retry after a failed write.",
            registry=self.registry, multiprocess_mode="livesum",
        )  # fmt: skip
        self.routed = Counter(
            "skewless_routed_predictions_total",
            "Answers by role: champion, canary (the challenger answered), shadow (scored, not returned).",
            ["role"],
            registry=self.registry,
        )
        self.gathered = Histogram(
            "skewless_predict_gather_rows",
            "Single /predict requests scored together in one online read and model call.",
            buckets=GATHER_BUCKETS,
            registry=self.registry,
        )
        self.challenger_errors = Counter(
            "skewless_challenger_errors_total",
            "Challenger scoring failures (canary rows then answered by the champion; shadow rows lost).",
            registry=self.registry,
        )
        self.shadow_skipped = Counter(
            "skewless_shadow_skipped_total", "Requests not shadowed because the backlog was full.",
            registry=self.registry,
        )  # fmt: skip
        self.canary_rollbacks = Counter(
            "skewless_canary_rollbacks_total", "Automatic canary rollbacks.", registry=self.registry
        )
        self.canary_score_ks = Gauge(
            "skewless_canary_score_ks",
            "KS distance between the challenger's and the champion's recent scores (shadow or canary).",
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.deployment_mode = Gauge(
            "skewless_deployment_mode", "Deployment mode in force (value 1).", ["mode"],
            registry=self.registry, multiprocess_mode="livemax",
        )  # fmt: skip
        self.canary_share = Gauge(
            "skewless_canary_share", "Share of customers the challenger answers (0 unless canary).",
            registry=self.registry, multiprocess_mode="livemax",
        )  # fmt: skip
        self.model_info = Gauge(
            "skewless_model_info", "The served model (value 1).", ["model_name", "model_version", "alias"],
            registry=self.registry, multiprocess_mode="livemax",
        )  # fmt: skip

    def add_collector(self, collector: Collector) -> None:
        """Export ``collector``'s metrics too (read by this process at each scrape, not summed)."""
        self.registry.register(collector)
        self._collectors.append(collector)

    def exposition(self) -> bytes:
        """The text ``/metrics`` answers: this process's metrics, or every worker's summed."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        for collector in self._collectors:
            registry.register(collector)
        return generate_latest(registry)

    def close(self) -> None:
        """In multiprocess mode, drop this process's live gauges from the sums."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]

    def count_answers(self, roles: Sequence[str], results: Sequence[Scored]) -> None:
        """Counters once per call, not per row (a batch of 100 is one update each)."""
        for role, count in Tally(roles).items():
            self.routed.labels(role).inc(count)
        reviews = sum(result.decision for result in results)
        if reviews:
            self.predictions.labels("review").inc(reviews)
        if len(results) > reviews:
            self.predictions.labels("approve").inc(len(results) - reviews)
        served = sum(len(result.features) for result in results)
        missing = sum(len(result.missing) for result in results)
        self.features_served.inc(served)
        self.features_missing.inc(missing)
        self._track_missing(len(results), served, missing)
        degraded = sum(result.degraded for result in results)
        if degraded:
            self.degraded.inc(degraded)

    def _track_missing(self, rows: int, served: int, missing: int) -> None:
        """The missing share over about the last ``MISSING_WINDOW_ROWS`` answers (whole calls)."""
        window, totals = self._missing_window, self._missing_totals
        window.append((rows, served, missing))
        totals[0] += rows
        totals[1] += served
        totals[2] += missing
        while len(window) > 1 and totals[0] - window[0][0] >= MISSING_WINDOW_ROWS:
            old_rows, old_served, old_missing = window.popleft()
            totals[0] -= old_rows
            totals[1] -= old_served
            totals[2] -= old_missing
        self.missing_share.set(totals[2] / totals[1] if totals[1] else 0.0)

    def publish_lineup(self, before: Lineup | None, after: Lineup) -> None:
        """Model info, deployment mode and canary share of the lineup now in force."""
        if before is not None:
            for model in before.models:
                self.model_info.labels(model.name, str(model.version), model.alias or "").set(0)
        for model in after.models:
            self.model_info.labels(model.name, str(model.version), model.alias or "").set(1)
        for mode in DeploymentMode:
            self.deployment_mode.labels(mode.value).set(1 if mode is after.mode else 0)
        canary = after.mode is DeploymentMode.CANARY
        self.canary_share.set(after.requested.canary_share if canary else 0.0)
