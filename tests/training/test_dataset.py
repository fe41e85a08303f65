"""Point-in-time training sets: no leakage, matured labels only, time splits, hash."""

from __future__ import annotations

import pandas as pd

from feature_repo.operations import feature_service_schema, open_feature_store
from tests.conftest import QUIET
from tests.factories import TRAIN_END
from tests.worlds import TrainedWorld
from training.dataset import build_training_set


def test_features_come_from_the_feature_service(trained_world: TrainedWorld) -> None:
    features, categorical = feature_service_schema(
        open_feature_store(trained_world.settings), "fraud_detection_v1"
    )
    ts = trained_world.training_set
    assert ts.features == features and len(features) == 29
    assert set(categorical) == {"age_band", "merchant_category", "txn_channel"}
    assert set(features) <= set(ts.frame.columns)


def test_no_feature_state_from_after_the_transaction(trained_world: TrainedWorld) -> None:
    """A feature value written at or after a row's transaction never appears in that row."""
    frame = trained_world.training_set.frame
    known = frame["last_txn_time"].notna()
    assert known.mean() > 0.9
    assert (
        pd.to_datetime(frame.loc[known, "last_txn_time"], utc=True) < frame.loc[known, "transaction_time"]
    ).all()
    # The exact check, done independently with pandas: every row carries the customer's
    # latest state strictly before its transaction (never the state its own transaction wrote).
    activity = pd.read_parquet(trained_world.settings.layout.feature_table_dir("customer_activity"))
    columns = ["txn_count_7d", "amount_mean_30d", "distinct_merchants_7d"]
    expected = pd.merge_asof(
        frame[["transaction_id", "customer_id", "transaction_time"]].sort_values("transaction_time"),
        activity[["customer_id", "event_timestamp", *columns]].sort_values("event_timestamp"),
        left_on="transaction_time",
        right_on="event_timestamp",
        by="customer_id",
        allow_exact_matches=False,
        tolerance=pd.Timedelta(days=30),
    ).set_index("transaction_id")
    got = frame.set_index("transaction_id")
    pd.testing.assert_frame_equal(
        got.loc[expected.index, columns], expected[columns], check_dtype=False, check_names=False
    )


def test_only_matured_labels_and_time_ordered_splits(trained_world: TrainedWorld) -> None:
    frame = trained_world.training_set.frame
    cutoff = pd.Timestamp(TRAIN_END, tz="UTC")
    assert (frame["label_time"] <= cutoff).all()
    assert (frame["transaction_time"] < cutoff - pd.Timedelta(days=30)).all()
    last_train = frame.loc[frame["split"] == "train", "transaction_time"].max()
    first_validation = frame.loc[frame["split"] == "validation", "transaction_time"].min()
    last_validation = frame.loc[frame["split"] == "validation", "transaction_time"].max()
    first_holdout = frame.loc[frame["split"] == "holdout", "transaction_time"].min()
    assert last_train < first_validation <= last_validation < first_holdout


def test_same_inputs_same_hash(trained_world: TrainedWorld) -> None:
    again = build_training_set(
        open_feature_store(trained_world.settings), trained_world.settings.layout, trained_world.config, QUIET
    )
    assert again.content_hash == trained_world.training_set.content_hash
    assert again.path.is_file() and again.path.name.startswith(again.content_hash[:16])
    assert again.frame["transaction_id"].is_monotonic_increasing  # the order the hash depends on
    assert not list(again.path.parent.glob(".*"))  # no staging or temporary file left behind
