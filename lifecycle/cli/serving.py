"""``skewless serve``: the prediction API under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from lifecycle.cli.app import app
from lifecycle.cli.context import invocation

__all__: list[str] = []


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65_535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Uvicorn worker processes.")] = 1,
) -> None:
    """Start the prediction API (uvicorn) on the champion of the current profile."""
    settings = invocation(ctx).settings
    import uvicorn

    # Workers are separate processes that build their own settings from the environment.
    os.environ["SKEWLESS_PROFILE"] = settings.profile.value
    os.environ["SKEWLESS_ROOT_DIR"] = str(settings.root_dir)
    os.environ["SKEWLESS_MODEL_NAME"] = settings.model_name
    factory = "serving.app:app_from_environment"
    uvicorn.run(factory, factory=True, host=host, port=port, workers=workers, log_level="warning")
