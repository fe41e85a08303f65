"""Prometheus metrics of the API, on a registry of its own (one per app instance)."""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Sequence
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values

from skewless.errors import ConfigurationError
from skewless.modes import DeploymentMode

if TYPE_CHECKING:
    from serving.lineup import Lineup
    from serving.scorer import Scored

__all__ = ["ServingMetrics"]

LATENCY_BUCKETS = (0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
SCORE_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)


class ServingMetrics:
    """Every metric the API exports, counted in this object alone.

    Raises:
        ConfigurationError: ``prometheus_client`` is in multiprocess mode, where every metric
            of a name is one value in the whole process (see
            ``skewless.third_party.keep_metrics_in_process``): two APIs would count each
            other's requests.
    """

    def __init__(self) -> None:
        if values.ValueClass is not values.MutexValue:
            raise ConfigurationError(
                "prometheus_client was imported in multiprocess mode (PROMETHEUS_MULTIPROC_DIR="
                f"{os.environ.get('PROMETHEUS_MULTIPROC_DIR')!r}, which Feast sets when it is imported "
                "first): call skewless.third_party.keep_metrics_in_process() before importing Feast"
            )
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
        self.degraded = Counter(
            "skewless_degraded_predictions_total", "Predictions made with request-time features only.",
            registry=self.registry,
        )  # fmt: skip
        self.log_dropped = Counter(
            "skewless_served_log_dropped_total", "Served-feature log records dropped (queue full).",
            registry=self.registry,
        )  # fmt: skip
        self.log_write_errors = Counter(
            "skewless_served_log_write_errors_total", "Served-feature log records that failed to be written.",
            registry=self.registry,
        )  # fmt: skip
        self.reloads = Counter(
            "skewless_model_reloads_total", "Hot reloads of the served model.", registry=self.registry
        )
        self.reload_errors = Counter(
            "skewless_model_reload_errors_total", "Failed registry polls.", registry=self.registry
        )
        self.routed = Counter(
            "skewless_routed_predictions_total",
            "Answers by role: champion, canary (the challenger answered), shadow (scored, not returned).",
            ["role"],
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
        )
        self.deployment_mode = Gauge(
            "skewless_deployment_mode", "Deployment mode in force (value 1).", ["mode"],
            registry=self.registry,
        )  # fmt: skip
        self.canary_share = Gauge(
            "skewless_canary_share", "Share of customers the challenger answers (0 unless canary).",
            registry=self.registry,
        )  # fmt: skip
        self.model_info = Gauge(
            "skewless_model_info", "The served model (value 1).", ["model_name", "model_version", "alias"],
            registry=self.registry,
        )  # fmt: skip

    def count_answers(self, roles: Sequence[str], results: Sequence[Scored]) -> None:
        """Counters once per call, not per row (a batch of 100 is one update each)."""
        for role, count in Tally(roles).items():
            self.routed.labels(role).inc(count)
        reviews = sum(result.decision for result in results)
        if reviews:
            self.predictions.labels("review").inc(reviews)
        if len(results) > reviews:
            self.predictions.labels("approve").inc(len(results) - reviews)
        self.features_served.inc(sum(len(result.features) for result in results))
        self.features_missing.inc(sum(len(result.missing) for result in results))
        degraded = sum(result.degraded for result in results)
        if degraded:
            self.degraded.inc(degraded)

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
