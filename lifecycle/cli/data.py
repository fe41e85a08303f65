"""Data commands: simulate, features build, apply, materialize, lookup."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lifecycle.cli.app import app, features_app
from lifecycle.cli.context import day, echo_json, invocation, moment_option, utc
from skewless.contract import FEATURE_SERVICE_V1
from skewless.errors import InputError
from skewless.modes import Profile

if TYPE_CHECKING:
    from simulation import SimulationConfig

__all__ = ["DateOption", "ScaleOption", "ScenarioOption"]

DateOption = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], show_default=False)]
ScaleOption = Annotated[
    float, typer.Option(help="Size multiplier: 1 ≈ 450k transactions over 90 days; 10, 100 for benchmarks.")
]
ScenarioOption = Annotated[
    str, typer.Option(help="Drift scenario: none, covariate, concept, pipeline_break.")
]


def _simulation_config(
    start: date | None,
    end: date | None,
    days: int | None,
    scale: float,
    seed: int,
    scenario: str,
    drift_start: date | None,
) -> SimulationConfig:
    from simulation.config import DEFAULT_DAYS, SimulationConfig, today_utc

    days = DEFAULT_DAYS if days is None else days
    options: dict[str, Any] = {"scale": scale, "seed": seed, "scenario": scenario, "drift_start": drift_start}
    if start is not None and end is not None:
        return SimulationConfig(start=start, end=end, **options)
    if start is not None:
        return SimulationConfig(start=start, end=start + timedelta(days=days), **options)
    return SimulationConfig.ending(end or today_utc(), days=days, **options)


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
    config = _simulation_config(day(start), day(end), days, scale, seed, scenario, day(drift_start))
    settings = invocation(ctx, feast=False).settings
    from simulation import simulate
    from skewless.progress import Progress

    summary = simulate(config, settings.layout, Progress())
    echo_json({"raw_dir": str(settings.layout.raw_dir), **asdict(summary)})
    typer.echo(f"reproduce with: {reproduce_command(config)}", err=True)


def reproduce_command(config: SimulationConfig) -> str:
    """The command that simulates the same world byte for byte: every option that shapes it, the
    drift start included (left out, the default puts the change two thirds in: another world)."""
    command = (
        f"skewless simulate --start {config.start} --end {config.end} --scale {config.scale:g} "
        f"--seed {config.seed} --scenario {config.scenario}"
    )
    if config.scenario != "none":
        command += f" --drift-start {config.effective_drift_start}"
    return command


@features_app.command("build")
def features_build_command(ctx: typer.Context, start: DateOption = None, end: DateOption = None) -> None:
    """Build the feature tables for [start, end) (default: the whole simulated period); on the spark
    profile the same SQL runs on Spark."""
    settings = invocation(ctx, feast=False).settings
    from skewless.progress import Progress

    if settings.profile is Profile.SPARK:
        from feature_repo.operations import open_profile_spark_session
        from feature_repo.pipeline import build_features_on_spark

        spark = open_profile_spark_session(settings)
        try:
            summary = build_features_on_spark(
                settings.layout, Progress(), spark, start=day(start), end=day(end)
            )
        finally:
            spark.stop()
    else:
        from feature_repo.pipeline import build_features

        summary = build_features(settings.layout, Progress(), start=day(start), end=day(end))
    echo_json({"features_dir": str(settings.layout.features_dir), **asdict(summary)})


@app.command("apply")
def apply_command(ctx: typer.Context) -> None:
    """Register the feature repo's definitions (feast apply) on the current profile."""
    settings = invocation(ctx).settings
    from feature_repo.operations import apply_feature_repo

    echo_json(asdict(apply_feature_repo(settings)))


@app.command("materialize")
def materialize_command(
    ctx: typer.Context,
    start: Annotated[
        datetime | None, moment_option("Load rows from this moment (UTC); default: since the last run.")
    ] = None,
    end: Annotated[datetime | None, moment_option("Load rows up to this moment (UTC); default: now.")] = None,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Reload every view over its whole TTL up to --end: what restores an emptied online store "
            "(an incremental run after a Redis restart loads nothing).",
        ),
    ] = False,
) -> None:
    """Load feature values into the online store: incrementally up to --end (default now), or
    [--start, --end), or with --full every view's rows still within its TTL.

    One run at a time: a second run while one is going exits 75 and changes nothing.
    """
    if full and start is not None:
        raise InputError("--full loads each view over its TTL: give --end, not --start")
    settings = invocation(ctx, feast=False).settings
    from lifecycle.locks import MATERIALIZE, job_lock

    with job_lock(settings.layout, MATERIALIZE):
        invocation(ctx)  # Feast, only once the lock is ours
        from feature_repo.operations import longest_ttl, materialize_features, open_feature_store

        store = open_feature_store(settings)
        until = utc(end) or datetime.now(UTC)
        since = utc(start)
        if full:
            since = until - longest_ttl(store)
        with contextlib.redirect_stdout(sys.stderr):  # Feast prints its progress: stdout is the JSON
            summary = materialize_features(store, end=until, start=since)
    echo_json(asdict(summary))


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
    """Read one transaction's features from the online store, as the API will (the transaction is
    checked by the API's own request model first, so what the API refuses is refused here too)."""
    from pydantic import ValidationError

    from serving.schemas import PredictRequest

    try:
        request = PredictRequest(
            customer_id=customer_id, merchant_id=merchant_id, amount=amount,
            merchant_country=merchant_country, channel=channel,  # type: ignore[arg-type]
            transaction_time=datetime.now(UTC).isoformat(),  # type: ignore[arg-type]
        )  # fmt: skip
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise InputError(f"the API would refuse this transaction: {problems}") from None
    settings = invocation(ctx).settings
    from feature_repo.operations import lookup_online_features, open_feature_store

    values = lookup_online_features(
        open_feature_store(settings), service, [request.model_dump(exclude_none=True)]
    )
    echo_json({name: column[0] for name, column in values.items()})
