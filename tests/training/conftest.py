"""A trained workspace shared by the training tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from feature_repo.operations import apply_feature_repo, open_feature_store
from feature_repo.pipeline import build_features
from simulation import simulate
from skewless.settings import Settings
from tests.conftest import QUIET
from tests.factories import make_workspace, training_world_config
from training.config import TrainingConfig
from training.dataset import TrainingSet, build_training_set
from training.job import TrainingOutcome, train_and_register


@dataclass(frozen=True)
class TrainedWorkspace:
    settings: Settings
    config: TrainingConfig
    training_set: TrainingSet
    outcome: TrainingOutcome


def prepare_world(settings: Settings, **overrides: object) -> None:
    simulate(training_world_config(**overrides), settings.layout, QUIET)
    build_features(settings.layout, QUIET)
    apply_feature_repo(settings)


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorkspace:
    """Ninety simulated days, features, registry, and one model registered as challenger."""
    settings = make_workspace(tmp_path_factory.mktemp("trained") / "ws")
    prepare_world(settings)
    config = TrainingConfig()
    training_set = build_training_set(open_feature_store(settings), settings.layout, config, QUIET)
    outcome = train_and_register(settings, config, QUIET)
    return TrainedWorkspace(settings, config, training_set, outcome)
