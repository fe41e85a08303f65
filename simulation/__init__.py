"""The simulated payments world: customers, merchants, transactions, fraud and labels.

Seeded and deterministic: the same :class:`SimulationConfig` writes the same bytes. It
stands for the world outside: it imports only the base layer, writes raw tables and
their manifest (``skewless.raw_data``), and nothing downstream imports it.

The names below are imported on first use, so that ``simulation.scenarios`` (the
scenario names the command line checks) loads without numpy and pandas.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulation.config import SimulationConfig
    from simulation.run import SimulationSummary, simulate
    from simulation.scenarios import SCENARIOS, Scenario, get_scenario

__all__ = [
    "SCENARIOS",
    "Scenario",
    "SimulationConfig",
    "SimulationSummary",
    "get_scenario",
    "simulate",
]

_HOMES = {
    "SCENARIOS": "simulation.scenarios",
    "Scenario": "simulation.scenarios",
    "get_scenario": "simulation.scenarios",
    "SimulationConfig": "simulation.config",
    "SimulationSummary": "simulation.run",
    "simulate": "simulation.run",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'simulation' has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
