"""MLflow tracking: one run per training, with everything needed to trust and reuse it.

Logged per run: hyperparameters, metrics, dataset hash, row counts and time ranges,
seed, git commit, feature service, feature list and schema. Artifacts: the native
LightGBM model with signature and input example, the metadata sidecar, the
evaluation report, the validation report, the monitoring reference profile, and the
validation + holdout rows (so a later gate can score any model on the same holdout).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import mlflow
import mlflow.lightgbm
import numpy as np
import pandas as pd
from mlflow.data.pandas_dataset import from_pandas
from mlflow.models import infer_signature

from skewless.registry import (
    EVALUATION_REPORT_TAG,
    EVALUATION_SET_ARTIFACT,
    METADATA_ARTIFACT,
    MONITORING_REPORT_TAG,
    PROFILE_ARTIFACT,
    MlflowModelRegistry,
    ModelMetadata,
    TrainingData,
)
from training.config import TrainingConfig
from training.dataset import LABEL, TrainingSet
from training.evaluation import Evaluation
from training.model import TrainedModel

__all__ = ["LoggedRun", "build_metadata", "log_training_run", "model_requirements"]

# What scoring the logged model needs. Pinned to the versions that trained it and given to
# MLflow, which would otherwise infer them by loading the model in a subprocess (5 s a run).
MODEL_PACKAGES = ("lightgbm", "numpy", "pandas", "scipy", "scikit-learn")


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


def model_requirements() -> list[str]:
    """``name==version`` of each package the logged model needs, as installed here."""
    return [f"{name}=={package_metadata.version(name)}" for name in MODEL_PACKAGES]


def build_metadata(
    ts: TrainingSet,
    model: TrainedModel,
    evaluation: Evaluation,
    config: TrainingConfig,
    model_name: str,
    commit: str,
) -> ModelMetadata:
    """The metadata sidecar: what serving and monitoring need to use this model."""
    first, last = ts.time_range()
    rows = {split: int((ts.frame["split"] == split).sum()) for split in ("train", "validation", "holdout")}
    return ModelMetadata(
        model_name=model_name,
        feature_service=ts.feature_service,
        encoding=model.encoding,
        decision_threshold=evaluation.threshold,
        review_cost=config.review_cost,
        training_data=TrainingData(
            content_hash=ts.content_hash,
            path=str(ts.path),
            cutoff=ts.cutoff,
            first_transaction=first,
            last_transaction=last,
            rows=rows,
            labels=config.labels,
            legit_sample_rate=config.legit_sample_rate,
        ),
        evaluation=evaluation.metrics(),
        best_iteration=model.best_iteration,
        seed=config.seed,
        git_commit=commit,
    )


FEAST_FEATURES_ARTIFACT = "feast_features.json"  # the features Feast's resolve_features checks


@dataclass(frozen=True)
class FeastLineage:
    """What Feast's MLflow integration reads on a training run: the project and the service's features."""

    project: str
    feature_refs: list[str]  # view:feature, in service order

    def run_tags(self, feature_service: str, entity_count: int) -> dict[str, str]:
        views = list(dict.fromkeys(ref.split(":")[0] for ref in self.feature_refs))
        return {
            "feast.project": self.project,
            "feast.retrieval_type": "historical",
            "feast.feature_service": feature_service,
            "feast.feature_views": ",".join(views),
            "feast.feature_refs": ",".join(self.feature_refs)[:4990],
            "feast.entity_count": str(entity_count),
        }


def _sampled(data: TrainingData) -> str:
    rate = data.legit_sample_rate
    return f" (the legitimate ones sampled at {rate:g}, weighted back)" if rate < 1.0 else ""


def version_description(data: Any, ts: TrainingSet, evaluation: Evaluation) -> str:
    """What a version is, in the words its registry page shows: data, service, figures, reports."""
    return (
        f"LightGBM trained on {data.rows.get('train', 0):,} rows of transactions{_sampled(data)} from "
        f"{data.first_transaction:%Y-%m-%d} to the cut-off {data.cutoff:%Y-%m-%d}, point in time, from "
        f"the Feast feature service {ts.feature_service} (training set {ts.content_hash[:12]}). "
        f"Holdout: ROC AUC {evaluation.roc_auc:.3f}, PR AUC {evaluation.pr_auc:.3f}, decision threshold "
        f"{evaluation.threshold:.3f}. Evaluation report: the run's artifact evaluation/evaluation.html "
        f"(tag {EVALUATION_REPORT_TAG}); the latest monitoring report: tag {MONITORING_REPORT_TAG}."
    )


def log_training_run(
    registry: MlflowModelRegistry,
    root_dir: Path,
    config: TrainingConfig,
    ts: TrainingSet,
    model: TrainedModel,
    evaluation: Evaluation,
    profile: dict[str, Any],
    validation_json: str,
    report_dir: Path,
    lineage: FeastLineage,
) -> LoggedRun:
    """Log one training run, register its model version and return where it landed.

    ``root_dir`` is the checkout whose commit the run records. The run is logged in the
    experiment named after the Feast project (unless ``config.experiment`` names one), with
    the ``feast.*`` tags and ``feast_features.json`` that Feast's MLflow integration reads:
    ``feast ui`` then shows the run and its model in the feature service's lineage, and
    ``store.mlflow.resolve_features("models:/<name>/<version>")`` names the service.
    """
    name = registry.model_name
    experiment_id = registry.experiment_id(config.experiment or lineage.project)
    commit = git_commit(root_dir)
    metadata = build_metadata(ts, model, evaluation, config, name, commit)
    train = ts.split("train")
    example = pd.DataFrame(model.encoding.encode(train.head(5)), columns=model.encoding.features)
    signature = infer_signature(example, np.asarray(model.booster.predict(example.to_numpy())))
    run_name = f"{name}-{ts.content_hash[:8]}-seed{config.seed}"
    with registry.fluent(), mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        dataset = from_pandas(
            ts.frame[[*ts.features, LABEL, "split"]],
            name=f"training-set-{ts.content_hash[:12]}",
            targets=LABEL,
        )
        mlflow.log_input(dataset, context="training")
        mlflow.log_params(config.as_params())
        mlflow.log_params({f"lgb_{k}": v for k, v in model.params.items() if k not in config.as_params()})
        data = metadata.training_data
        mlflow.log_params(
            {
                "dataset_hash": ts.content_hash,
                "dataset_cutoff": data.cutoff.isoformat(),
                "dataset_first_transaction": data.first_transaction.isoformat(),
                "dataset_last_transaction": data.last_transaction.isoformat(),
                **{f"rows_{split}": count for split, count in data.rows.items()},
                "best_iteration": model.best_iteration,
            }
        )
        mlflow.log_metrics(evaluation.metrics())
        mlflow.set_tags(
            {
                "mlflow.source.git.commit": commit,
                "feature_service": ts.feature_service,
                "seed": str(config.seed),
                "label": LABEL,
                **lineage.run_tags(ts.feature_service, len(ts.frame)),
            }
        )
        mlflow.log_text(json.dumps(lineage.feature_refs), FEAST_FEATURES_ARTIFACT)
        mlflow.log_dict(
            {"features": ts.features, "categorical": ts.categorical, "encoding": model.encoding.to_dict()},
            "feature_schema.json",
        )
        mlflow.log_dict(metadata.to_dict(), METADATA_ARTIFACT)
        mlflow.log_dict(profile, PROFILE_ARTIFACT)
        mlflow.log_text(validation_json, "validation.json")
        mlflow.log_artifacts(str(report_dir), "evaluation")
        with tempfile.TemporaryDirectory() as folder:
            evaluation_rows = ts.frame[ts.frame["split"].isin(["validation", "holdout"])]
            path = Path(folder) / Path(EVALUATION_SET_ARTIFACT).name
            evaluation_rows.to_parquet(path, index=False)
            mlflow.log_artifact(str(path), str(Path(EVALUATION_SET_ARTIFACT).parent))
        # MLflow prints "Successfully registered model …" and "Created version …" itself (not
        # through logging); the job reports the version in its own line.
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            info = mlflow.lightgbm.log_model(
                model.booster,
                name="model",
                signature=signature,
                input_example=example,
                registered_model_name=name,
                pip_requirements=model_requirements(),
            )
    version = int(info.registered_model_version)
    registry.set_version_tag(version, "feature_service", ts.feature_service)
    registry.set_version_tag(version, "feast.feature_service", ts.feature_service)
    registry.set_version_tag(version, "dataset_hash", ts.content_hash)
    registry.set_version_tag(
        version, EVALUATION_REPORT_TAG, f"runs:/{run.info.run_id}/evaluation/evaluation.html"
    )
    registry.set_version_tag(version, "gate.verdict", "not judged yet")
    registry.describe_version(version, version_description(metadata.training_data, ts, evaluation))
    return LoggedRun(run.info.run_id, experiment_id, name, version, info.model_uri)
