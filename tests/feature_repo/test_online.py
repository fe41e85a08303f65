"""Online round trips: materialize then read back, on SQLite and on a real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from feature_repo.operations import (
    apply_feature_repo,
    lookup_online_features,
    materialize_features,
    open_feature_store,
)
from feature_repo.pipeline import build_features
from simulation import simulate
from skewless.contract import FEATURE_SERVICE_V1
from skewless.errors import FeatureRepoError, InvalidDateRangeError
from skewless.settings import Profile, Settings
from tests.conftest import QUIET
from tests.factories import TINY_END, make_workspace, tiny_config
from tests.servers import RedisServer

pytestmark = pytest.mark.integration
END = pd.Timestamp(TINY_END, tz="UTC")


def _request(settings: Settings) -> dict[str, Any]:
    """A new transaction of the busiest customer at the last merchant it used."""
    tx = pd.read_parquet(settings.layout.transactions)
    customer = int(tx["customer_id"].value_counts().index[0])
    merchant = int(tx.loc[tx["customer_id"] == customer, "merchant_id"].iloc[-1])
    return {
        "customer_id": customer,
        "merchant_id": merchant,
        "amount": 250.0,
        "merchant_country": "BR",
        "channel": "online",
        "transaction_time": END.to_pydatetime() + timedelta(hours=1),
    }


def _lookup(settings: Settings, row: dict[str, Any]) -> dict[str, Any]:
    values = lookup_online_features(open_feature_store(settings), FEATURE_SERVICE_V1, [row])
    return {name: column[0] for name, column in values.items()}


def test_online_values_are_the_latest_feature_rows(built_workspace: Settings) -> None:
    """SQLite round trip through the DuckDB offline store (would catch the duckdb 2.0 cast failure)."""
    row = _request(built_workspace)
    got = _lookup(built_workspace, row)
    activity = pd.read_parquet(built_workspace.layout.feature_table_dir("customer_activity"))
    latest = activity[activity["customer_id"] == row["customer_id"]].sort_values("event_timestamp").iloc[-1]
    for column in ("txn_count_7d", "amount_mean_30d", "amount_std_30d", "distinct_merchants_7d"):
        assert got[column] == pytest.approx(latest[column]), column
    merchant = pd.read_parquet(built_workspace.layout.feature_table_dir("merchant_stats"))
    snapshot = merchant[merchant["merchant_id"] == row["merchant_id"]].sort_values("event_timestamp").iloc[-1]
    assert snapshot["event_timestamp"] == END - pd.Timedelta(days=1)
    assert got["merchant_chargeback_rate_30d"] == pytest.approx(snapshot["merchant_chargeback_rate_30d"])
    # On-demand transforms computed from the request and the stored state.
    assert got["txn_amount"] == 250.0 and got["txn_channel"] == "online"
    assert got["amount_to_mean_30d"] == pytest.approx(250.0 / latest["amount_mean_30d"])
    assert got["hour_of_day"] == 1 and got["is_night"] == 1
    # Hidden inputs of the transforms are not part of the service's answer.
    assert "account_open_time" not in got and "home_country" not in got


def test_service_answers_exactly_its_features(built_workspace: Settings) -> None:
    store = open_feature_store(built_workspace)
    service = store.get_feature_service(FEATURE_SERVICE_V1)
    declared = {f.name for projection in service.feature_view_projections for f in projection.features}
    got = _lookup(built_workspace, _request(built_workspace))
    assert set(got) == declared | {"customer_id", "merchant_id"}
    assert len(declared) == 29  # plus the two join keys
    # In the service's own order, every time (Feast's response order is not stable).
    in_order = [f.name for projection in service.feature_view_projections for f in projection.features]
    assert list(got)[2:] == in_order and set(list(got)[:2]) == {"customer_id", "merchant_id"}


def test_unknown_entities_come_back_as_missing_not_errors(built_workspace: Settings) -> None:
    row = _request(built_workspace) | {"customer_id": 999_999, "merchant_id": 888_888}
    got = _lookup(built_workspace, row)
    assert got["txn_count_7d"] is None and got["merchant_chargeback_rate_30d"] is None
    assert got["txn_amount"] == 250.0


def test_unregistered_service_is_a_clear_error(built_workspace: Settings) -> None:
    with pytest.raises(FeatureRepoError, match="run `skewless apply` first"):
        lookup_online_features(open_feature_store(built_workspace), "fraud_detection_v9", [{}])


def test_materialize_refuses_naive_or_reversed_times(built_workspace: Settings) -> None:
    store = open_feature_store(built_workspace)
    with pytest.raises(InvalidDateRangeError):
        materialize_features(store, end=datetime(2026, 1, 2))
    with pytest.raises(InvalidDateRangeError):
        materialize_features(
            store, end=datetime(2026, 1, 2, tzinfo=UTC), start=datetime(2026, 1, 3, tzinfo=UTC)
        )


def test_production_profile_on_redis_gives_the_same_answer(
    built_workspace: Settings,
    redis_server: RedisServer,
    postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Redis online store + PostgreSQL SQL registry, same definitions, same values."""
    settings = make_workspace(
        tmp_path_factory.mktemp("production") / "ws",
        profile=Profile.PRODUCTION,
        redis_connection=redis_server.connection_string,
        registry_url=postgres_url,
    )
    simulate(tiny_config(), settings.layout, QUIET)
    build_features(settings.layout, QUIET)
    summary = apply_feature_repo(settings)
    assert summary.feature_services == [FEATURE_SERVICE_V1]
    end = END.to_pydatetime()
    materialize_features(open_feature_store(settings), end=end, start=end - timedelta(days=3_650))
    assert redis_server.client().dbsize() > 0
    row = _request(settings)
    assert _lookup(settings, row) == _lookup(built_workspace, row)


def test_push_source_updates_the_online_store(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Fresh customer statistics pushed online are what the next lookup sees."""
    from feast.data_source import PushMode

    settings = make_workspace(tmp_path_factory.mktemp("push") / "ws")
    simulate(tiny_config(), settings.layout, QUIET)
    build_features(settings.layout, QUIET)
    apply_feature_repo(settings)
    store = open_feature_store(settings)
    row = _request(settings)
    activity = pd.read_parquet(settings.layout.feature_table_dir("customer_activity"))
    fresh = activity[activity["customer_id"] == row["customer_id"]].tail(1).copy()
    fresh["event_timestamp"] = fresh["created"] = END + pd.Timedelta(minutes=30)
    fresh["txn_count_1h"] = 42
    fresh["amount_mean_30d"] = 125.0
    store.push("customer_activity_push", fresh, to=PushMode.ONLINE)
    got = _lookup(settings, row)
    assert got["txn_count_1h"] == 42
    assert got["amount_to_mean_30d"] == pytest.approx(250.0 / 125.0)  # the transform sees the pushed state


def test_our_value_conversion_equals_feasts_to_dict(built_workspace: Settings) -> None:
    """read_online_features converts proto values itself (faster); it must give what Feast gives."""
    from feature_repo.operations import get_feature_service, read_online_features

    store = open_feature_store(built_workspace)
    service = get_feature_service(store, FEATURE_SERVICE_V1)
    known = _request(built_workspace)
    rows = [known, {**known, "customer_id": 987_654_321, "merchant_id": 987_654_321, "channel": "in_store"}]
    ours = read_online_features(store, service, rows)
    theirs = store.get_online_features(features=service, entity_rows=rows).to_dict()
    assert ours.values.keys() == theirs.keys()
    for name, column in theirs.items():
        assert ours.values[name] == column, name
    assert ours.missing(0, ["txn_count_7d"]) == [] and ours.missing(1, ["txn_count_7d"]) == ["txn_count_7d"]
    assert ours.status_names("txn_count_7d") == ["PRESENT", "NOT_FOUND"]
