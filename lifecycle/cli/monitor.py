"""Monitoring commands: ``monitor report`` and ``monitor check`` (the report, then the policy)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lifecycle.cli.app import monitor_app
from lifecycle.cli.context import LegitSampleRateOption, echo_json, invocation, moment_option, utc

if TYPE_CHECKING:
    from lifecycle.check_window import CheckWindow
    from monitoring.config import MonitoringConfig
    from monitoring.job import ReportOutcome

__all__: list[str] = []


class Every(StrEnum):
    """Sub-windows a report also judges."""

    HOUR = "hour"
    DAY = "day"
    NONE = "none"


class ClockChoice(StrEnum):
    """Which time cuts the windows: when the API answered, or when the transaction happened."""

    SERVED = "served"
    EVENT = "event"


STEP = {Every.HOUR: timedelta(hours=1), Every.DAY: timedelta(days=1), Every.NONE: None}

StartOption = Annotated[datetime | None, moment_option("Window start (UTC); default: end - 1 day.")]
EndOption = Annotated[datetime | None, moment_option("Window end, exclusive (UTC); default: now.")]
AsOfOption = Annotated[
    datetime | None, moment_option("Only labels known by then count; default: the window end.")
]
EveryOption = Annotated[Every, typer.Option(help="Also judge sub-windows: hour, day or none.")]
ModelOption = Annotated[str, typer.Option(help="Model alias or version whose served rows to judge.")]
SkewOption = Annotated[bool, typer.Option(help="Run the training-serving skew check on a sample.")]
ClockOption = Annotated[
    ClockChoice,
    typer.Option(
        help="Cut windows on served_at (served) or on transaction_time (event: replays and backfills)."
    ),
]


def _window(
    start: datetime | None, end: datetime | None, as_of: datetime | None, every: Every, model: str, skew: bool
) -> CheckWindow:
    from lifecycle.check_window import CheckWindow

    stop = utc(end) or datetime.now(UTC)
    begin = utc(start) or stop - timedelta(days=1)
    return CheckWindow(begin, stop, utc(as_of) or stop, STEP[every], model, skew)


def _config(clock: ClockChoice, retrain: bool = True, legit_sample_rate: float = 1.0) -> MonitoringConfig:
    from monitoring.config import MonitoringConfig, PolicyRules

    policy = PolicyRules(retrain=retrain, retrain_legit_sample_rate=legit_sample_rate)
    return MonitoringConfig(policy=policy, clock="event" if clock is ClockChoice.EVENT else "served")


def _echo_report(outcome: ReportOutcome) -> None:
    report = outcome.report
    payload: dict[str, Any] = {
        "verdict": report.verdict,
        "drifted": {f.name: f.status for f in report.drift.features if f.flagged},
        "rows": report.drift.rows,
        "windows": {w.start: w.verdict for w in report.windows} if len(report.windows) > 1 else None,
        "performance": {
            k: getattr(report.performance, k) for k in ("status", "auc", "coverage", "positives")
        },
        "skew": report.skew.status if report.skew else None,
        "alerts": [a["alert"] for a in outcome.alerts],
        "report_html": str(outcome.html_path),
        "report_json": str(outcome.json_path),
        "gauges": str(outcome.gauges_path),
    }
    echo_json(payload)


@monitor_app.command("report")
def monitor_report_command(
    ctx: typer.Context,
    start: StartOption = None,
    end: EndOption = None,
    as_of: AsOfOption = None,
    every: EveryOption = Every.NONE,
    model: ModelOption = "champion",
    skew: SkewOption = True,
    clock: ClockOption = ClockChoice.SERVED,
) -> None:
    """Drift, skew and performance of the served rows in a window: JSON + HTML report, gauges, alerts."""
    run = invocation(ctx, feast=skew)  # without the skew check, Feast is never imported (seconds)
    window = _window(start, end, as_of, every, model, skew)
    from monitoring.job import run_report
    from skewless.progress import Progress

    outcome = run_report(
        run.settings, run.registry, _config(clock), window.start, window.end, Progress(),
        as_of=window.as_of, every=window.every, model=window.model, skew=window.skew,
    )  # fmt: skip
    _echo_report(outcome)


@monitor_app.command("check")
def monitor_check_command(
    ctx: typer.Context,
    start: StartOption = None,
    end: EndOption = None,
    as_of: AsOfOption = None,
    every: EveryOption = Every.NONE,
    model: ModelOption = "champion",
    skew: SkewOption = True,
    clock: ClockOption = ClockChoice.SERVED,
    retrain: Annotated[
        bool, typer.Option(help="Carry out a retraining decision (--no-retrain: record only).")
    ] = True,
    legit_sample_rate: LegitSampleRateOption = 1.0,
) -> None:
    """The report, then the retraining policy's decision (recorded with its evidence, and carried out).

    Holds the policy's lock: a second check (or retrain) while one runs exits 75 and changes nothing.
    """
    run = invocation(ctx, feast=False)
    from lifecycle.locks import POLICY, job_lock

    with job_lock(run.settings.layout, POLICY):
        invocation(ctx)  # Feast and the rest, only once the lock is ours (seconds to import)
        window = _window(start, end, as_of, every, model, skew)
        from lifecycle.checks import run_check
        from skewless.progress import Progress

        outcome = run_check(
            run.settings, run.registry, _config(clock, retrain, legit_sample_rate), window, Progress()
        )
    _echo_report(outcome.report)
    decision = outcome.decision
    echo_json(
        {
            "decision": decision.action,
            "reasons": decision.reasons,
            "outcome": decision.outcome,
            "recorded_in": str(run.settings.layout.policy_decisions),
        }
    )
