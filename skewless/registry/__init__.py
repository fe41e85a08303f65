"""The model-registry client: one object per entry point, passed to what needs it.

``MlflowModelRegistry`` is MLflow's registry (a sqlite file or a tracking server);
``InMemoryModelRegistry`` is the shipped test double. Both are a :class:`ModelRegistry`.
Importing this package imports neither MLflow nor LightGBM; using the registry does.
"""

from __future__ import annotations

from skewless.registry.client import (
    CANARY_ROLLBACK_TAG,
    CHALLENGER,
    CHAMPION,
    DEPLOYMENT_TAG,
    EVALUATION_REPORT_TAG,
    EVALUATION_SET_ARTIFACT,
    METADATA_ARTIFACT,
    MONITORING_REPORT_TAG,
    PREVIOUS_CHAMPION_TAG,
    PROFILE_ARTIFACT,
    ModelRegistry,
    RegisteredModel,
)
from skewless.registry.deployment import Deployment
from skewless.registry.memory import InMemoryModelRegistry
from skewless.registry.metadata import ModelMetadata, TrainingData
from skewless.registry.mlflow_registry import MlflowModelRegistry

__all__ = [
    "CANARY_ROLLBACK_TAG",
    "CHALLENGER",
    "CHAMPION",
    "DEPLOYMENT_TAG",
    "EVALUATION_REPORT_TAG",
    "EVALUATION_SET_ARTIFACT",
    "METADATA_ARTIFACT",
    "MONITORING_REPORT_TAG",
    "PREVIOUS_CHAMPION_TAG",
    "PROFILE_ARTIFACT",
    "Deployment",
    "InMemoryModelRegistry",
    "MlflowModelRegistry",
    "ModelMetadata",
    "ModelRegistry",
    "RegisteredModel",
    "TrainingData",
]
