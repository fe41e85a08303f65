"""The simulated payments world: customers, merchants, transactions, fraud and labels.

Seeded and deterministic: the same :class:`SimulationConfig` writes the same bytes.
"""

from __future__ import annotations

from simulation.config import SimulationConfig
from simulation.scenarios import SCENARIOS, Scenario, get_scenario
from simulation.simulate import SimulationSummary, simulate

__all__ = [
    "SCENARIOS",
    "Scenario",
    "SimulationConfig",
    "SimulationSummary",
    "get_scenario",
    "simulate",
]
