"""The feature pipeline against brute-force references; incremental and idempotent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from feature_repo.pipeline import build_features
from simulation import simulate
from skewless.errors import DataNotFoundError, InvalidDateRangeError
from skewless.layout import DataLayout
from skewless.progress import Progress
from tests.factories import TINY_END, TINY_START, tiny_config
from tests.feature_repo import reference

QUIET = Progress(quiet=True)


def _read(layout: DataLayout, table: str) -> pd.DataFrame:
    frame = pd.read_parquet(layout.feature_table_dir(table))
    return frame.sort_values(["event_timestamp", frame.columns[0]]).reset_index(drop=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> DataLayout:
    layout = DataLayout(tmp_path_factory.mktemp("pipeline"))
    simulate(tiny_config(), layout, QUIET)
    build_features(layout, QUIET)
    return layout


def test_customer_activity_matches_brute_force(built: DataLayout) -> None:
    got = _read(built, "customer_activity")
    expected = reference.customer_activity(pd.read_parquet(built.transactions))
    assert len(got) == len(expected)
    assert (got["created"] == got["event_timestamp"]).all()
    pd.testing.assert_frame_equal(
        got[expected.columns], expected, check_dtype=False, check_exact=False, atol=1e-5, rtol=1e-9
    )
    # the hour's transaction times: as many as the hour's count, the newest being this one's (whole s)
    times = got["txn_times_1h"].map(sorted)
    assert (times.map(len) == got["txn_count_1h"]).all()
    newest = (got["last_txn_time"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
    assert (times.map(max) == newest.astype(float)).all()


def test_merchant_stats_match_brute_force_and_use_only_arrived_labels(built: DataLayout) -> None:
    transactions = pd.read_parquet(built.transactions)
    labels = pd.read_parquet(built.labels)
    merchants = pd.read_parquet(built.merchants)
    got = _read(built, "merchant_stats")
    expected = reference.merchant_stats(transactions, labels, merchants, TINY_START, TINY_END)
    pd.testing.assert_frame_equal(
        got[expected.columns], expected, check_dtype=False, check_exact=False, atol=1e-6
    )
    # The test can tell: counting chargebacks by transaction time (not yet arrived) differs.
    leaky = labels.assign(label_time=labels["transaction_time"])
    leaked = reference.merchant_stats(transactions, leaky, merchants, TINY_START, TINY_END)
    assert (leaked["merchant_chargebacks_30d"] > expected["merchant_chargebacks_30d"]).any()


def test_customer_profile_is_valid_from_account_opening(built: DataLayout) -> None:
    profile = pd.read_parquet(built.feature_table_file("customer_profile"))
    customers = pd.read_parquet(built.customers)
    assert len(profile) == len(customers)
    # valid from one second before the opening (the training join reads 1 µs before a transaction)
    opened = customers["account_open_time"] - pd.Timedelta(seconds=1)
    assert (profile["event_timestamp"].to_numpy() == opened.to_numpy()).all()


def test_rebuild_writes_the_same_bytes(built: DataLayout, tmp_path: Path) -> None:
    before = {
        path.name + path.parent.name: path.read_bytes() for path in built.features_dir.rglob("*.parquet")
    }
    build_features(built, QUIET)
    after = {
        path.name + path.parent.name: path.read_bytes() for path in built.features_dir.rglob("*.parquet")
    }
    assert before == after and len(before) == 2 * (TINY_END - TINY_START).days + 1


def test_incremental_ranges_equal_one_full_build(built: DataLayout, tmp_path: Path) -> None:
    layout = DataLayout(tmp_path / "incremental")
    simulate(tiny_config(), layout, QUIET)
    middle = date(2026, 1, 11)
    first = build_features(layout, QUIET, start=TINY_START, end=middle)
    second = build_features(layout, QUIET, start=middle, end=TINY_END)
    assert (first.end, second.start) == (middle, middle)
    for table in ("customer_activity", "merchant_stats"):
        for full in sorted(built.feature_table_dir(table).glob("*.parquet")):
            assert (layout.feature_table_dir(table) / full.name).read_bytes() == full.read_bytes(), full


def test_pipeline_break_writes_null_and_constant_from_the_drift_date(tmp_path: Path) -> None:
    layout = DataLayout(tmp_path / "broken")
    drift = date(2026, 1, 15)
    simulate(tiny_config(scenario="pipeline_break", drift_start=drift), layout, QUIET)
    build_features(layout, QUIET)
    activity = _read(layout, "customer_activity")
    after = activity["event_timestamp"] >= pd.Timestamp(drift, tz="UTC")
    assert activity.loc[after, "amount_mean_30d"].isna().all()
    assert activity.loc[~after, "amount_mean_30d"].notna().all()
    assert (activity.loc[after, "distinct_merchants_7d"] == 1).all()
    assert activity.loc[~after, "distinct_merchants_7d"].max() > 1


def test_missing_simulation_is_reported(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="run `skewless simulate` first"):
        build_features(DataLayout(tmp_path / "empty"), QUIET)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 10), date(2026, 1, 5)),
        (date(2025, 12, 1), date(2026, 1, 5)),
        (TINY_START, date(2026, 6, 1)),
    ],
)
def test_bad_ranges_are_refused_before_writing(
    built: DataLayout, tmp_path: Path, start: date, end: date
) -> None:
    layout = DataLayout(tmp_path / "range")
    simulate(tiny_config(), layout, QUIET)
    with pytest.raises(InvalidDateRangeError):
        build_features(layout, QUIET, start=start, end=end)
    assert not layout.features_dir.exists()
