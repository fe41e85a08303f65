"""The fraud law: the known probability that a transaction is fraud.

P(fraud) = sigmoid(intercept + sum of weights x behaviour the features can see):
bursts of transactions, an amount unusual for the customer, a foreign merchant, a
risky merchant, night hours, a new account and the channel. The probability is kept
per transaction as the oracle score, the best any model could do.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["LAWS", "Behaviour", "FraudLaw", "fraud_probability"]


@dataclass(frozen=True)
class Behaviour:
    """Per-transaction behaviour the fraud law reads (arrays of equal length)."""

    burst_count_1h: np.ndarray  # this customer's transactions in the last hour, this one included
    amount_ratio: np.ndarray  # amount / the customer's typical amount
    foreign: np.ndarray  # merchant country differs from the home country
    merchant_risk: np.ndarray  # merchant base risk in [0, 1]
    night: np.ndarray  # local hour in [0, 6)
    new_account: np.ndarray  # account younger than 30 days
    channel: np.ndarray  # channel name


@dataclass(frozen=True)
class FraudLaw:
    """Weights of the logistic fraud law."""

    intercept: float
    burst: float
    amount: float
    foreign: float
    merchant_risk: float
    night: float
    new_account: float
    channel: dict[str, float] = field(default_factory=dict)


LAWS: dict[str, FraudLaw] = {
    "base": FraudLaw(
        intercept=-7.4,
        burst=1.3,
        amount=0.9,
        foreign=1.2,
        merchant_risk=2.6,
        night=1.0,
        new_account=1.1,
        channel={"online": 0.9, "contactless": -0.4, "in_store": -0.6},
    ),
    # Concept drift: small contactless "card testing" bursts in daytime.
    "card_testing": FraudLaw(
        intercept=-6.0,
        burst=1.6,
        amount=-0.8,
        foreign=0.2,
        merchant_risk=0.6,
        night=-0.5,
        new_account=1.1,
        channel={"online": -0.6, "contactless": 1.8, "in_store": -0.4},
    ),
}


def fraud_probability(behaviour: Behaviour, law: FraudLaw) -> np.ndarray:
    """Return P(fraud) for each transaction under ``law``."""
    channel_effect = np.zeros(len(behaviour.channel))
    for name, weight in law.channel.items():
        channel_effect[behaviour.channel == name] = weight
    logit = (
        law.intercept
        + law.burst * np.log(behaviour.burst_count_1h)
        + law.amount * np.clip(np.log(behaviour.amount_ratio), -2.0, 3.0)
        + law.foreign * behaviour.foreign
        + law.merchant_risk * behaviour.merchant_risk
        + law.night * behaviour.night
        + law.new_account * behaviour.new_account
        + channel_effect
    )
    result: np.ndarray = 1.0 / (1.0 + np.exp(-logit))
    return result
