"""The ASOF offline store answers get_historical_features exactly as Feast's own DuckDB store does."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from feast import Entity, FeatureService, FeatureStore, FeatureView, Field, FileSource, ValueType
from feast.infra.offline_stores.duckdb import DuckDBOfflineStoreConfig
from feast.repo_config import RepoConfig
from feast.types import Float64, Int64, String

from feature_repo.operations import historical_features, load_repo_config, open_feature_store
from feature_repo.operations.asof_store import AsofDuckDBOfflineStoreConfig
from feature_repo.operations.services import service_inputs
from skewless.errors import InputError
from skewless.settings import Settings
from tests.worlds import TrainedWorld

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _same(feast: pd.DataFrame, ours: pd.DataFrame, order: list[str]) -> None:
    feast = feast.sort_values(order).reset_index(drop=True)
    ours = ours.sort_values(order).reset_index(drop=True)
    assert sorted(feast.columns) == sorted(ours.columns)
    for column in feast.columns:
        left, right = feast[column], ours[column]
        if pd.api.types.is_numeric_dtype(left) and pd.api.types.is_numeric_dtype(right):
            np.testing.assert_allclose(
                left.astype(float), right.astype(float), rtol=0, atol=1e-9, equal_nan=True
            )
        else:
            assert (left.astype(str) == right.astype(str)).all(), column


def _store(root: Path, offline: object) -> FeatureStore:
    config = RepoConfig(
        project="asof_test", provider="local", registry=str(root / "registry.db"),
        online_store={"type": "sqlite", "path": str(root / "online.db")}, offline_store=offline,
        entity_key_serialization_version=3,
    )  # fmt: skip
    return FeatureStore(repo_path=str(root), config=config)


def test_ttl_created_timestamps_field_mappings_and_full_names_as_feast_joins_them(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {
            "card": [1, 1, 1, 1, 2, 2, 3],
            "ts": [
                T0,
                T0 + timedelta(hours=1),
                T0 + timedelta(hours=1),
                T0 + timedelta(days=3),
                T0,
                T0 + timedelta(hours=2),
                T0 - timedelta(days=10),
            ],  # fmt: skip
            # the same card and time twice: the later `created` wins
            "created": [
                T0,
                T0 + timedelta(hours=1),
                T0 + timedelta(hours=5),
                T0 + timedelta(days=3),
                T0,
                T0 + timedelta(hours=2),
                T0 - timedelta(days=10),
            ],  # fmt: skip
            "amount_src": [1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 99.0],
            "city": ["a", "b", "c", "d", "x", "y", "z"],
        }
    )
    rows.to_parquet(tmp_path / "cards.parquet")
    card = Entity(name="card", join_keys=["card"], value_type=ValueType.INT64)
    source = FileSource(
        name="cards", path=str(tmp_path / "cards.parquet"), timestamp_field="ts",
        created_timestamp_column="created", field_mapping={"amount_src": "amount"},
    )  # fmt: skip
    view = FeatureView(
        name="card_stats", entities=[card], ttl=timedelta(days=2), source=source,
        schema=[Field(name="card", dtype=Int64), Field(name="amount", dtype=Float64),
                Field(name="city", dtype=String)],
    )  # fmt: skip
    entity_rows = pd.DataFrame(
        {
            "card": [1, 1, 1, 1, 2, 3, 4],
            "event_timestamp": [
                T0 - timedelta(minutes=1),
                T0 + timedelta(hours=1),
                T0 + timedelta(days=2),
                T0 + timedelta(days=4),
                T0 + timedelta(hours=3),
                T0,
                T0,
            ],  # fmt: skip
        }
    )
    answers = {}
    for name, offline in (("feast", DuckDBOfflineStoreConfig()), ("ours", AsofDuckDBOfflineStoreConfig())):
        folder = tmp_path / name
        folder.mkdir()
        store = _store(folder, offline)
        # The same view under another name, joined on another entity column: the payer's card.
        aliased = FeatureService(
            name="payer_service",
            features=[view.with_name("payer_stats").with_join_key_map({"card": "payer"})[["amount"]]],
        )
        store.apply([card, view, aliased])
        answers[name, "aliased"] = store.get_historical_features(
            entity_df=entity_rows.rename(columns={"card": "payer"}),
            features=store.get_feature_service("payer_service"),
            full_feature_names=True,
        ).to_df()
        for full in (False, True):
            answers[name, full] = store.get_historical_features(
                entity_df=entity_rows,
                features=["card_stats:amount", "card_stats:city"],
                full_feature_names=full,
            ).to_df()
    for full in (False, True):
        _same(answers["feast", full], answers["ours", full], ["card", "event_timestamp"])
    _same(answers["feast", "aliased"], answers["ours", "aliased"], ["payer", "event_timestamp"])
    assert "payer_stats__amount" in answers["ours", "aliased"].columns
    got = answers["ours", False].sort_values(["card", "event_timestamp"]).reset_index(drop=True)
    # before any row: none; same time twice: the later created (3.0); past the TTL: none; unknown: none
    assert got["amount"].tolist()[:4] == [pytest.approx(np.nan, nan_ok=True), 3.0, 3.0, 4.0]
    assert (
        got["amount"].iloc[4] == 20.0 and np.isnan(got["amount"].iloc[5]) and np.isnan(got["amount"].iloc[6])
    )
    assert "card_stats__amount" in answers["ours", True].columns
    aliased = answers["ours", "aliased"]["payer_stats__amount"]  # joined on payer: the same values
    assert aliased.notna().sum() == got["amount"].notna().sum() > 0


@pytest.mark.integration
def test_the_feature_service_with_its_on_demand_views_equals_feasts_own_join(
    trained_world: TrainedWorld, caplog: pytest.LogCaptureFixture
) -> None:
    settings: Settings = trained_world.settings
    frame = trained_world.training_set.frame
    requests = frame[["transaction_id", "customer_id", "merchant_id", "amount", "merchant_country", "channel",
                      "transaction_time"]].sample(n=min(3_000, len(frame)), random_state=1)  # fmt: skip
    answers = {}
    stores = (
        ("feast", DuckDBOfflineStoreConfig()),
        ("ours", AsofDuckDBOfflineStoreConfig()),
        # the on-demand view called on batches of 700 rows, the last one short
        ("ours, batched", AsofDuckDBOfflineStoreConfig(transform_batch_rows=700)),
        # DuckDB held to too little memory for the joins: they run again without the limit
        ("ours, little memory", AsofDuckDBOfflineStoreConfig(join_memory_limit="4MB")),
    )
    for name, offline in stores:
        config = load_repo_config(settings)
        config.offline_config = offline
        store = FeatureStore(repo_path=str(settings.feature_repo_dir), config=config)
        with caplog.at_level(logging.WARNING, logger="skewless.feature_repo"):
            answers[name] = historical_features(store, "fraud_detection_v1", requests)
        warned = "a query needs more than join_memory_limit (4MB)" in caplog.text
        assert warned == (name == "ours, little memory"), name
        caplog.clear()
    assert len(answers["ours"]) == len(requests)
    for name in ("ours", "ours, batched", "ours, little memory"):
        _same(answers["feast"], answers[name], ["transaction_id"])
    # in the requests' order, their own columns as they were (the ones Feast does not read too)
    ours = answers["ours"]
    for name in requests.columns:
        pd.testing.assert_series_equal(ours[name], requests[name].reset_index(drop=True), check_exact=True)
    assert not list(Path.cwd().glob(".tmp*"))  # DuckDB spilled into its own temporary folder
    # and the workspace's own configuration uses it
    assert type(load_repo_config(settings).offline_store).__name__ == "AsofDuckDBOfflineStoreConfig"


def test_only_the_columns_asked_for_come_back_beside_the_requests_own(trained_world: TrainedWorld) -> None:
    settings: Settings = trained_world.settings
    store = open_feature_store(settings)
    assert service_inputs(store, "fraud_detection_v1") == {
        "customer_id", "merchant_id", "amount", "merchant_country", "channel", "transaction_time",
    }  # fmt: skip
    requests = trained_world.training_set.frame[
        ["transaction_id", "customer_id", "merchant_id", "amount", "merchant_country", "channel",
         "transaction_time", "split"]
    ].head(50)  # fmt: skip
    every = historical_features(store, "fraud_detection_v1", requests)
    some = historical_features(store, "fraud_detection_v1", requests, columns=["amount_zscore_30d"])
    assert "txn_times_1h" in every.columns  # what an on-demand view reads comes back by default
    assert sorted(some.columns) == sorted([*requests.columns, "event_timestamp", "amount_zscore_30d"])
    pd.testing.assert_series_equal(some["amount_zscore_30d"], every["amount_zscore_30d"], check_exact=True)
    # a column Feast is not handed comes back as it went in, a naive time included
    noted = requests.assign(noted_at=pd.Timestamp("2026-03-01 12:00"))
    back = historical_features(store, "fraud_detection_v1", noted, columns=["amount_zscore_30d"])
    pd.testing.assert_series_equal(back["noted_at"], noted["noted_at"].reset_index(drop=True))
    # a request column named as a feature, or as the position column, is refused, not overwritten
    with pytest.raises(InputError, match=r"\['credit_limit'\].*rename"):
        historical_features(store, "fraud_detection_v1", requests.assign(credit_limit=1.0))
    with pytest.raises(InputError, match="__skewless_row"):
        historical_features(store, "fraud_detection_v1", requests.assign(__skewless_row=1))
