"""The report's figures as Prometheus gauges, in the text exposition format.

``skewless monitor report`` writes ``data/monitoring/metrics.prom``. The API's
``/metrics`` re-exports that file (so Prometheus scraping the API sees drift next
to latency), and node_exporter's textfile collector can read it as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from monitoring.drift import FeatureDrift
from monitoring.report import MonitoringReport

__all__ = ["GAUGE_NAMES", "write_gauges"]

VERDICTS = ("ok", "drift", "insufficient")
GAUGE_NAMES = (
    "skewless_drift_dataset",
    "skewless_drift_verdict",
    "skewless_drift_features_drifted",
    "skewless_drift_share_drifted",
    "skewless_drift_window_rows",
    "skewless_drift_feature_flagged",
    "skewless_drift_feature_psi",
    "skewless_drift_feature_js_distance",
    "skewless_drift_feature_ks_distance",
    "skewless_drift_feature_null_rate",
    "skewless_drift_score_ks_distance",
    "skewless_drift_score_psi",
    "skewless_performance_auc",
    "skewless_performance_label_coverage",
    "skewless_performance_precision",
    "skewless_performance_cost_per_1k",
    "skewless_performance_drop",
    "skewless_skew_mismatched_rows",
    "skewless_monitor_report_timestamp_seconds",
)


def write_gauges(report: MonitoringReport, path: Path, generated_at: float) -> Path:
    """Write the report's gauges to ``path`` (atomically, as write_to_textfile does)."""
    registry = CollectorRegistry()
    labels = ["model_name", "model_version"]
    model = {"model_name": report.model_name, "model_version": str(report.model_version)}

    def gauge(name: str, help_text: str, extra: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, help_text, [*labels, *extra], registry=registry)

    drift = report.drift
    gauge("skewless_drift_dataset", "1 when the last window raised dataset drift").labels(**model).set(
        float(drift.verdict == "drift")
    )
    verdict = gauge("skewless_drift_verdict", "The last window's verdict (one-hot)", ("verdict",))
    for name in VERDICTS:
        verdict.labels(**model, verdict=name).set(float(drift.verdict == name))
    gauge("skewless_drift_features_drifted", "Features flagged in the last window").labels(**model).set(
        len(drift.drifted)
    )
    gauge("skewless_drift_share_drifted", "Share of judged features flagged").labels(**model).set(
        drift.share_drifted
    )
    gauge("skewless_drift_window_rows", "Served rows in the last window").labels(**model).set(drift.rows)
    per_feature: dict[str, tuple[str, Callable[[FeatureDrift], float | None]]] = {
        "skewless_drift_feature_flagged": ("1 when the feature is flagged", lambda f: float(f.flagged)),
        "skewless_drift_feature_psi": ("PSI against training", lambda f: f.psi),
        "skewless_drift_feature_js_distance": (
            "Jensen-Shannon distance against training",
            lambda f: f.js_distance,
        ),
        "skewless_drift_feature_ks_distance": (
            "KS distance against training (numeric)",
            lambda f: f.ks_distance,
        ),
        "skewless_drift_feature_null_rate": ("Null rate in the last window", lambda f: f.null_rate),
    }
    for name, (help_text, value_of) in per_feature.items():
        family = gauge(name, help_text, ("feature",))
        for feature in drift.features:
            value = value_of(feature)
            if value is not None:
                family.labels(**model, feature=feature.name).set(value)
    if drift.score is not None:
        gauge("skewless_drift_score_ks_distance", "KS distance of the scores").labels(**model).set(
            drift.score.ks_distance or 0.0
        )
        gauge("skewless_drift_score_psi", "PSI of the scores").labels(**model).set(drift.score.psi or 0.0)
    performance = report.performance
    figures = {
        "skewless_performance_auc": ("Live ROC-AUC on labelled predictions", performance.auc),
        "skewless_performance_label_coverage": ("Share of predictions labelled", performance.coverage),
        "skewless_performance_precision": ("Precision at the decision threshold", performance.precision),
        "skewless_performance_cost_per_1k": ("Business cost per 1,000 labelled", performance.cost_per_1k),
        "skewless_performance_drop": (
            "1 when performance dropped past the rule",
            float(performance.status == "drop"),
        ),
    }
    # Every family is declared even without a figure (no labels yet, no skew check), so
    # dashboards and alert rules find the metric; only known figures get a sample.
    for name, (help_text, figure) in figures.items():
        family = gauge(name, help_text)
        if figure is not None:
            family.labels(**model).set(figure)
    skew = gauge("skewless_skew_mismatched_rows", "Sampled requests whose features differ offline")
    if report.skew is not None:
        skew.labels(**model).set(report.skew.mismatched_rows)
    gauge("skewless_monitor_report_timestamp_seconds", "When the report was made").labels(**model).set(
        generated_at
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)
    return path
