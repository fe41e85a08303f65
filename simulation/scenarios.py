"""Drift scenarios, selectable by name and applied from a given date.

- ``none``: the world stays as it is.
- ``covariate``: amounts inflate and the merchant-country mix shifts abroad; the
  fraud law P(fraud | behaviour) is unchanged.
- ``concept``: the fraud law changes: fraud moves from online night-time buying to
  contactless card testing; the inputs look the same.
- ``pipeline_break``: the world is unchanged but an upstream job breaks, so a
  feature arrives null (or constant) in the feature tables, hence at serving time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from skewless.contract import CUSTOMER_ACTIVITY
from skewless.errors import UnknownScenarioError
from skewless.raw_data import FeatureFault

__all__ = ["SCENARIOS", "SCENARIO_NAMES", "Scenario", "get_scenario"]


@dataclass(frozen=True)
class Scenario:
    """How the world changes from the drift date on."""

    name: str
    description: str
    amount_multiplier: float = 1.0
    foreign_share: float | None = None
    fraud_law: Literal["base", "card_testing"] = "base"
    faults: tuple[FeatureFault, ...] = field(default_factory=tuple)


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("none", "no drift"),
        Scenario(
            "covariate",
            "amounts x1.6 and three times as many foreign merchants; fraud law unchanged",
            amount_multiplier=1.6,
            foreign_share=0.30,
        ),
        Scenario(
            "concept",
            "fraud moves to contactless daytime card testing with small amounts",
            fraud_law="card_testing",
        ),
        Scenario(
            "pipeline_break",
            "customer amount mean arrives null and distinct-merchant count constant",
            faults=(
                FeatureFault(CUSTOMER_ACTIVITY, "amount_mean_30d", "null"),
                FeatureFault(CUSTOMER_ACTIVITY, "distinct_merchants_7d", "constant", 1.0),
            ),
        ),
    )
}


SCENARIO_NAMES = tuple(sorted(SCENARIOS))


def get_scenario(name: str) -> Scenario:
    """Return the scenario called ``name``.

    Raises:
        UnknownScenarioError: when ``name`` is not a shipped scenario.
    """
    try:
        return SCENARIOS[name]
    except KeyError:
        known = ", ".join(SCENARIO_NAMES)
        raise UnknownScenarioError(f"unknown scenario '{name}': choose one of {known}") from None
