"""Point MLflow at the profile's tracking store: a sqlite file, or the tracking server."""

from __future__ import annotations

import os

import mlflow
from mlflow import MlflowClient

from skewless.settings import Settings

__all__ = ["configure_mlflow"]


def configure_mlflow(settings: Settings) -> MlflowClient:
    """Set MLflow's tracking and registry URIs for this process and return a client.

    MLflow's fluent API (``start_run``, ``log_*``) reads a process-wide URI, so the
    entry points call this once, explicitly; nothing is configured on import.
    """
    settings.layout.root.mkdir(parents=True, exist_ok=True)
    # One progress bar per artifact download is noise for our small artifacts.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow.set_tracking_uri(settings.tracking_uri)
    mlflow.set_registry_uri(settings.tracking_uri)
    return MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)
