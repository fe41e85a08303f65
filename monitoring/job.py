"""`skewless monitor report`: reference → windows → drift, performance, skew → report, gauges, alerts."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitoring.alerts import build_alerts, send_alerts
from monitoring.config import MonitoringConfig
from monitoring.drift import judge_window
from monitoring.gauges import write_gauges
from monitoring.label_signals import measure_signals
from monitoring.performance import measure_performance_range
from monitoring.reference import CategoricalReference, ModelReference, load_model_reference
from monitoring.report import MonitoringReport, write_report
from monitoring.skew import SkewReport, check_skew
from monitoring.windows import summarise_range
from skewless.errors import InvalidDateRangeError, RegistryUnavailableError
from skewless.progress import Progress
from skewless.registry import MONITORING_REPORT_TAG, ModelRegistry
from skewless.settings import Settings

__all__ = ["ReportOutcome", "build_report", "run_report"]

logger = logging.getLogger("skewless.monitoring")


@dataclass(frozen=True)
class ReportOutcome:
    """A written report and what it raised."""

    report: MonitoringReport
    reference: ModelReference
    json_path: Path
    html_path: Path
    gauges_path: Path
    alerts: list[dict[str, object]]
    webhook_delivered: bool | None


def build_report(
    settings: Settings,
    registry: ModelRegistry,
    config: MonitoringConfig,
    start: datetime,
    end: datetime,
    progress: Progress,
    as_of: datetime | None = None,
    every: timedelta | None = None,
    model: str = "champion",
    skew: bool = True,
) -> tuple[MonitoringReport, ModelReference]:
    """Judge the served rows of ``model`` (alias or version) in ``[start, end)`` against its training.

    Raises:
        InvalidDateRangeError: ``end`` is not after ``start``.
        ModelNotFoundError, ReferenceProfileError: no usable reference for ``model``.
        ServedLogError: the log cannot be read.
    """
    if end <= start:
        raise InvalidDateRangeError(
            f"bad window: end {end:%Y-%m-%d %H:%M} must be after start {start:%Y-%m-%d %H:%M}"
        )
    as_of = as_of or end
    layout = settings.layout
    run_skew = skew and config.skew_sample > 0
    with progress.step(f"read the reference profile of {registry.model_name}@{model} from the registry"):
        reference = load_model_reference(registry, model)
    folder = layout.served_log_dir
    with progress.step(
        f"summarise served rows of v{reference.version} from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
        f" ({config.clock} time)"
    ):
        total, windows = summarise_range(
            folder, reference.features, reference.score, start, end, every, reference.version, config.clock
        )
    with progress.step(f"drift of {len(reference.features)} features ({len(windows)} window(s))"):
        drift = judge_window(reference, total, config.drift)
        window_drifts = [judge_window(reference, w, config.drift) for w in windows]
    with progress.step("performance from the labels known so far"):
        performance, performance_windows = measure_performance_range(
            folder, layout.labels, reference, start, end, as_of, config.performance, every, clock=config.clock
        )
    with progress.step("early signals from the label feed (investigations, chargebacks)"):
        signals, signal_windows = measure_signals(
            folder, layout.label_files, reference, start, end, as_of, config.signals, every, config.clock
        )
    skew_report: SkewReport | None = None
    if run_skew and total.rows:
        with progress.step(
            f"skew check: {config.skew_sample} served requests against get_historical_features"
        ):
            from feature_repo.operations import open_feature_store  # Feast: seconds to import; only here

            categorical = [n for n, r in reference.features.items() if isinstance(r, CategoricalReference)]
            skew_report = check_skew(
                open_feature_store(settings),
                folder,
                reference.feature_service,
                list(reference.features),
                categorical,
                start,
                end,
                reference.version,
                config.skew_sample,
                clock=config.clock,
            )
    report = MonitoringReport(
        model_name=registry.model_name,
        model_version=reference.version,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        start=start.astimezone(UTC).isoformat(),
        end=end.astimezone(UTC).isoformat(),
        as_of=as_of.astimezone(UTC).isoformat(),
        drift=drift,
        windows=window_drifts,
        performance=performance,
        performance_windows=performance_windows,
        skew=skew_report,
        config=config.to_dict(),
        signals=signals,
        signal_windows=signal_windows,
    )
    return report, reference


def report_folder(settings: Settings, report: MonitoringReport) -> Path:
    """Where a report is written: one folder per model version and window."""

    def stamp(moment: str) -> str:
        return re.sub(r"[^0-9T]", "", moment)[:13]

    name = f"{report.model_name}-v{report.model_version}-{stamp(report.start)}-{stamp(report.end)}"
    if report.config.get("clock", "served") != "served":
        name += f"-{report.config['clock']}"
    return settings.layout.monitoring_dir / "reports" / name


def run_report(
    settings: Settings,
    registry: ModelRegistry,
    config: MonitoringConfig,
    start: datetime,
    end: datetime,
    progress: Progress,
    as_of: datetime | None = None,
    every: timedelta | None = None,
    model: str = "champion",
    skew: bool = True,
) -> ReportOutcome:
    """Build the report, write JSON, HTML and gauges, and raise its alerts."""
    report, reference = build_report(
        settings, registry, config, start, end, progress, as_of, every, model, skew
    )
    with progress.step("write the report (JSON, HTML with plots) and the Prometheus gauges"):
        json_path, html_path = write_report(report, report_folder(settings, report))
        gauges = write_gauges(report, settings.layout.monitoring_gauges, datetime.now(UTC).timestamp())
    alerts = build_alerts(report, str(html_path))
    delivered = send_alerts(alerts, settings.alert_webhook_url)
    try:  # the version's registry page links its latest report; an unreachable registry stops nothing
        registry.set_version_tag(report.model_version, MONITORING_REPORT_TAG, str(html_path))
    except RegistryUnavailableError as e:
        logger.warning("report not linked from the model version: %s", e)
    return ReportOutcome(report, reference, json_path, html_path, gauges, alerts, delivered)
