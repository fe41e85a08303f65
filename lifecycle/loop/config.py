"""What the main job is asked to do, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.scenarios import get_scenario
from skewless.errors import InputError

if TYPE_CHECKING:
    from feature_repo.operations import ApplySummary
    from feature_repo.pipeline import FeatureBuildSummary
    from simulation import SimulationSummary
    from training.job import TrainingOutcome
    from training.registry import GateDecision

__all__ = ["LoopConfig", "LoopEvent", "LoopResult", "Start"]


@dataclass(frozen=True)
class LoopConfig:
    """The story the loop tells and its pace.

    Raises:
        UnknownScenarioError: ``scenario`` is not a shipped one.
        InputError: a pace that cannot run (no day replayed, no request a day, a share outside [0, 1]).
    """

    scenario: str = "concept"
    scale: float = 1.0  # 5,000 customers, ~4,700 transactions a day: enough frauds to learn a new pattern
    seed: int = 42
    end: date | None = None  # the last simulated day is the day before (default: today)
    history_days: int = 90  # simulated before the replay: warm-up, training, validation, holdout
    replay_days: int = 42
    drift_after_days: int = 7  # the scenario's change starts this many days into the replay
    per_day: int = 1500  # transactions sent to the API per simulated day (a sample of the world's)
    check_every_days: int = 7
    window_days: int = 7  # each check judges its span week by week
    check_span_days: int = 28  # each check reads the last four weeks
    shadow_days: int = 3
    canary_days: int = 4
    canary_share: float = 0.5
    reviews_per_day: int = 60  # alerts the analysts review a day, highest-scored first

    def __post_init__(self) -> None:
        get_scenario(self.scenario)
        if self.replay_days < 1 or self.per_day < 1 or self.check_every_days < 1 or self.reviews_per_day < 0:
            raise InputError("the loop needs at least one replayed day, one request a day and one check")
        if not 0.0 <= self.canary_share <= 1.0:
            raise InputError(f"the canary share must be within [0, 1], got {self.canary_share}")
        if self.drift_after_days >= self.replay_days:
            raise InputError(
                f"the scenario's change starts on replayed day {self.drift_after_days + 1}: "
                f"replay at least {self.drift_after_days + 1} days, not {self.replay_days}"
            )


@dataclass(frozen=True)
class LoopEvent:
    """One thing that happened on one simulated day, and the page that shows it (if any)."""

    day: str
    stage: str
    detail: str
    page: str | None = None


@dataclass(frozen=True)
class Start:
    """What was built before the first replayed day: data, features, the first champion."""

    simulation: SimulationSummary
    features: FeatureBuildSummary
    applied: ApplySummary
    request: dict[str, Any]  # one incoming transaction of the first replayed day
    online_features: dict[str, Any]  # what the API reads for it
    training: TrainingOutcome
    promotion: GateDecision


@dataclass(frozen=True)
class LoopResult:
    """What the loop did, day by day, and where its pages are."""

    config: LoopConfig
    start: Start
    events: list[LoopEvent]
    checks: list[dict[str, Any]]
    weeks: list[dict[str, Any]]
    periods: list[dict[str, Any]]  # AUC per version serving, before and after the change, weeks pooled
    summary_json: Path
    summary_html: Path
    seconds: float
    champion_version: int | None
    mlflow_ui: str  # how a person opens the runs and models
    previous: list[str] = field(default_factory=list)
