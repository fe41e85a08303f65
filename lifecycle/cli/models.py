"""Model commands: train, evaluate, promote, rollback, deploy, retrain, score (batch inference).

Every one acts on the registered model of the settings (``--model-name`` or
``SKEWLESS_MODEL_NAME``, default ``fraud_detection``).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from lifecycle.cli.app import app
from lifecycle.cli.context import LegitSampleRateOption, echo_json, invocation, moment_option, utc
from lifecycle.cli.data import DateOption
from skewless.modes import DeploymentMode
from training.config import TrainingConfig  # light: its defaults are the options' defaults

__all__: list[str] = []

SCORES_FOLDER = Path("scores")


@app.command("train")
def train_command(
    ctx: typer.Context,
    cutoff: DateOption = None,
    seed: int = 42,
    shuffle_labels: Annotated[
        bool, typer.Option(help="Rehearsal only: train a deliberately bad model.")
    ] = False,
    dask_min_rows: Annotated[
        int, typer.Option(min=1, help="Fit on Dask (lightgbm.dask) from this many training rows.")
    ] = TrainingConfig.dask_min_rows,
    dask_scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://host:8786); unset: a local cluster."),
    ] = None,
    dask_workers: Annotated[
        int, typer.Option(min=1, help="Workers of the local Dask cluster.")
    ] = TrainingConfig.dask_workers,
    legit_sample_rate: LegitSampleRateOption = TrainingConfig.legit_sample_rate,
) -> None:
    """Point-in-time training from the feature service; logs to MLflow, registers a challenger."""
    run = invocation(ctx)
    from skewless.progress import Progress
    from training.job import train_and_register

    config = TrainingConfig(
        cutoff=utc(cutoff), seed=seed, shuffle_labels=shuffle_labels, dask_min_rows=dask_min_rows,
        dask_scheduler=dask_scheduler, dask_workers=dask_workers, legit_sample_rate=legit_sample_rate,
    )  # fmt: skip
    outcome = train_and_register(run.settings, run.registry, config, Progress())
    echo_json(
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
) -> None:
    """Run the evaluation suite for a registered model; writes JSON and an HTML report."""
    run = invocation(ctx)
    from skewless.progress import Progress
    from training.job import evaluate_registered

    evaluation, html_path = evaluate_registered(
        run.settings, run.registry, TrainingConfig(), model, Progress()
    )
    echo_json({"report": str(html_path), **{k: round(v, 6) for k, v in evaluation.metrics().items()}})


@app.command("promote")
def promote_command(
    ctx: typer.Context,
    version: Annotated[int | None, typer.Option(help="Version to judge (default: the challenger).")] = None,
) -> None:
    """Promote a candidate to champion only if it passes the gate against the champion."""
    run = invocation(ctx)
    from skewless.errors import PromotionRefusedError
    from skewless.progress import Progress
    from training.registry import promote

    decision = promote(run.registry, TrainingConfig(), Progress(), version=version)
    echo_json(asdict(decision))
    if not decision.passed:
        raise PromotionRefusedError(
            f"v{decision.candidate_version} not promoted: " + "; ".join(decision.reasons)
        )


@app.command("rollback")
def rollback_command(ctx: typer.Context) -> None:
    """Point champion back at the version it replaced."""
    registry = invocation(ctx, feast=False).registry
    current, previous = registry.roll_back_champion()
    echo_json({"model": registry.model_name, "rolled_back": current, "champion": previous})


@app.command("deploy")
def deploy_command(
    ctx: typer.Context,
    mode: Annotated[DeploymentMode, typer.Option(help="single, shadow or canary.")],
    canary_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of customers the challenger answers in canary.")
    ] = 0.1,
) -> None:
    """Set how the champion and the challenger share traffic; every API replica follows within a poll."""
    registry = invocation(ctx, feast=False).registry
    deployment = registry.request_deployment(mode, canary_share, "set by hand (skewless deploy)")
    echo_json(
        {"model": registry.model_name, "mode": deployment.mode.value, "canary_share": deployment.canary_share}
    )


@app.command("retrain")
def retrain_command(
    ctx: typer.Context,
    as_of: Annotated[
        datetime | None,
        moment_option("Train on data known by then (default: now, capped at the data's end)."),
    ] = None,
    legit_sample_rate: LegitSampleRateOption = TrainingConfig.legit_sample_rate,
) -> None:
    """Retrain on the latest window now; a candidate that passes the gate waits as challenger in shadow.

    Shares the policy's lock with `monitor check`; does nothing while a challenger already waits.
    """
    run = invocation(ctx, feast=False)
    from lifecycle.locks import POLICY, job_lock

    with job_lock(run.settings.layout, POLICY):
        invocation(ctx)
        from lifecycle.retraining import retrain_now
        from monitoring.config import PolicyRules
        from skewless.progress import Progress

        moment = utc(as_of) or datetime.now(UTC)
        rules = PolicyRules(retrain_legit_sample_rate=legit_sample_rate)
        decision = retrain_now(run.settings, run.registry, rules, moment, Progress())
    echo_json({"decision": decision.action, "outcome": decision.outcome})


@app.command("score")
def score_command(
    ctx: typer.Context,
    transactions: Annotated[
        Path, typer.Argument(help="Transactions: parquet file or folder, or CSV (ids, request fields, time).")
    ],
    model: Annotated[str, typer.Option(help="Alias (champion, challenger) or version number.")] = "champion",
    out: Annotated[Path, typer.Option(help="Folder for the scores (date=YYYY-MM-DD/part-0.parquet).")] = (
        SCORES_FOLDER
    ),
) -> None:
    """Batch inference: score transactions with point-in-time features of the model's feature service."""
    run = invocation(ctx)
    from skewless.progress import Progress
    from training.batch_scoring import score_transactions

    reference: str | int = int(model) if model.isdigit() else model
    scored = score_transactions(run.settings, run.registry, transactions, reference, out, Progress())
    echo_json(
        {
            "rows": scored.rows,
            "days": scored.days,
            "model": f"{scored.model_name} v{scored.model_version}",
            "feature_service": scored.feature_service,
            "threshold": scored.threshold,
            "flagged": scored.flagged,
            "folder": str(scored.folder),
            "seconds": round(scored.seconds, 2),
        }
    )
