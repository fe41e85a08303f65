"""The ``skewless`` Typer app, its command groups and its global options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lifecycle.cli.context import Invocation
from skewless.modes import Profile

__all__ = ["app", "features_app", "monitor_app"]

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
labels_app = typer.Typer(
    help="The label feed: investigations, chargebacks and matured labels, checked before they count.",
    no_args_is_help=True,
)
app.add_typer(labels_app, name="labels")


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
    model_name: Annotated[
        str | None,
        typer.Option(
            help="Registered model every command reads and writes; env SKEWLESS_MODEL_NAME.",
            show_default="fraud_detection",
        ),
    ] = None,
) -> None:
    """Record the global options; the settings are built from them and SKEWLESS_* when a command runs."""
    overrides: dict[str, Any] = {}
    if profile is not None:
        overrides["profile"] = profile
    if root_dir is not None:
        overrides["root_dir"] = root_dir
    if model_name is not None:
        overrides["model_name"] = model_name
    ctx.obj = Invocation(overrides)
