"""The training reference of a model version, read from its MLflow artifacts.

Monitoring never re-reads training data: the training job saved a profile of the
training split with the model (see ``skewless/reference_profile.py``), and this
module reads it back through the model registry as typed objects, with the model's
holdout figures and decision threshold from its metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from skewless.errors import ModelNotFoundError, ReferenceProfileError
from skewless.labels import LABEL_AGE_DAYS
from skewless.registry import PROFILE_ARTIFACT, ModelRegistry

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
    rows: int
    features: dict[str, Reference]
    score: NumericReference
    decision_threshold: float
    review_cost: float
    holdout_auc: float | None
    cutoff: datetime  # the training data's cut-off, which the model's age counts from
    feature_service: str
    holdout_precision: float | None = None  # of the alerts at the threshold
    holdout_recall: float | None = None
    holdout_auc_at_age: float | None = None  # with the labels known LABEL_AGE_DAYS after
    labels: str = "matured"  # what its training labels were: final ("matured") or known early ("known")
    # standard errors of the three holdout figures (the holdout is a sample too)
    holdout_precision_se: float | None = None
    holdout_recall_se: float | None = None
    holdout_auc_at_age_se: float | None = None


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
        ReferenceProfileError: the profile predates version 2 (retrain the model).
    """
    version = int(profile.get("version", 0))
    if version != SUPPORTED_PROFILE_VERSION:
        raise ReferenceProfileError(
            f"reference profile version {version} is not supported (expected "
            f"{SUPPORTED_PROFILE_VERSION}): retrain the model with this release to monitor it"
        )
    features = {name: _feature(data) for name, data in profile["features"].items()}
    return int(profile["rows"]), features, _numeric(profile["prediction"])


def load_model_reference(registry: ModelRegistry, ref: str | int) -> ModelReference:
    """The reference of the registry's model at a version number or alias.

    Raises:
        ModelNotFoundError: no such version or alias.
        ReferenceProfileError: no profile was saved with it, or it is too old to read.
    """
    version = registry.resolve(ref)
    try:
        profile = registry.read_json(version, PROFILE_ARTIFACT)
    except ModelNotFoundError as e:
        raise ReferenceProfileError(
            f"{registry.model_name} v{version} has no reference profile ({PROFILE_ARTIFACT})"
        ) from e
    rows, features, score = parse_profile(profile)
    metadata = registry.metadata(version)
    return ModelReference(
        model_name=registry.model_name,
        version=version,
        rows=rows,
        features=features,
        score=score,
        decision_threshold=metadata.decision_threshold,
        review_cost=metadata.review_cost,
        holdout_auc=metadata.holdout_auc,
        cutoff=metadata.training_data.cutoff,
        feature_service=metadata.feature_service,
        holdout_precision=metadata.evaluation.get("holdout_precision"),
        holdout_recall=metadata.evaluation.get("holdout_recall"),
        holdout_auc_at_age=metadata.evaluation.get(f"holdout_auc_at_{LABEL_AGE_DAYS}d"),
        labels=metadata.training_data.labels,
        holdout_precision_se=metadata.evaluation.get("holdout_precision_se"),
        holdout_recall_se=metadata.evaluation.get("holdout_recall_se"),
        holdout_auc_at_age_se=metadata.evaluation.get(f"holdout_auc_at_{LABEL_AGE_DAYS}d_se"),
    )
