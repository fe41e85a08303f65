"""``metadata.json``: what every registered model version carries for serving and monitoring.

Training writes it with the model; serving reads the feature service, the encoding and
the threshold from it, monitoring the holdout figures and the training cut-off. It is
read only through :class:`ModelMetadata`, never as raw dictionary keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from skewless.model_input import FeatureEncoding

__all__ = ["ModelMetadata", "TrainingData"]


@dataclass(frozen=True)
class TrainingData:
    """The point-in-time training set a version learned from."""

    content_hash: str
    path: str
    cutoff: datetime
    first_transaction: datetime
    last_transaction: datetime
    rows: dict[str, int] = field(default_factory=dict)  # per split
    labels: str = "matured"  # "matured": final labels; "known": those known at the cut-off
    legit_sample_rate: float = 1.0  # share of the train split's legitimate rows kept (rows counts those)

    def to_dict(self) -> dict[str, Any]:
        return {
            "content_hash": self.content_hash,
            "path": self.path,
            "cutoff": self.cutoff.isoformat(),
            "first_transaction": self.first_transaction.isoformat(),
            "last_transaction": self.last_transaction.isoformat(),
            "rows": dict(self.rows),
            "labels": self.labels,
            "legit_sample_rate": self.legit_sample_rate,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingData:
        return cls(
            content_hash=str(data["content_hash"]),
            path=str(data["path"]),
            cutoff=datetime.fromisoformat(str(data["cutoff"])),
            first_transaction=datetime.fromisoformat(str(data["first_transaction"])),
            last_transaction=datetime.fromisoformat(str(data["last_transaction"])),
            rows={str(k): int(v) for k, v in data.get("rows", {}).items()},
            labels=str(data.get("labels", "matured")),
            legit_sample_rate=float(data.get("legit_sample_rate", 1.0)),
        )


@dataclass(frozen=True)
class ModelMetadata:
    """Everything a version needs to be served and monitored, beside its booster."""

    model_name: str
    feature_service: str
    encoding: FeatureEncoding
    decision_threshold: float
    review_cost: float
    training_data: TrainingData
    evaluation: dict[str, float] = field(default_factory=dict)  # the holdout figures, flat
    best_iteration: int = 0
    seed: int = 0
    git_commit: str = "unknown"

    @property
    def holdout_auc(self) -> float | None:
        """ROC-AUC on the training run's holdout, the baseline of live performance."""
        value = self.evaluation.get("holdout_roc_auc")
        return None if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "feature_service": self.feature_service,
            "encoding": self.encoding.to_dict(),
            "decision_threshold": self.decision_threshold,
            "review_cost": self.review_cost,
            "training_data": self.training_data.to_dict(),
            "evaluation": dict(self.evaluation),
            "best_iteration": self.best_iteration,
            "seed": self.seed,
            "git_commit": self.git_commit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelMetadata:
        return cls(
            model_name=str(data["model_name"]),
            feature_service=str(data["feature_service"]),
            encoding=FeatureEncoding.from_dict(data["encoding"]),
            decision_threshold=float(data["decision_threshold"]),
            review_cost=float(data.get("review_cost", 5.0)),
            training_data=TrainingData.from_dict(data["training_data"]),
            evaluation={str(k): float(v) for k, v in data.get("evaluation", {}).items()},
            best_iteration=int(data.get("best_iteration", 0)),
            seed=int(data.get("seed", 0)),
            git_commit=str(data.get("git_commit", "unknown")),
        )
