"""The typed configuration of one simulation run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from simulation.scenarios import get_scenario
from skewless.errors import ConfigurationError, InvalidDateRangeError

__all__ = ["SimulationConfig", "today_utc"]

# Default scale 1: ~5,000 customers and ~450,000 transactions over 90 days.
CUSTOMERS_PER_SCALE = 5_000
MERCHANTS_PER_SCALE = 800
DEFAULT_DAYS = 90


def today_utc() -> date:
    """Today's date in UTC: the default end of a simulation."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate: period, size, seed and drift scenario.

    Args:
        start: first simulated day (UTC midnight). The CLI defaults to the 90 days
            ending today, so that features are fresh for online serving now; pass
            explicit dates to reproduce a run byte for byte.
        end: day after the last simulated day (exclusive).
        scale: size multiplier; 1 ≈ 450k transactions over 90 days.
        seed: seed of every random draw.
        scenario: drift scenario name (see ``simulation.scenarios``).
        drift_start: first day the scenario applies; defaults to two thirds in.

    Raises:
        InvalidDateRangeError: empty or reversed period, or drift outside it.
        UnknownScenarioError: scenario name not shipped.
        ConfigurationError: non-positive scale.
    """

    start: date
    end: date
    scale: float = 1.0
    seed: int = 42
    scenario: str = "none"
    drift_start: date | None = None

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidDateRangeError(f"bad date range: end {self.end} must be after start {self.start}")
        if self.scale <= 0:
            raise ConfigurationError(f"scale must be positive, got {self.scale}")
        get_scenario(self.scenario)
        if self.drift_start is not None and not self.start <= self.drift_start < self.end:
            raise InvalidDateRangeError(
                f"bad drift start {self.drift_start}: must lie in [{self.start}, {self.end})"
            )

    @classmethod
    def ending(cls, end: date, days: int = DEFAULT_DAYS, **options: Any) -> SimulationConfig:
        """A config for the ``days`` days before ``end`` (exclusive)."""
        if days <= 0:
            raise InvalidDateRangeError(f"bad date range: days must be positive, got {days}")
        return cls(start=end - timedelta(days=days), end=end, **options)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def effective_drift_start(self) -> date:
        """The first day the scenario applies (two thirds into the period by default)."""
        if self.drift_start is not None:
            return self.drift_start
        return self.start + timedelta(days=(2 * self.days) // 3)

    @property
    def n_customers(self) -> int:
        return max(10, round(CUSTOMERS_PER_SCALE * self.scale))

    @property
    def n_merchants(self) -> int:
        return max(20, round(MERCHANTS_PER_SCALE * self.scale))

    @staticmethod
    def to_datetime(day: date) -> datetime:
        """UTC midnight of ``day``."""
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
