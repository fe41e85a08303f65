"""The policy's check: report → decide → carry out → record, the same for every caller.

``skewless monitor check`` (by hand or from cron) and the main job's weekly checks
both run :func:`run_check`; ``skewless retrain`` skips the report and acts on a
decision made by hand (``lifecycle.retraining.retrain_now``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lifecycle.check_window import CheckWindow
from lifecycle.retraining import act_on
from monitoring.config import MonitoringConfig
from monitoring.job import ReportOutcome, run_report
from monitoring.policy import Decision, decide
from monitoring.report import write_report
from skewless.progress import Progress
from skewless.registry import MlflowModelRegistry
from skewless.settings import Settings
from training.config import TrainingConfig

__all__ = ["CheckOutcome", "CheckWindow", "run_check"]


@dataclass(frozen=True)
class CheckOutcome:
    """The report a check wrote and the decision it recorded (with what came of it)."""

    report: ReportOutcome
    decision: Decision


def run_check(
    settings: Settings,
    registry: MlflowModelRegistry,
    config: MonitoringConfig,
    window: CheckWindow,
    progress: Progress,
    training: TrainingConfig | None = None,
) -> CheckOutcome:
    """Write the report of ``window``, decide, carry the decision out and record it.

    Raises:
        InvalidDateRangeError: the window is empty.
        ModelNotFoundError, ReferenceProfileError, ServedLogError: nothing to judge with.
    """
    report = run_report(
        settings, registry, config, window.start, window.end, progress,
        as_of=window.as_of, every=window.every, model=window.model, skew=window.skew,
    )  # fmt: skip
    decision = decide(report.report, report.reference, config.policy, window.as_of)
    done = act_on(settings, registry, decision, config.policy, window.as_of, progress, training)
    # The report states the decision taken on it, and the evidence it rested on.
    decided = replace(report.report, decision=done.to_dict())
    write_report(decided, report.json_path.parent)
    return CheckOutcome(replace(report, report=decided), done)
