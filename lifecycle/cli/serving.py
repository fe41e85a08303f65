"""``skewless serve``: the prediction API under uvicorn."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from enum import StrEnum
from typing import Annotated

import typer

from lifecycle.cli.app import app
from lifecycle.cli.context import invocation

__all__: list[str] = []


class LogLevel(StrEnum):
    """Uvicorn's log levels."""

    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@app.command("serve")
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65_535)] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Uvicorn worker processes.")] = 1,
    log_level: Annotated[
        LogLevel, typer.Option(help="Uvicorn's log level (info: a line per request).")
    ] = LogLevel.INFO,
    access_log: Annotated[bool, typer.Option(help="Log each request (method, path, status).")] = True,
) -> None:
    """Start the prediction API (uvicorn) on the champion of the current profile."""
    settings = invocation(ctx).settings
    import uvicorn

    # Workers are separate processes that build their own settings from the environment.
    os.environ["SKEWLESS_PROFILE"] = settings.profile.value
    os.environ["SKEWLESS_ROOT_DIR"] = str(settings.root_dir)
    os.environ["SKEWLESS_MODEL_NAME"] = settings.model_name
    # MLflow's client would retry a dead server for minutes; the API gives up after
    # registry_timeout_s (serving.registry_deadline), and its worker thread soon after.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(max(2, round(4 * settings.registry_timeout_s))))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    if workers > 1:  # one set of metrics summed over the workers (serving.metrics)
        folder = tempfile.mkdtemp(prefix="skewless_metrics_")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    factory = "serving.app:app_from_environment"
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"Skewless API for '{settings.model_name}@champion' ({settings.profile.value} profile) on "
        f"http://{shown}:{port} · {workers} worker(s) · docs at http://{shown}:{port}/docs",
        err=True,
    )
    uvicorn.run(
        factory, factory=True, host=host, port=port, workers=workers,
        log_level=log_level.value, access_log=access_log,
    )  # fmt: skip
