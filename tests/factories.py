"""Small simulated worlds and workspaces for tests (the shared, session-built ones: ``tests.worlds``)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from lifecycle.workspace import create_workspace
from simulation.config import SimulationConfig
from skewless.modes import Profile
from skewless.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TINY_START = date(2026, 1, 1)
TINY_END = date(2026, 1, 22)
TRAIN_START = date(2026, 1, 1)
TRAIN_END = date(2026, 4, 1)


def make_workspace(root: Path, profile: Profile = Profile.EMBEDDED, **settings: object) -> Settings:
    """A workspace of the test's own (see ``lifecycle.workspace.create_workspace``).

    Its worlds are simulated in the past, so readiness does not require a store fresh by the wall
    clock (the readiness tests turn that on)."""
    settings.setdefault("ready_requires_fresh_store", False)
    return create_workspace(root, profile, **settings)


def training_world_config(**overrides: object) -> SimulationConfig:
    """Ninety days at a tenth of the default size (~43k transactions): enough to train.

    Training needs the 30-day label maturity, a 30-day warm-up and 10 days of
    validation + holdout before its cut-off, which leaves 20 days to train on.
    """
    options: dict[str, object] = {"start": TRAIN_START, "end": TRAIN_END, "scale": 0.1, "seed": 21}
    options.update(overrides)
    return SimulationConfig(**options)  # type: ignore[arg-type]


def tiny_config(**overrides: object) -> SimulationConfig:
    """About 200 customers over three weeks: a few thousand transactions."""
    options: dict[str, object] = {"start": TINY_START, "end": TINY_END, "scale": 0.04, "seed": 7}
    options.update(overrides)
    return SimulationConfig(**options)  # type: ignore[arg-type]
