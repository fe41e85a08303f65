"""The `skewless` command line: thin calls into library functions.

Every error we raise on purpose is printed as one line, ``error: <reason>``, with a
non-zero exit code; no traceback reaches the user.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer
from pydantic import ValidationError

from skewless.contract import FEATURE_SERVICE_V1
from skewless.errors import SkewlessError
from skewless.locks import MATERIALIZE, POLICY, job_lock
from skewless.progress import Progress
from skewless.quiet import quiet_third_party_warnings
from skewless.settings import DeploymentMode, Profile, Settings

if TYPE_CHECKING:
    from simulation import SimulationConfig
    from skewless.loop import LoopResult

__all__ = ["app", "main"]

app = typer.Typer(
    name="skewless",
    help="One Feast feature repo feeding point-in-time training, online serving and drift monitoring.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
features_app = typer.Typer(
    help="Feature pipeline (DuckDB SQL → parquet feature tables).", no_args_is_help=True
)
app.add_typer(features_app, name="features")
monitor_app = typer.Typer(
    help="Monitoring: drift of served features against training, performance from labels, the policy.",
    no_args_is_help=True,
)
app.add_typer(monitor_app, name="monitor")

DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], show_default=False)]


def _moment_option(help_text: str) -> Any:
    """A UTC moment option: a day, or a day and a time."""
    return typer.Option(
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"], help=help_text, show_default=False
    )


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


def _echo_json(payload: dict[str, Any]) -> None:
    typer.echo(json.dumps(payload, indent=2, default=str))


@app.callback()
def configure(
    ctx: typer.Context,
    profile: Annotated[
        Profile | None, typer.Option(help="embedded (default) or production; env SKEWLESS_PROFILE.")
    ] = None,
    root_dir: Annotated[
        Path | None,
        typer.Option(
            help="Workspace holding feature_repo/ and data/; env SKEWLESS_ROOT_DIR.", show_default="."
        ),
    ] = None,
) -> None:
    """Build the one settings object for this process from flags and SKEWLESS_* variables."""
    overrides: dict[str, Any] = {}
    if profile is not None:
        overrides["profile"] = profile
    if root_dir is not None:
        overrides["root_dir"] = root_dir
    ctx.obj = Settings(**overrides)


def _simulation_config(
    start: date | None,
    end: date | None,
    days: int | None,
    scale: float,
    seed: int,
    scenario: str,
    drift_start: date | None,
) -> SimulationConfig:
    from simulation import SimulationConfig
    from simulation.config import DEFAULT_DAYS, today_utc

    days = DEFAULT_DAYS if days is None else days
    options: dict[str, Any] = {"scale": scale, "seed": seed, "scenario": scenario, "drift_start": drift_start}
    if start is not None and end is not None:
        return SimulationConfig(start=start, end=end, **options)
    if start is not None:
        return SimulationConfig(start=start, end=start + timedelta(days=days), **options)
    return SimulationConfig.ending(end or today_utc(), days=days, **options)


ScaleOption = Annotated[
    float, typer.Option(help="Size multiplier: 1 ≈ 450k transactions over 90 days; 10, 100 for benchmarks.")
]
ScenarioOption = Annotated[
    str, typer.Option(help="Drift scenario: none, covariate, concept, pipeline_break.")
]


@app.command("simulate")
def simulate_command(
    ctx: typer.Context,
    start: DateOption = None,
    end: DateOption = None,
    days: Annotated[
        int | None, typer.Option(help="Length when only one of --start/--end is given.", show_default="90")
    ] = None,
    scale: ScaleOption = 1.0,
    seed: int = 42,
    scenario: ScenarioOption = "none",
    drift_start: DateOption = None,
) -> None:
    """Simulate customers, merchants, transactions, fraud (oracle score) and delayed labels."""
    from simulation import simulate

    settings = _settings(ctx)
    config = _simulation_config(_day(start), _day(end), days, scale, seed, scenario, _day(drift_start))
    summary = simulate(config, settings.layout, Progress())
    _echo_json({"raw_dir": str(settings.layout.raw_dir), **asdict(summary)})
    typer.echo(
        f"reproduce with: skewless simulate --start {config.start} --end {config.end} "
        f"--scale {config.scale:g} --seed {config.seed} --scenario {config.scenario}",
        err=True,
    )


@features_app.command("build")
def features_build_command(ctx: typer.Context, start: DateOption = None, end: DateOption = None) -> None:
    """Build the feature tables for [start, end) (default: the whole simulated period)."""
    from feature_repo.pipeline import build_features

    settings = _settings(ctx)
    summary = build_features(settings.layout, Progress(), start=_day(start), end=_day(end))
    _echo_json({"features_dir": str(settings.layout.features_dir), **asdict(summary)})


@app.command("apply")
def apply_command(ctx: typer.Context) -> None:
    """Register the feature repo's definitions (feast apply) on the current profile."""
    from feature_repo.operations import apply_feature_repo

    _echo_json(asdict(apply_feature_repo(_settings(ctx))))


@app.command("materialize")
def materialize_command(
    ctx: typer.Context,
    start: DateOption = None,
    end: DateOption = None,
) -> None:
    """Load feature values into the online store: [start, end), or incrementally up to end (default now).

    One run at a time: a second run while one is going exits 75 and changes nothing.
    """
    from feature_repo.operations import materialize_features, open_feature_store

    def moment(value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None

    settings = _settings(ctx)
    with job_lock(settings.layout, MATERIALIZE):
        store = open_feature_store(settings)
        summary = materialize_features(store, end=moment(end) or datetime.now(UTC), start=moment(start))
    _echo_json(asdict(summary))


@app.command("lookup")
def lookup_command(
    ctx: typer.Context,
    customer_id: Annotated[int, typer.Option(help="Customer id (entity key).")],
    merchant_id: Annotated[int, typer.Option(help="Merchant id (entity key).")],
    amount: Annotated[float, typer.Option(min=0.0, help="Transaction amount.")],
    merchant_country: Annotated[str, typer.Option(help="Merchant country code, e.g. FR.")],
    channel: Annotated[str, typer.Option(help="in_store, contactless or online.")],
    service: Annotated[str, typer.Option(help="Feature service to read.")] = FEATURE_SERVICE_V1,
) -> None:
    """Read one transaction's features from the online store, as the API will."""
    from feature_repo.operations import lookup_online_features, open_feature_store

    row = {
        "customer_id": customer_id,
        "merchant_id": merchant_id,
        "amount": amount,
        "merchant_country": merchant_country,
        "channel": channel,
        "transaction_time": datetime.now(UTC),
    }
    values = lookup_online_features(open_feature_store(_settings(ctx)), service, [row])
    _echo_json({name: column[0] for name, column in values.items()})


ModelOption = Annotated[str, typer.Option(help="Registered model name.")]


@app.command("train")
def train_command(
    ctx: typer.Context,
    cutoff: DateOption = None,
    seed: int = 42,
    model_name: ModelOption = "fraud_detection",
    shuffle_labels: Annotated[
        bool, typer.Option(help="Rehearsal only: train a deliberately bad model.")
    ] = False,
) -> None:
    """Point-in-time training from the feature service; logs to MLflow, registers a challenger."""
    from training.config import TrainingConfig
    from training.job import train_and_register

    config = TrainingConfig(
        cutoff=cutoff.replace(tzinfo=UTC) if cutoff else None,
        seed=seed,
        model_name=model_name,
        shuffle_labels=shuffle_labels,
    )
    outcome = train_and_register(_settings(ctx), config, Progress())
    _echo_json(
        {
            "model": outcome.run.model_name,
            "version": outcome.run.version,
            "alias": "challenger",
            "run_id": outcome.run.run_id,
            "dataset_hash": outcome.dataset_hash,
            "report": str(outcome.report_html),
            **{k: round(v, 6) for k, v in outcome.evaluation.metrics().items()},
        }
    )


@app.command("evaluate")
def evaluate_command(
    ctx: typer.Context,
    model: Annotated[str, typer.Option(help="Version number or alias.")] = "challenger",
    model_name: ModelOption = "fraud_detection",
) -> None:
    """Run the evaluation suite for a registered model; writes JSON and an HTML report."""
    from training.config import TrainingConfig
    from training.job import evaluate_registered

    evaluation, html_path = evaluate_registered(
        _settings(ctx), TrainingConfig(model_name=model_name), model, Progress()
    )
    _echo_json({"report": str(html_path), **{k: round(v, 6) for k, v in evaluation.metrics().items()}})


@app.command("promote")
def promote_command(
    ctx: typer.Context,
    version: Annotated[int | None, typer.Option(help="Version to judge (default: the challenger).")] = None,
    model_name: ModelOption = "fraud_detection",
) -> None:
    """Promote a candidate to champion only if it passes the gate against the champion."""
    from training.config import TrainingConfig
    from training.errors import PromotionRefused
    from training.registry import promote

    decision = promote(_settings(ctx), TrainingConfig(model_name=model_name), Progress(), version=version)
    _echo_json(asdict(decision))
    if not decision.passed:
        raise PromotionRefused(f"v{decision.candidate_version} not promoted: " + "; ".join(decision.reasons))


@app.command("rollback")
def rollback_command(ctx: typer.Context, model_name: ModelOption = "fraud_detection") -> None:
    """Point champion back at the version it replaced."""
    from training.config import TrainingConfig
    from training.registry import rollback

    current, previous = rollback(_settings(ctx), TrainingConfig(model_name=model_name))
    _echo_json({"model": model_name, "rolled_back": current, "champion": previous})


@app.command("deploy")
def deploy_command(
    ctx: typer.Context,
    mode: Annotated[DeploymentMode, typer.Option(help="single, shadow or canary.")],
    canary_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of customers the challenger answers in canary.")
    ] = 0.1,
    model_name: ModelOption = "fraud_detection",
) -> None:
    """Set how the champion and the challenger share traffic; every API replica follows within a poll."""
    from skewless.deployment import request_deployment
    from skewless.tracking import configure_mlflow

    client = configure_mlflow(_settings(ctx))
    deployment = request_deployment(client, model_name, mode, canary_share, "set by hand (skewless deploy)")
    _echo_json({"model": model_name, "mode": deployment.mode.value, "canary_share": deployment.canary_share})


@app.command("retrain")
def retrain_command(
    ctx: typer.Context,
    as_of: Annotated[
        datetime | None,
        _moment_option("Train on data known by then (default: now, capped at the data's end)."),
    ] = None,
    model_name: ModelOption = "fraud_detection",
) -> None:
    """Retrain on the latest window now; a candidate that passes the gate waits as challenger in shadow.

    Shares the policy's lock with `monitor check`; does nothing while a challenger already waits.
    """
    from monitoring.config import PolicyRules
    from skewless.retraining import retrain_now

    settings = _settings(ctx)
    moment = as_of.replace(tzinfo=UTC) if as_of and as_of.tzinfo is None else (as_of or datetime.now(UTC))
    with job_lock(settings.layout, POLICY):
        decision = retrain_now(settings, PolicyRules(), moment, Progress(), model_name)
    _echo_json({"decision": decision.action, "outcome": decision.outcome})


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65_535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Uvicorn worker processes.")] = 1,
) -> None:
    """Start the prediction API (uvicorn) on the champion of the current profile."""
    import os

    import uvicorn

    settings = _settings(ctx)
    # Workers are separate processes that build their own settings from the environment.
    os.environ["SKEWLESS_PROFILE"] = settings.profile.value
    os.environ["SKEWLESS_ROOT_DIR"] = str(settings.root_dir)
    factory = "serving.app:app_from_environment"
    uvicorn.run(factory, factory=True, host=host, port=port, workers=workers, log_level="warning")


@app.command("run")
def run_command(
    ctx: typer.Context,
    scenario: ScenarioOption = "concept",
    scale: Annotated[float, typer.Option(help="Size of the simulated world: 0.1 ≈ 500 customers.")] = 0.1,
    seed: int = 42,
    end: DateOption = None,
    replay_days: Annotated[int, typer.Option(min=7, help="Simulated days replayed through the API.")] = 70,
    per_day: Annotated[int, typer.Option(min=10, help="Transactions sent per simulated day.")] = 150,
) -> None:
    """The main job: the whole loop on simulated days, from raw data to a retrained model promoted or
    rolled back.

    Simulate → features → apply → materialize → train → promote → serve → replay day by day
    (materializing, pushing) → weekly checks → retrain → shadow → canary → promote or roll back.
    """
    from skewless.loop import LoopConfig, run_loop

    settings = _settings(ctx)
    config = LoopConfig(
        scenario=scenario, scale=scale, seed=seed, end=_day(end), replay_days=replay_days, per_day=per_day
    )
    result = run_loop(settings, config, Progress())
    _echo_loop(settings, result)


def _echo_loop(settings: Settings, result: LoopResult) -> None:
    from skewless.loop import format_auc
    from skewless.tracking import mlflow_ui_hint

    start = result.start
    sim, run, evaluation = start.simulation, start.training.run, start.training.evaluation
    typer.echo(
        f"\nSimulated {sim.transactions:,} transactions of {sim.customers:,} customers at {sim.merchants:,} "
        f"merchants, fraud rate {sim.fraud_rate:.2%}; feature tables: "
        + ", ".join(f"{k} {v:,} rows" for k, v in start.features.rows.items())
        + "."
    )
    typer.echo("One online lookup, as the API makes it for the replay's first transaction:")
    request = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in start.request.items()}
    typer.echo(f"  request  {json.dumps(request)}")
    width = max(len(name) for name in start.online_features)
    for name, value in start.online_features.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        typer.echo(f"  {name:<{width}}  {shown}")
    typer.echo(
        f"First champion: {run.model_name} v{run.version}, holdout ROC-AUC {evaluation.roc_auc:.4f} against "
        f"the oracle's {evaluation.oracle_roc_auc:.4f}, threshold {evaluation.threshold:.4f} "
        f"(gate {'passed' if start.promotion.passed else 'refused'})."
    )
    typer.echo(f"Evaluation report: {start.training.report_html}")
    typer.echo(
        f"\nThe loop, scenario {result.config.scenario}: {result.seconds:.0f} s; champion at the end: "
        f"v{result.champion_version}. Weekly AUC with its 95% interval (few frauds a week: read the trend):"
    )
    typer.echo(
        f"{'week':<25}{'served':>7}{'frauds':>7}  {'versions':<9}{'AUC':>15}{'oracle':>15}"
        "  drift  skew  decision"
    )
    for week in result.weeks:
        versions = ",".join(f"v{v}" for v in week["versions"])
        typer.echo(
            f"{week['week']:<25}{week['served']:>7}{week['frauds']:>7}  {versions:<9}"
            f"{format_auc(week['auc'], week['auc_ci']):>15}"
            f"{format_auc(week['oracle_auc'], week['oracle_auc_ci']):>15}  "
            f"{week['drift'] or '-':<6} {week['skew'] or '-':<5} {week['decision'] or '-'}"
        )
    typer.echo("\nEach model before and after the change (weeks pooled):")
    for period in result.periods:
        typer.echo(
            f"  v{period['version']:<3} {period['phase']:<18} {period['from']} – {period['to']}  "
            f"{period['served']:>6} answers {period['frauds']:>4} frauds  "
            f"AUC {format_auc(period['auc'], period['auc_ci'])}  "
            f"oracle {format_auc(period['oracle_auc'], period['oracle_auc_ci'])}"
        )
    typer.echo("\nWhat happened:")
    for event in result.events:
        typer.echo(f"  {event.day}  {event.stage}: {event.detail}")
    typer.echo(f"\nSummary page (every report linked): {result.summary_html}")
    typer.echo(f"Policy decisions: {settings.layout.policy_decisions}")
    typer.echo(f"Served-feature log: {settings.layout.served_log_dir}")
    typer.echo(f"Explore the feature registry: cd {settings.feature_repo_dir} && feast ui")
    typer.echo(f"Explore runs and models: {mlflow_ui_hint(settings)}")
    here = settings.root_dir.resolve() == Path.cwd().resolve()
    serve = "skewless serve" if here else f"skewless --root-dir {settings.root_dir} serve"
    typer.echo(f"Serve the champion yourself: {serve} --port 8000   (then POST /predict, GET /docs)")


EVERY = {"hour": timedelta(hours=1), "day": timedelta(days=1), "none": None}


def _window(
    start: datetime | None, end: datetime | None, as_of: datetime | None
) -> tuple[datetime, datetime, datetime]:
    def utc(value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value

    stop = utc(end) if end else datetime.now(UTC)
    begin = utc(start) if start else stop - timedelta(days=1)
    return begin, stop, utc(as_of) if as_of else stop


def _monitor_options(every: str) -> timedelta | None:
    if every not in EVERY:
        raise typer.BadParameter(f"--every must be one of {', '.join(EVERY)}, got '{every}'")
    return EVERY[every]


def _report(
    ctx: typer.Context,
    start: datetime | None,
    end: datetime | None,
    as_of: datetime | None,
    every: str,
    model: str,
    skew: bool,
    retrain: bool = True,
    clock: str = "served",
) -> tuple[Any, Any, datetime]:
    from monitoring.config import Clock, MonitoringConfig, PolicyRules
    from monitoring.job import run_report

    settings = _settings(ctx)
    begin, stop, known = _window(start, end, as_of)
    if clock not in ("served", "event"):
        raise typer.BadParameter(f"--clock must be served or event, got '{clock}'")
    config = MonitoringConfig(
        model_name=settings.model_name, policy=PolicyRules(retrain=retrain), clock=cast(Clock, clock)
    )
    outcome = run_report(
        settings, config, begin, stop, Progress(), known, _monitor_options(every), model, skew
    )
    return outcome, config, known


def _echo_report(outcome: Any) -> None:
    report = outcome.report
    _echo_json(
        {
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
    )


StartOption = Annotated[datetime | None, _moment_option("Window start (UTC); default: end - 1 day.")]
EndOption = Annotated[datetime | None, _moment_option("Window end, exclusive (UTC); default: now.")]
AsOfOption = Annotated[
    datetime | None, _moment_option("Only labels known by then count; default: the window end.")
]
EveryOption = Annotated[str, typer.Option(help="Also judge sub-windows: hour, day or none.")]
MonitorModelOption = Annotated[str, typer.Option(help="Model alias or version whose served rows to judge.")]
SkewOption = Annotated[bool, typer.Option(help="Run the training-serving skew check on a sample.")]
ClockOption = Annotated[
    str,
    typer.Option(
        help="Cut windows on served_at (served) or on transaction_time (event: replays and backfills)."
    ),
]


@monitor_app.command("report")
def monitor_report_command(
    ctx: typer.Context,
    start: StartOption = None,
    end: EndOption = None,
    as_of: AsOfOption = None,
    every: EveryOption = "none",
    model: MonitorModelOption = "champion",
    skew: SkewOption = True,
    clock: ClockOption = "served",
) -> None:
    """Drift, skew and performance of the served rows in a window: JSON + HTML report, gauges, alerts."""
    outcome, _, _ = _report(ctx, start, end, as_of, every, model, skew, clock=clock)
    _echo_report(outcome)


@monitor_app.command("check")
def monitor_check_command(
    ctx: typer.Context,
    start: StartOption = None,
    end: EndOption = None,
    as_of: AsOfOption = None,
    every: EveryOption = "none",
    model: MonitorModelOption = "champion",
    skew: SkewOption = True,
    clock: ClockOption = "served",
    retrain: Annotated[
        bool, typer.Option(help="Carry out a retraining decision (--no-retrain: record only).")
    ] = True,
) -> None:
    """The report, then the retraining policy's decision (recorded with its evidence, and carried out).

    Holds the policy's lock: a second check (or retrain) while one runs exits 75 and changes nothing.
    """
    from monitoring.policy import decide, record_decision
    from skewless.retraining import carry_out

    settings = _settings(ctx)
    with job_lock(settings.layout, POLICY):
        outcome, config, known = _report(ctx, start, end, as_of, every, model, skew, retrain, clock)
        decision = decide(outcome.report, outcome.reference, config.policy, known)
        decision = carry_out(settings, decision, config.policy, known, Progress())
        record_decision(decision, settings.layout.policy_decisions)
    _echo_report(outcome)
    _echo_json(
        {
            "decision": decision.action,
            "reasons": decision.reasons,
            "outcome": decision.outcome,
            "recorded_in": str(settings.layout.policy_decisions),
        }
    )


def main() -> None:
    """Entry point: run the app and turn our errors into one line and an exit code."""
    quiet_third_party_warnings()
    try:
        app(standalone_mode=False)
    except SkewlessError as e:
        typer.echo(f"error: {e}", err=True)
        sys.exit(e.exit_code)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        typer.echo(f"error: invalid settings: {problems}", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.TyperException as e:  # usage errors: bad option values, unknown commands
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        typer.echo(f"error: {' '.join(str(message).split())}", err=True)
        sys.exit(int(getattr(e, "exit_code", 2)))


if __name__ == "__main__":
    main()
