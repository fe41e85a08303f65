"""``skewless run``: the main job, and the summary it prints."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lifecycle.cli.app import app
from lifecycle.cli.context import day, invocation
from lifecycle.cli.data import DateOption, ScenarioOption
from lifecycle.loop.config import LoopConfig

if TYPE_CHECKING:
    from lifecycle.loop.config import LoopResult
    from skewless.settings import Settings

__all__: list[str] = []

DEFAULTS = LoopConfig()  # the options' defaults are the loop's own (this module loads no heavy library)


@app.command("run")
def run_command(
    ctx: typer.Context,
    scenario: ScenarioOption = "concept",
    scale: Annotated[float, typer.Option(help="Size of the simulated world: 1 ≈ 5,000 customers.")] = (
        DEFAULTS.scale
    ),
    seed: int = DEFAULTS.seed,
    end: DateOption = None,
    replay_days: Annotated[
        int, typer.Option(min=8, help="Simulated days replayed through the API (the change comes on day 8).")
    ] = DEFAULTS.replay_days,
    per_day: Annotated[
        int, typer.Option(min=10, help="Transactions sent per simulated day.")
    ] = DEFAULTS.per_day,
) -> None:
    """The main job: the whole loop on simulated days, from raw data to a retrained model promoted or
    rolled back.

    Simulate → features → apply → materialize → train → promote → serve → replay day by day
    (materializing, pushing) → weekly checks → retrain → shadow → canary → promote or roll back.
    """
    config = LoopConfig(
        scenario=scenario, scale=scale, seed=seed, end=day(end), replay_days=replay_days, per_day=per_day
    )  # refuses a bad scenario before anything is written
    run = invocation(ctx)
    from lifecycle.loop.run import run_loop
    from skewless.progress import Progress

    # Each check's alerts are in its report and the day's line says what was decided; the alert
    # log lines (a JSON document each) would repeat them mid-progress.
    logging.getLogger("skewless.monitoring").addHandler(logging.NullHandler())
    result = run_loop(run.settings, run.registry, config, Progress())
    _echo_loop(run.settings, result)


def _echo_loop(settings: Settings, result: LoopResult) -> None:
    from lifecycle.loop.summary import format_auc

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
        f"v{result.champion_version}. Weekly AUC of the answers with its 95% interval, beside the oracle:"
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
    typer.echo(
        f"Explore the feature registry, models in its lineage: cd {settings.feature_repo_dir} && "
        f"MLFLOW_TRACKING_URI={settings.tracking_uri} feast ui"
    )
    typer.echo(f"Explore runs and models: {result.mlflow_ui}")
    here = settings.root_dir.resolve() == Path.cwd().resolve()
    serve = "skewless serve" if here else f"skewless --root-dir {settings.root_dir} serve"
    typer.echo(f"Serve the champion yourself: {serve} --port 8000   (then POST /predict, GET /docs)")
