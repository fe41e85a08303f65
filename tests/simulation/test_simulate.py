"""The simulated world: determinism, labels, fraud law and drift scenarios."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import mannwhitneyu

from simulation import SimulationConfig, simulate
from skewless.errors import ConfigurationError, InvalidDateRangeError, UnknownScenarioError
from skewless.layout import DataLayout
from skewless.progress import Progress
from tests.factories import tiny_config

QUIET = Progress(quiet=True)
RAW_FILES = (
    "customers.parquet",
    "merchants.parquet",
    "transactions.parquet",
    "labels.parquet",
    "manifest.json",
)


def _simulate(tmp_path: Path, name: str, **overrides: object) -> DataLayout:
    layout = DataLayout(tmp_path / name)
    simulate(tiny_config(**overrides), layout, QUIET)
    return layout


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    positives, negatives = scores[labels == 1], scores[labels == 0]
    statistic = mannwhitneyu(positives, negatives).statistic
    return float(statistic / (len(positives) * len(negatives)))


def test_same_seed_writes_same_bytes(tmp_path: Path) -> None:
    first, second = _simulate(tmp_path, "a"), _simulate(tmp_path, "b")
    for name in RAW_FILES:
        assert (first.raw_dir / name).read_bytes() == (second.raw_dir / name).read_bytes(), name


def test_other_seed_gives_other_world(tmp_path: Path) -> None:
    first, other = _simulate(tmp_path, "a"), _simulate(tmp_path, "b", seed=8)
    assert first.transactions.read_bytes() != other.transactions.read_bytes()


def test_transactions_are_well_formed(tmp_path: Path) -> None:
    layout = _simulate(tmp_path, "a")
    tx = pd.read_parquet(layout.transactions)
    config = tiny_config()
    assert 3_000 < len(tx) < 8_000
    assert tx["transaction_id"].is_unique and tx["transaction_time"].is_monotonic_increasing
    assert tx["transaction_time"].min() >= pd.Timestamp(config.start, tz="UTC")
    assert tx["transaction_time"].max() < pd.Timestamp(config.end, tz="UTC")
    assert not tx.duplicated(["customer_id", "transaction_time"]).any()
    assert set(tx["channel"]) == {"online", "contactless", "in_store"}
    assert (tx["amount"] > 0).all() and tx["oracle_score"].between(0, 1).all()
    customers = pd.read_parquet(layout.customers)
    opened = tx.merge(customers, on="customer_id")
    assert (opened["transaction_time"] >= opened["account_open_time"]).all()


def test_labels_arrive_one_to_thirty_days_later(tmp_path: Path) -> None:
    labels = pd.read_parquet(_simulate(tmp_path, "a").labels)
    delay_days = (labels["label_time"] - labels["transaction_time"]) / timedelta(days=1)
    fraud = labels["is_fraud"] == 1
    assert fraud.sum() > 20
    assert delay_days[fraud].between(1, 30).all()
    assert delay_days[fraud].std() > 2  # spread out, not one fixed delay
    assert np.allclose(delay_days[~fraud], 30)  # a legitimate label is known when the window closes


def test_oracle_is_the_fraud_probability(tmp_path: Path) -> None:
    layout = _simulate(tmp_path, "a", scale=0.2)
    tx = pd.read_parquet(layout.transactions).merge(
        pd.read_parquet(layout.labels)[["transaction_id", "is_fraud"]]
    )
    assert tx["is_fraud"].mean() == pytest.approx(tx["oracle_score"].mean(), rel=0.15)
    assert _auc(tx["oracle_score"].to_numpy(), tx["is_fraud"].to_numpy()) > 0.8
    # Behaviour the features can see moves the probability the documented way.
    online = tx["channel"] == "online"
    assert tx.loc[online, "oracle_score"].mean() > tx.loc[~online, "oracle_score"].mean()
    night = tx["transaction_time"].dt.hour < 6
    assert tx.loc[night, "oracle_score"].mean() > tx.loc[~night, "oracle_score"].mean()


def _after(tx: pd.DataFrame, day: date) -> pd.Series:
    return tx["transaction_time"] >= pd.Timestamp(day, tz="UTC")


def test_covariate_scenario_inflates_amounts_and_foreign_share_from_its_date(tmp_path: Path) -> None:
    drift = date(2026, 1, 15)
    base = pd.read_parquet(_simulate(tmp_path, "none", drift_start=drift).transactions)
    shifted_layout = _simulate(tmp_path, "cov", scenario="covariate", drift_start=drift)
    shifted = pd.read_parquet(shifted_layout.transactions)
    before, after = ~_after(base, drift), _after(base, drift)
    pd.testing.assert_series_equal(base.loc[before, "amount"], shifted.loc[before, "amount"])
    ratio = shifted.loc[after, "amount"].sum() / base.loc[after, "amount"].sum()
    assert ratio == pytest.approx(1.6, rel=0.01)
    customers = pd.read_parquet(shifted_layout.customers)[["customer_id", "home_country"]]

    def foreign_share(tx: pd.DataFrame) -> float:
        joined = tx.loc[_after(tx, drift)].merge(customers)
        return float((joined["merchant_country"] != joined["home_country"]).mean())

    assert foreign_share(shifted) > foreign_share(base) + 0.1


def test_concept_scenario_moves_fraud_to_contactless(tmp_path: Path) -> None:
    drift = date(2026, 1, 12)
    base = pd.read_parquet(_simulate(tmp_path, "none", drift_start=drift, scale=0.2).transactions)
    moved = pd.read_parquet(
        _simulate(tmp_path, "concept", scenario="concept", drift_start=drift, scale=0.2).transactions
    )
    before = ~_after(base, drift)
    pd.testing.assert_series_equal(base.loc[before, "oracle_score"], moved.loc[before, "oracle_score"])

    def contactless_share_of_risk(tx: pd.DataFrame) -> float:
        recent = tx.loc[_after(tx, drift)]
        return float(
            recent.loc[recent["channel"] == "contactless", "oracle_score"].sum()
            / recent["oracle_score"].sum()
        )

    assert contactless_share_of_risk(moved) > contactless_share_of_risk(base) + 0.2


def test_pipeline_break_leaves_the_world_unchanged_and_records_its_faults(tmp_path: Path) -> None:
    base = _simulate(tmp_path, "none", drift_start=date(2026, 1, 15))
    broken = _simulate(tmp_path, "break", scenario="pipeline_break", drift_start=date(2026, 1, 15))
    assert base.transactions.read_bytes() == broken.transactions.read_bytes()
    assert "amount_mean_30d" in broken.manifest.read_text()


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"start": date(2026, 2, 1), "end": date(2026, 1, 1)}, InvalidDateRangeError),
        ({"start": date(2026, 1, 1), "end": date(2026, 1, 1)}, InvalidDateRangeError),
        ({"scenario": "meteor"}, UnknownScenarioError),
        ({"drift_start": date(2027, 1, 1)}, InvalidDateRangeError),
        ({"scale": 0}, ConfigurationError),
    ],
)
def test_bad_config_is_refused_with_a_named_reason(
    overrides: dict[str, object], error: type[Exception]
) -> None:
    with pytest.raises(error) as raised:
        tiny_config(**overrides)
    assert str(raised.value) and "\n" not in str(raised.value)


def test_default_period_ends_on_the_given_day() -> None:
    config = SimulationConfig.ending(date(2026, 5, 1))
    assert (config.start, config.end, config.days) == (date(2026, 1, 31), date(2026, 5, 1), 90)
    assert config.effective_drift_start == date(2026, 4, 1)
