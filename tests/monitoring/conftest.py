"""Simulated worlds per drift scenario, each with a champion and a served-feature log.

Every world runs 120 days at a tenth of the default size. The scenario starts on
day 70 (12 March); the champion is trained with a cut-off on day 90 (1 April), so
it learns from days 30-50 and never sees the change; the served log covers days
60-90 (2 March to 1 April): ten days before the change, twenty after; labels of
those days have all arrived by day 120 (1 May).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from feature_repo.operations import apply_feature_repo
from feature_repo.pipeline import build_features
from monitoring.reference import ModelReference, load_model_reference
from simulation import SimulationConfig, simulate
from skewless.settings import Settings
from skewless.tracking import configure_mlflow
from tests.conftest import QUIET
from tests.factories import make_workspace
from tests.monitoring.history import served_history, write_served_log
from training.config import TrainingConfig
from training.job import train_and_register
from training.registry import promote

WORLD_START, WORLD_END = date(2026, 1, 1), date(2026, 5, 1)
DRIFT_START = datetime(2026, 3, 12, tzinfo=UTC)
SERVED_FROM, SERVED_TO = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
CHAMPION_CUTOFF = datetime(2026, 4, 1, tzinfo=UTC)
LABELS_ALL_KNOWN = datetime(2026, 5, 1, tzinfo=UTC)
RETRAIN_AT = datetime(2026, 5, 31, tzinfo=UTC)


@dataclass(frozen=True)
class ScenarioWorld:
    settings: Settings
    reference: ModelReference
    scenario: str
    seed: int


def build_world(root: Path, scenario: str, seed: int) -> ScenarioWorld:
    settings = make_workspace(root)
    config = SimulationConfig(
        start=WORLD_START,
        # The concept world runs a month longer, so that a retrained model has a month of
        # matured post-change data to learn from and be judged on.
        end=RETRAIN_AT.date() if scenario == "concept" else WORLD_END,
        scale=0.1,
        seed=seed,
        scenario=scenario,
        drift_start=DRIFT_START.date(),
    )
    simulate(config, settings.layout, QUIET)
    build_features(settings.layout, QUIET)
    apply_feature_repo(settings)
    training = TrainingConfig(cutoff=CHAMPION_CUTOFF)
    train_and_register(settings, training, QUIET)
    assert promote(settings, training, QUIET).passed
    write_served_log(settings, served_history(settings, SERVED_FROM, SERVED_TO))
    reference = load_model_reference(configure_mlflow(settings), settings.model_name, "champion")
    return ScenarioWorld(settings, reference, scenario, seed)


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, int], ScenarioWorld]:
    """``world(scenario, seed)``: built once per session and shared by the tests that read it."""
    built: dict[tuple[str, int], ScenarioWorld] = {}

    def get(scenario: str, seed: int = 11) -> ScenarioWorld:
        if (scenario, seed) not in built:
            built[(scenario, seed)] = build_world(
                tmp_path_factory.mktemp(f"{scenario}-{seed}") / "ws", scenario, seed
            )
        return built[(scenario, seed)]

    return get
