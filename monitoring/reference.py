"""The training reference of a model version, read from its MLflow artifacts.

Monitoring never re-reads training data: the training job saved a profile of the
training split with the model (see ``training/reference_profile.py``), and this
module reads it back as typed objects, with the model's holdout figures and
decision threshold from the same run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from monitoring.errors import ProfileVersionError, ReferenceNotFoundError
from skewless.tracking import METADATA_ARTIFACT, PROFILE_ARTIFACT, read_run_json

__all__ = [
    "CategoricalReference",
    "ModelReference",
    "NumericReference",
    "load_model_reference",
    "parse_profile",
]

SUPPORTED_PROFILE_VERSION = 2


@dataclass(frozen=True)
class NumericReference:
    """A numeric feature (or the score) in the training split."""

    count: int
    null_rate: float
    grid: np.ndarray
    cdf: np.ndarray
    psi_edges: np.ndarray
    psi_shares: np.ndarray
    mean: float | None
    std: float | None
    entity: str | None
    effective_count: float

    @property
    def constant(self) -> bool:
        return len(self.grid) <= 1


@dataclass(frozen=True)
class CategoricalReference:
    """A categorical feature in the training split."""

    count: int
    null_rate: float
    frequencies: dict[str, float]
    entity: str | None
    effective_count: float


Reference = NumericReference | CategoricalReference


@dataclass(frozen=True)
class ModelReference:
    """One model version: its reference profile, threshold and holdout figures."""

    model_name: str
    version: int
    run_id: str
    rows: int
    features: dict[str, Reference]
    score: NumericReference
    decision_threshold: float
    review_cost: float
    holdout_auc: float | None
    trained_at: float  # run start, seconds since the epoch
    cutoff: str  # the training data's cut-off (ISO), which the model's age counts from
    feature_service: str


def _numeric(data: dict[str, Any]) -> NumericReference:
    return NumericReference(
        count=int(data["count"]),
        null_rate=float(data["null_rate"]),
        grid=np.asarray(data["grid"], dtype=np.float64),
        cdf=np.asarray(data["cdf"], dtype=np.float64),
        psi_edges=np.asarray(data["psi_edges"], dtype=np.float64),
        psi_shares=np.asarray(data["psi_shares"], dtype=np.float64),
        mean=data.get("mean"),
        std=data.get("std"),
        entity=data.get("entity"),
        effective_count=float(data.get("effective_count", data["count"])),
    )


def _feature(data: dict[str, Any]) -> Reference:
    if data["kind"] == "categorical":
        return CategoricalReference(
            count=int(data["count"]),
            null_rate=float(data["null_rate"]),
            frequencies={str(k): float(v) for k, v in data["frequencies"].items()},
            entity=data.get("entity"),
            effective_count=float(data.get("effective_count", data["count"])),
        )
    return _numeric(data)


def parse_profile(profile: dict[str, Any]) -> tuple[int, dict[str, Reference], NumericReference]:
    """Rows, per-feature references and the score reference of a saved profile.

    Raises:
        ProfileVersionError: the profile predates version 2 (retrain the model).
    """
    version = int(profile.get("version", 0))
    if version != SUPPORTED_PROFILE_VERSION:
        raise ProfileVersionError(
            f"reference profile version {version} is not supported (expected "
            f"{SUPPORTED_PROFILE_VERSION}): retrain the model with this release to monitor it"
        )
    features = {name: _feature(data) for name, data in profile["features"].items()}
    return int(profile["rows"]), features, _numeric(profile["prediction"])


def load_model_reference(client: MlflowClient, model_name: str, ref: str | int) -> ModelReference:
    """The reference of ``model_name`` at a version number or alias.

    Raises:
        ReferenceNotFoundError: no such model, version or alias, or no profile saved with it.
        ProfileVersionError: the version's profile is too old to read.
    """
    try:
        if isinstance(ref, int) or str(ref).isdigit():
            model_version = client.get_model_version(model_name, str(ref))
        else:
            model_version = client.get_model_version_by_alias(model_name, str(ref))
    except MlflowException as e:
        raise ReferenceNotFoundError(f"model '{model_name}' has no version or alias '{ref}'") from e
    run_id = str(model_version.run_id)
    try:
        profile = read_run_json(client, run_id, PROFILE_ARTIFACT)
    except (MlflowException, OSError) as e:
        raise ReferenceNotFoundError(
            f"{model_name} v{model_version.version} has no reference profile ({PROFILE_ARTIFACT})"
        ) from e
    rows, features, score = parse_profile(profile)
    metadata = read_run_json(client, run_id, METADATA_ARTIFACT)
    run = client.get_run(run_id)
    return ModelReference(
        model_name=model_name,
        version=int(model_version.version),
        run_id=run_id,
        rows=rows,
        features=features,
        score=score,
        decision_threshold=float(metadata["decision_threshold"]),
        review_cost=float(metadata.get("review_cost", 5.0)),
        holdout_auc=run.data.metrics.get("holdout_roc_auc"),
        trained_at=run.info.start_time / 1000.0,
        cutoff=str(metadata.get("training_data", {}).get("cutoff", "")),
        feature_service=str(metadata["feature_service"]),
    )
