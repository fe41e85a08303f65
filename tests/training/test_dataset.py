"""Point-in-time training sets: no leakage, matured labels only, time splits, hash."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from feature_repo.operations import feature_service_schema, open_feature_store
from skewless.errors import ConfigurationError
from tests.conftest import QUIET
from tests.factories import TRAIN_END
from tests.worlds import TrainedWorld
from training.config import TrainingConfig
from training.dataset import LABEL, _sample_legitimate, build_training_set, sampling_draw
from training.model import predict, train_model


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


def test_sampled_legitimate_rows_keep_every_fraud_and_weigh_back_to_the_whole_set(
    trained_world: TrainedWorld, trained_copy: TrainedWorld
) -> None:
    """``legit_sample_rate``: the train split keeps every fraud and a seeded share of its legitimate
    rows, weighted back; validation and holdout whole; the model stays calibrated and as good."""
    whole = trained_world.training_set
    config = replace(trained_copy.config, legit_sample_rate=0.25)
    store = open_feature_store(trained_copy.settings)
    sampled = build_training_set(store, trained_copy.settings.layout, config, QUIET)
    for split in ("validation", "holdout"):
        expected = whole.split(split).reset_index(drop=True)
        got = sampled.split(split).reset_index(drop=True)
        pd.testing.assert_frame_equal(got.drop(columns="weight"), expected, check_exact=True)
        assert (got["weight"] == 1.0).all()
    train, whole_train = sampled.split("train"), whole.split("train")
    frauds = whole_train.loc[whole_train[LABEL] == 1, "transaction_id"]
    assert frauds.isin(train["transaction_id"]).all() and len(frauds) > 100
    legit = train[LABEL] == 0
    kept = legit.sum() / (whole_train[LABEL] == 0).sum()
    assert 0.23 < kept < 0.27
    assert (train.loc[legit, "weight"] == 4.0).all() and (train.loc[~legit, "weight"] == 1.0).all()
    # the kept rows are the whole set's rows, features and all
    same = whole_train.set_index("transaction_id").loc[train["transaction_id"]].reset_index()
    pd.testing.assert_frame_equal(train.drop(columns="weight").reset_index(drop=True), same, check_exact=True)
    # weighted back, the label rate is the whole set's; the uniform sample has the split's own rate
    rate = np.average(sampled.frame[LABEL], weights=sampled.sampling_weights())
    assert rate == pytest.approx(whole.frame[LABEL].mean(), rel=0.1)
    # the uniform sample: the whole split's rows under the same draw, frauds and legitimate alike
    uniform = sampled.uniform_sample("train")
    drawn = sampling_draw(whole_train["transaction_id"], config.seed) < 0.25
    assert uniform["transaction_id"].tolist() == whole_train.loc[drawn, "transaction_id"].tolist()
    expected = 0.25 * len(frauds)
    assert abs(uniform[LABEL].sum() - expected) < 4 * np.sqrt(expected * 0.75)
    # the weights keep the model calibrated (unweighted, its mean score fails this) and as good
    holdout = whole.split("holdout")
    models = {
        name: train_model(ts, trained_world.config) for name, ts in (("whole", whole), ("sampled", sampled))
    }
    scores = {name: predict(m.booster, m.encoding, holdout) for name, m in models.items()}
    assert scores["sampled"].mean() == pytest.approx(scores["whole"].mean(), rel=0.25)
    auc = {name: roc_auc_score(holdout[LABEL], s) for name, s in scores.items()}
    assert abs(auc["sampled"] - auc["whole"]) < 0.02
    with pytest.raises(ConfigurationError, match="legit_sample_rate"):
        build_training_set(store, trained_copy.settings.layout, replace(config, legit_sample_rate=0.0), QUIET)


def test_the_sampling_draw_follows_the_seed_not_the_order_and_keeps_earlier_weights() -> None:
    ids = pd.Series(np.arange(40_000, dtype=np.int64))
    draw = sampling_draw(ids, 42)
    assert 0.24 < (draw < 0.25).mean() < 0.26 and ((0.0 <= draw) & (draw < 1.0)).all()
    assert (sampling_draw(ids[::-1].reset_index(drop=True), 42)[::-1] == draw).all()  # row by row
    other = sampling_draw(ids, 7) < 0.25
    assert 0.05 < ((draw < 0.25) & other).mean() < 0.075  # another seed: another, independent draw
    text = sampling_draw(ids.astype(str), 42)
    assert 0.24 < (text < 0.25).mean() < 0.26 and (sampling_draw(ids.astype(str), 7) != text).any()
    # a weight the rows already carry (labels known early) is multiplied, not replaced
    rows = pd.DataFrame(
        {"transaction_id": ids, "split": "train", LABEL: (ids % 50 == 0).astype(np.int8), "weight": 2.0}
    )
    sampled = _sample_legitimate(rows, TrainingConfig(legit_sample_rate=0.25, seed=42))
    legit = sampled[LABEL] == 0
    assert (sampled.loc[legit, "weight"] == 8.0).all() and (sampled.loc[~legit, "weight"] == 2.0).all()
    assert sampled[LABEL].sum() == rows[LABEL].sum()
