"""Customers and merchants: the static part of the world.

Observable attributes go to the raw tables; latent traits that drive behaviour
(typical amount, activity rate, online propensity) stay in :class:`Population`
and are never written, so the model can only learn them through features.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

__all__ = ["AGE_BANDS", "CATEGORIES", "CHANNELS", "COUNTRIES", "Population", "draw_population"]

COUNTRIES = np.array(["US", "GB", "DE", "FR", "ES", "IT", "NL", "BR", "IN", "JP"])
COUNTRY_WEIGHTS = np.array([0.30, 0.14, 0.12, 0.10, 0.07, 0.07, 0.05, 0.06, 0.05, 0.04])
AGE_BANDS = np.array(["18-24", "25-34", "35-44", "45-54", "55-64", "65+"])
AGE_WEIGHTS = np.array([0.12, 0.24, 0.22, 0.18, 0.14, 0.10])
CHANNELS = np.array(["in_store", "contactless", "online"])
# Category and its base fraud risk in [0, 1].
CATEGORIES = {
    "grocery": 0.05,
    "fuel": 0.10,
    "restaurants": 0.08,
    "fashion": 0.25,
    "travel": 0.45,
    "electronics": 0.60,
    "digital_goods": 0.70,
    "gaming": 0.65,
    "jewelry": 0.75,
    "gift_cards": 0.90,
}
CATEGORY_WEIGHTS = np.array([0.22, 0.12, 0.18, 0.12, 0.07, 0.08, 0.07, 0.05, 0.04, 0.05])
NEW_ACCOUNT_SHARE = 0.12


@dataclass(frozen=True)
class Population:
    """Customers and merchants with their latent traits (index = id - 1)."""

    customers: pd.DataFrame
    merchants: pd.DataFrame
    typical_amount: np.ndarray
    activity_rate: np.ndarray
    online_propensity: np.ndarray
    closes_after_s: np.ndarray  # seconds from the start when the customer stops transacting (inf: never)


def draw_population(
    rng: np.random.Generator, n_customers: int, n_merchants: int, start: datetime, days: int
) -> Population:
    """Draw customers and merchants.

    Args:
        rng: the run's random generator.
        n_customers: number of customers.
        n_merchants: number of merchants.
        start: start of the simulated period (UTC).
        days: length of the simulated period.

    Returns:
        The population, with customer and merchant tables ready to write.
    """
    customer_id = np.arange(1, n_customers + 1, dtype=np.int64)
    home = rng.choice(COUNTRIES, size=n_customers, p=COUNTRY_WEIGHTS)
    age_band = rng.choice(AGE_BANDS, size=n_customers, p=AGE_WEIGHTS)
    is_new = rng.random(n_customers) < NEW_ACCOUNT_SHARE
    # Old accounts opened up to five years before the period; new ones during it.
    offset_s = np.where(
        is_new,
        rng.uniform(0, days * 0.9, n_customers) * 86_400,
        -rng.uniform(30, 5 * 365, n_customers) * 86_400,
    )
    opened = pd.Timestamp(start) + pd.to_timedelta(np.round(offset_s), unit="s")
    credit_limit = np.round(np.exp(rng.normal(np.log(4_000), 0.6, n_customers)), -2)
    typical_amount = np.exp(rng.normal(np.log(45.0), 0.5, n_customers)) * (credit_limit / 4_000) ** 0.3
    customers = pd.DataFrame(
        {
            "customer_id": customer_id,
            "home_country": home,
            "age_band": age_band,
            "credit_limit": credit_limit.astype(np.float64),
            "account_open_time": opened.astype("datetime64[us, UTC]"),
        }
    )

    merchant_id = np.arange(1, n_merchants + 1, dtype=np.int64)
    names = np.array(list(CATEGORIES))
    category = rng.choice(names, size=n_merchants, p=CATEGORY_WEIGHTS)
    category_risk = np.array([CATEGORIES[c] for c in category])
    base_risk = np.clip(category_risk + rng.normal(0, 0.08, n_merchants), 0.0, 1.0)
    merchants = pd.DataFrame(
        {
            "merchant_id": merchant_id,
            "category": category,
            "country": rng.choice(COUNTRIES, size=n_merchants, p=COUNTRY_WEIGHTS),
            "base_risk": np.round(base_risk, 4),
        }
    )
    # Churn balances the new accounts: as many old customers stop transacting, at the
    # same pace, so traffic volume stays level and scenario `none` is stationary.
    closes_after_s = np.full(n_customers, np.inf)
    old = np.flatnonzero(~is_new)
    churned = rng.choice(old, size=min(int(is_new.sum()), len(old)), replace=False)
    closes_after_s[churned] = rng.uniform(0, days * 0.9, len(churned)) * 86_400
    return Population(
        customers=customers,
        merchants=merchants,
        typical_amount=typical_amount,
        activity_rate=rng.gamma(2.0, 0.5, n_customers),
        online_propensity=rng.beta(2.0, 4.0, n_customers),
        closes_after_s=closes_after_s,
    )
