"""Transactions over time, and the behaviour that drives the fraud law.

Each customer transacts at a personal daily rate with a day-time rhythm, mostly at
domestic merchants and around a personal typical amount. Now and then a customer
has a *burst*: several transactions within minutes, more often online, abroad, at
risky merchants and for unusual amounts. Bursts are not fraud by themselves; the
fraud law turns such behaviour into probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.fraud_law import LAWS, Behaviour, fraud_probability
from simulation.scenarios import Scenario
from simulation.world import COUNTRIES, Population

__all__ = ["TransactionDraw", "draw_transactions"]

US_PER_S = 1_000_000
HOUR_US = 3_600 * US_PER_S
DAY_S = 86_400
# Share of each hour of the day in normal activity (UTC stands in for local time).
HOURLY = np.array(
    [1, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 4, 5, 5.5, 6, 6.5, 6, 5.5, 5.5, 6, 6.5, 7, 6.5, 5.5, 4, 3, 2]
)
HOURLY = HOURLY / HOURLY.sum()
BURST_RATE_PER_DAY = 0.012
BASE_FOREIGN_SHARE = 0.08
BURST_FOREIGN_SHARE = 0.45
RISKY_THRESHOLD = 0.5


@dataclass(frozen=True)
class TransactionDraw:
    """Transactions (sorted by time) and the truth behind them."""

    transactions: pd.DataFrame
    is_fraud: np.ndarray


def _normal_times(rng: np.random.Generator, active_from: np.ndarray, active_until: np.ndarray) -> np.ndarray:
    """Seconds since start for normal transactions, with a day-time rhythm."""
    uniform = active_from + rng.random(len(active_from)) * (active_until - active_from)
    day = np.floor(uniform / DAY_S)
    hour = rng.choice(24, size=len(day), p=HOURLY)
    seconds = day * DAY_S + hour * 3_600 + rng.random(len(day)) * 3_600
    clipped: np.ndarray = np.clip(seconds, active_from, active_until - 1e-3)
    return clipped


def _pick_merchants(
    rng: np.random.Generator,
    population: Population,
    home: np.ndarray,
    foreign: np.ndarray,
    risky: np.ndarray,
) -> np.ndarray:
    """Merchant index for each transaction: home or foreign country, or any risky merchant."""
    merchants = population.merchants
    country_code = pd.Categorical(merchants["country"], categories=COUNTRIES).codes
    order = np.argsort(country_code, kind="stable")
    counts = np.bincount(country_code, minlength=len(COUNTRIES))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])

    home_code = pd.Categorical(home, categories=COUNTRIES).codes
    shift = rng.integers(1, len(COUNTRIES), size=len(home))
    target = np.where(foreign, (home_code + shift) % len(COUNTRIES), home_code)
    # A country without merchants falls back to any merchant.
    available = counts[target]
    picked = np.where(
        available > 0,
        order[
            np.minimum(
                offsets[target] + (rng.random(len(target)) * available).astype(np.int64), len(order) - 1
            )
        ],
        rng.integers(0, len(merchants), size=len(target)),
    )
    risky_pool = np.flatnonzero(merchants["base_risk"].to_numpy() >= RISKY_THRESHOLD)
    if len(risky_pool):
        risky_pick = risky_pool[rng.integers(0, len(risky_pool), size=len(target))]
        picked = np.where(risky, risky_pick, picked)
    return picked


def draw_transactions(
    rng: np.random.Generator,
    population: Population,
    period_s: float,
    drift_s: float,
    scenario: Scenario,
    start: pd.Timestamp,
) -> TransactionDraw:
    """Draw every transaction of the period and whether it is fraud.

    Args:
        rng: the run's random generator.
        population: customers and merchants with latent traits.
        period_s: length of the period in seconds.
        drift_s: seconds from the start at which ``scenario`` applies.
        scenario: the drift scenario.
        start: the period's start (UTC).

    Returns:
        Transactions sorted by time with ``transaction_id`` 1..N, oracle score and truth.
    """
    customers = population.customers
    open_s = ((customers["account_open_time"] - start).dt.total_seconds()).to_numpy()
    active_from = np.clip(open_s, 0.0, period_s)
    active_until = np.clip(population.closes_after_s, active_from, period_s)
    active_days = (active_until - active_from) / DAY_S

    n_normal = rng.poisson(population.activity_rate * active_days)
    normal_cust = np.repeat(np.arange(len(customers)), n_normal)
    normal_t = _normal_times(rng, active_from[normal_cust], active_until[normal_cust])

    n_bursts = rng.poisson(BURST_RATE_PER_DAY * active_days)
    burst_owner = np.repeat(np.arange(len(customers)), n_bursts)
    burst_start = active_from[burst_owner] + rng.random(len(burst_owner)) * (
        active_until[burst_owner] - active_from[burst_owner]
    )
    burst_size = rng.integers(3, 9, size=len(burst_owner))
    burst_cust = np.repeat(burst_owner, burst_size)
    gaps = rng.exponential(6 * 60, size=len(burst_cust))
    first = np.concatenate([[0], np.cumsum(burst_size)[:-1]])
    gaps[first] = 0.0
    within = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[first], burst_size)
    burst_t = np.repeat(burst_start, burst_size) + within
    keep = burst_t < period_s
    burst_cust, burst_t = burst_cust[keep], burst_t[keep]

    cust = np.concatenate([normal_cust, burst_cust])
    seconds = np.concatenate([normal_t, burst_t])
    in_burst = np.concatenate([np.zeros(len(normal_cust), bool), np.ones(len(burst_cust), bool)])

    # Order by customer then time; make each customer's timestamps strictly increasing.
    t_us = np.round(seconds * US_PER_S).astype(np.int64)
    order = np.lexsort((t_us, cust))
    cust, t_us, in_burst = cust[order], t_us[order], in_burst[order]
    same = np.concatenate([[False], cust[1:] == cust[:-1]])
    while True:
        clash = same & (np.diff(t_us, prepend=t_us[0] - 1) <= 0)
        if not clash.any():
            break
        t_us[clash] = t_us[np.flatnonzero(clash) - 1] + 1

    drifted = t_us >= round(drift_s * US_PER_S)
    home = customers["home_country"].to_numpy()[cust]
    drifted_share = BASE_FOREIGN_SHARE if scenario.foreign_share is None else scenario.foreign_share
    foreign_share = np.where(drifted, drifted_share, BASE_FOREIGN_SHARE)
    foreign_share = np.where(in_burst, BURST_FOREIGN_SHARE, foreign_share)
    wants_foreign = rng.random(len(cust)) < foreign_share
    wants_risky = in_burst & (rng.random(len(cust)) < 0.5)
    merchant_idx = _pick_merchants(rng, population, home, wants_foreign, wants_risky)

    online_p = np.where(in_burst, 0.7, population.online_propensity[cust])
    channel = np.where(
        rng.random(len(cust)) < online_p,
        "online",
        np.where(rng.random(len(cust)) < np.where(in_burst, 0.67, 0.6), "contactless", "in_store"),
    )
    typical = population.typical_amount[cust]
    spread = np.where(in_burst, 0.8, 0.7)
    centre = np.where(in_burst, np.log(2.5), 0.0)
    amount = typical * np.exp(rng.normal(centre, spread))
    amount = np.where(drifted, amount * scenario.amount_multiplier, amount)
    amount = np.maximum(np.round(amount, 2), 0.5)

    merchants = population.merchants
    merchant_country = merchants["country"].to_numpy()[merchant_idx]
    hour = (t_us // HOUR_US) % 24
    key = cust.astype(np.int64) * (np.int64(period_s * US_PER_S) + 2 * HOUR_US) + t_us
    burst_count = np.arange(len(key)) - np.searchsorted(key, key - HOUR_US, side="left") + 1
    behaviour = Behaviour(
        burst_count_1h=burst_count.astype(np.float64),
        amount_ratio=amount / typical,
        foreign=(merchant_country != home).astype(np.float64),
        merchant_risk=merchants["base_risk"].to_numpy()[merchant_idx],
        night=(hour < 6).astype(np.float64),
        new_account=((t_us / US_PER_S - open_s[cust]) < 30 * DAY_S).astype(np.float64),
        channel=channel,
    )
    oracle = fraud_probability(behaviour, LAWS["base"])
    if scenario.fraud_law != "base":
        oracle = np.where(drifted, fraud_probability(behaviour, LAWS[scenario.fraud_law]), oracle)
    is_fraud = rng.random(len(cust)) < oracle

    by_time = np.lexsort((cust, t_us))
    transactions = pd.DataFrame(
        {
            "transaction_id": np.arange(1, len(cust) + 1, dtype=np.int64),
            "transaction_time": pd.to_datetime(start) + pd.to_timedelta(t_us[by_time], unit="us"),
            "customer_id": customers["customer_id"].to_numpy()[cust[by_time]],
            "merchant_id": merchants["merchant_id"].to_numpy()[merchant_idx[by_time]],
            "amount": amount[by_time],
            "channel": channel[by_time],
            "merchant_country": merchant_country[by_time],
            "oracle_score": np.round(oracle[by_time], 8),
        }
    )
    transactions["transaction_time"] = transactions["transaction_time"].astype("datetime64[us, UTC]")
    return TransactionDraw(transactions=transactions, is_fraud=is_fraud[by_time])
