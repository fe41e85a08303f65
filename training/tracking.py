"""MLflow tracking: one run per training, with everything needed to trust and reuse it.

Logged per run: hyperparameters, metrics, dataset hash, row counts and time ranges,
seed, git commit, feature service, feature list and schema. Artifacts: the native
LightGBM model with signature and input example, the metadata sidecar, the
evaluation report, the validation report, the monitoring reference profile, and the
validation + holdout rows (so a later gate can score any model on the same holdout).
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import mlflow.lightgbm
import pandas as pd
from mlflow import MlflowClient
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import infer_signature

from skewless.settings import Profile, Settings
from skewless.tracking import EVALUATION_SET_ARTIFACT, METADATA_ARTIFACT, PROFILE_ARTIFACT, configure_mlflow
from training.config import TrainingConfig
from training.dataset import LABEL, TrainingSet
from training.evaluation import Evaluation
from training.model import TrainedModel

__all__ = [
    "EVALUATION_SET_ARTIFACT",
    "METADATA_ARTIFACT",
    "PROFILE_ARTIFACT",
    "LoggedRun",
    "log_training_run",
]


@dataclass(frozen=True)
class LoggedRun:
    """Where a training run landed in MLflow."""

    run_id: str
    experiment_id: str
    model_name: str
    version: int
    model_uri: str


def git_commit(root: Path) -> str:
    """The checkout's commit, with ``-dirty`` when it has uncommitted changes."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True, timeout=10
        ).stdout.strip()
        return f"{commit}-dirty" if dirty else commit
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def build_metadata(
    ts: TrainingSet, model: TrainedModel, evaluation: Evaluation, config: TrainingConfig, commit: str
) -> dict[str, Any]:
    """The metadata sidecar: what serving and monitoring need to use this model."""
    first, last = ts.time_range()
    return {
        "model_name": config.model_name,
        "feature_service": ts.feature_service,
        "encoding": model.encoding.to_dict(),
        "decision_threshold": evaluation.threshold,
        "review_cost": config.review_cost,
        "training_data": {
            "content_hash": ts.content_hash,
            "path": str(ts.path),
            "cutoff": ts.cutoff.isoformat(),
            "first_transaction": first.isoformat(),
            "last_transaction": last.isoformat(),
            "rows": {
                split: int((ts.frame["split"] == split).sum()) for split in ("train", "validation", "holdout")
            },
        },
        "evaluation": evaluation.metrics(),
        "best_iteration": model.best_iteration,
        "seed": config.seed,
        "git_commit": commit,
    }


def _experiment_id(client: MlflowClient, settings: Settings, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    embedded = settings.profile is Profile.EMBEDDED
    artifact_location = settings.layout.mlflow_artifacts.as_uri() if embedded else None
    return str(client.create_experiment(name, artifact_location=artifact_location))


def log_training_run(
    settings: Settings,
    config: TrainingConfig,
    ts: TrainingSet,
    model: TrainedModel,
    evaluation: Evaluation,
    profile: dict[str, Any],
    validation_json: str,
    report_dir: Path,
) -> LoggedRun:
    """Log one training run, register its model version and return where it landed."""
    client = configure_mlflow(settings)
    experiment_id = _experiment_id(client, settings, config.experiment)
    commit = git_commit(settings.root_dir)
    metadata = build_metadata(ts, model, evaluation, config, commit)
    train = ts.split("train")
    example = pd.DataFrame(model.encoding.encode(train.head(5)), columns=model.encoding.features)
    signature = infer_signature(example, model.booster.predict(example.to_numpy()))
    run_name = f"{config.model_name}-{ts.content_hash[:8]}-seed{config.seed}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        dataset = from_pandas(
            ts.frame[[*ts.features, LABEL, "split"]],
            name=f"training-set-{ts.content_hash[:12]}",
            targets=LABEL,
        )
        mlflow.log_input(dataset, context="training")
        mlflow.log_params(config.as_params())
        mlflow.log_params({f"lgb_{k}": v for k, v in model.params.items() if k not in config.as_params()})
        data = metadata["training_data"]
        mlflow.log_params(
            {
                "dataset_hash": ts.content_hash,
                "dataset_cutoff": data["cutoff"],
                "dataset_first_transaction": data["first_transaction"],
                "dataset_last_transaction": data["last_transaction"],
                **{f"rows_{split}": count for split, count in data["rows"].items()},
                "best_iteration": model.best_iteration,
            }
        )
        mlflow.log_metrics(evaluation.metrics())
        mlflow.set_tags(
            {
                "git_commit": commit,
                "feature_service": ts.feature_service,
                "seed": str(config.seed),
                "label": LABEL,
            }
        )
        mlflow.log_dict(
            {"features": ts.features, "categorical": ts.categorical, "encoding": model.encoding.to_dict()},
            "feature_schema.json",
        )
        mlflow.log_dict(metadata, METADATA_ARTIFACT)
        mlflow.log_dict(profile, PROFILE_ARTIFACT)
        mlflow.log_text(validation_json, "validation.json")
        mlflow.log_artifacts(str(report_dir), "evaluation")
        with tempfile.TemporaryDirectory() as folder:
            evaluation_rows = ts.frame[ts.frame["split"].isin(["validation", "holdout"])]
            path = Path(folder) / Path(EVALUATION_SET_ARTIFACT).name
            evaluation_rows.to_parquet(path, index=False)
            mlflow.log_artifact(str(path), str(Path(EVALUATION_SET_ARTIFACT).parent))
        info = mlflow.lightgbm.log_model(
            model.booster,
            name="model",
            signature=signature,
            input_example=example,
            registered_model_name=config.model_name,
        )
    version = int(info.registered_model_version)
    client.set_model_version_tag(config.model_name, str(version), "feature_service", ts.feature_service)
    client.set_model_version_tag(config.model_name, str(version), "dataset_hash", ts.content_hash)
    return LoggedRun(run.info.run_id, experiment_id, config.model_name, version, info.model_uri)
