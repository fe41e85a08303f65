"""MLflow as training, serving and monitoring share it: the profile's store, the
aliases, and the artifacts every model version carries."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from skewless.settings import Settings

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "EVALUATION_SET_ARTIFACT",
    "METADATA_ARTIFACT",
    "PROFILE_ARTIFACT",
    "alias_version",
    "configure_mlflow",
    "mlflow_ui_hint",
    "read_run_json",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
# Artifacts of every training run (see training/tracking.py).
METADATA_ARTIFACT = "metadata.json"
PROFILE_ARTIFACT = "monitoring/reference_profile.json"
EVALUATION_SET_ARTIFACT = "dataset/evaluation_set.parquet"


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


def read_run_json(client: MlflowClient, run_id: str, artifact: str) -> dict[str, Any]:
    """Read a JSON artifact of a run (metadata, reference profile)."""
    with tempfile.TemporaryDirectory() as folder:
        local = client.download_artifacts(run_id, artifact, folder)
        loaded: dict[str, Any] = json.loads(Path(local).read_text(encoding="utf-8"))
    return loaded


def alias_version(client: MlflowClient, name: str, alias: str) -> int | None:
    """The version ``name@alias`` points at, or None when the model or the alias does not exist."""
    try:
        return int(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def mlflow_ui_hint(settings: Settings) -> str:
    """How a person opens this profile's runs and models: a local UI, or the tracking server."""
    uri = settings.tracking_uri
    if uri.startswith(("http://", "https://")):
        return f"open {uri}"
    return f"mlflow ui --backend-store-uri {uri}   (then http://127.0.0.1:5000)"
