"""Load a served model by alias: the native LightGBM booster and its own metadata.

The feature service and the feature order come from the model's metadata sidecar,
never from serving code, so the API always asks Feast for exactly what the model
was trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

import lightgbm as lgb
import mlflow.lightgbm
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from serving.errors import ModelUnavailableError
from skewless.model_input import FeatureEncoding
from skewless.tracking import METADATA_ARTIFACT, read_run_json

__all__ = ["ServingModel", "load_model"]


@dataclass(frozen=True)
class ServingModel:
    """A model version ready to score."""

    name: str
    version: int
    alias: str
    booster: lgb.Booster
    encoding: FeatureEncoding
    feature_service: str
    threshold: float

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Scores of encoded rows; a few rows use one thread (no pool start-up per call)."""
        scores = self.booster.predict(matrix, num_threads=1 if len(matrix) < 64 else 0)
        return np.asarray(scores, dtype=np.float64)


def load_model(client: MlflowClient, name: str, alias: str) -> ServingModel:
    """Load ``name@alias`` from the MLflow registry.

    Raises:
        ModelUnavailableError: no such model or alias.
    """
    try:
        version = client.get_model_version_by_alias(name, alias)
    except MlflowException as e:
        raise ModelUnavailableError(f"no model '{name}' with alias '{alias}' in the registry") from e
    booster = mlflow.lightgbm.load_model(f"models:/{name}/{version.version}")
    metadata = read_run_json(client, str(version.run_id), METADATA_ARTIFACT)
    return ServingModel(
        name=name,
        version=int(version.version),
        alias=alias,
        booster=booster,
        encoding=FeatureEncoding.from_dict(metadata["encoding"]),
        feature_service=str(metadata["feature_service"]),
        threshold=float(metadata["decision_threshold"]),
    )
