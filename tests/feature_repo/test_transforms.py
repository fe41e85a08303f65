"""The on-demand transforms as Feast runs them: rebuilt from the registry's source text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from feast.transformation.udf_rehydrate import rehydrate_udf_from_source

from feature_repo.operations import open_feature_store
from skewless.settings import Settings

WHEN = datetime(2026, 1, 20, 3, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def transform(built_workspace: Settings) -> Callable[[dict[str, list[Any]]], dict[str, list[Any]]]:
    odfv = open_feature_store(built_workspace).get_on_demand_feature_view("transaction_context")
    source = odfv.feature_transformation.udf_string
    rebuilt = rehydrate_udf_from_source(source, preferred_name="transaction_context")
    assert rebuilt is not None, "the stored source must run without the definitions module's globals"
    return rebuilt  # type: ignore[no-any-return]


def test_known_customer(transform: Callable[[dict[str, list[Any]]], dict[str, list[Any]]]) -> None:
    out = transform(
        {
            "amount": [100.0],
            "channel": ["online"],
            "merchant_country": ["FR"],
            "transaction_time": [WHEN],
            "amount_mean_30d": [50.0],
            "amount_std_30d": [25.0],
            "home_country": ["DE"],
            "account_open_time": [WHEN - timedelta(days=10)],
            "last_txn_time": [WHEN - timedelta(minutes=5)],
            "txn_times_1h": [[(WHEN - timedelta(minutes=m)).timestamp() for m in (50, 20, 5)]],
        }
    )
    assert out == {
        "txn_amount": [100.0],
        "txn_channel": ["online"],
        "amount_to_mean_30d": [2.0],
        "amount_zscore_30d": [2.0],
        "is_foreign": [1.0],
        "hour_of_day": [3],
        "is_night": [1],
        "account_age_days": [10.0],
        "is_new_account": [1.0],
        "seconds_since_last_txn": [300.0],
        "txn_count_1h_now": [4.0],
    }


@pytest.mark.parametrize("absent", [None, float("nan"), pd.NaT, pd.NA])
def test_missing_inputs_give_missing_outputs(
    transform: Callable[[dict[str, list[Any]]], dict[str, list[Any]]], absent: Any
) -> None:
    out = transform(
        {
            "amount": [80.0],
            "channel": ["in_store"],
            "merchant_country": ["US"],
            "transaction_time": [pd.Timestamp(WHEN).tz_localize(None)],  # naive means UTC
            "amount_mean_30d": [absent],
            "amount_std_30d": [absent],
            "home_country": [absent],
            "account_open_time": [absent],
            "last_txn_time": [absent],
            "txn_times_1h": [absent],
        }
    )
    assert out["amount_to_mean_30d"] == [None] and out["amount_zscore_30d"] == [None]
    assert out["is_foreign"] == [None] and out["is_new_account"] == [None]
    assert out["account_age_days"] == [None]
    assert out["seconds_since_last_txn"] == [None] and out["txn_count_1h_now"] == [None]
    assert out["hour_of_day"] == [3] and out["txn_amount"] == [80.0]


def test_hour_count_counts_only_transactions_still_inside_the_hour(
    transform: Callable[[dict[str, list[Any]]], dict[str, list[Any]]],
) -> None:
    """The stored hour is as of the last transaction; of it, only what is under an hour old now counts.

    (``1 + txn_count_1h`` gave 6 for the first row: it counted the four transactions that left the hour.)
    """
    stored_hour = [(WHEN - timedelta(minutes=m)).timestamp() for m in (100, 95, 90, 70, 59)]
    base = {
        "amount": [10.0, 10.0, 10.0],
        "channel": ["online"] * 3,
        "merchant_country": ["US"] * 3,
        "transaction_time": [WHEN] * 3,
        "amount_mean_30d": [10.0] * 3,
        "amount_std_30d": [1.0] * 3,
        "home_country": ["US"] * 3,
        "account_open_time": [WHEN - timedelta(days=400)] * 3,
        "last_txn_time": [
            WHEN - timedelta(minutes=59),
            WHEN - timedelta(minutes=61),
            WHEN - timedelta(minutes=1),
        ],
        "txn_times_1h": [
            stored_hour,
            [t - 120 for t in stored_hour],
            np.array(
                [(WHEN - timedelta(minutes=m)).timestamp() for m in (30, 10, 1)]
            ),  # as offline passes it
        ],
    }
    assert transform(base)["txn_count_1h_now"] == [2.0, 1.0, 4.0]
