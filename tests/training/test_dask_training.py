"""LightGBM on Dask (a LocalCluster of two worker processes on loopback) against the same
training set fitted on one machine: a native booster, as good on the holdout."""

from __future__ import annotations

from dataclasses import replace

import lightgbm as lgb
import pytest
from sklearn.metrics import roc_auc_score

from tests.worlds import TrainedWorld
from training.config import TrainingConfig
from training.dataset import LABEL
from training.model import predict, train_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_dask_trained_model_is_a_native_booster_within_0_005_auc(trained_world: TrainedWorld) -> None:
    ts = trained_world.training_set
    single = train_model(ts, trained_world.config)
    on_dask = train_model(ts, replace(trained_world.config, dask_min_rows=1, dask_workers=2))
    assert isinstance(on_dask.booster, lgb.Booster)
    assert on_dask.params["tree_learner"] == "data" and on_dask.params["dask_workers"] == 2
    assert on_dask.booster.feature_name() == single.booster.feature_name()
    holdout = ts.split("holdout")
    aucs = [roc_auc_score(holdout[LABEL], predict(m.booster, m.encoding, holdout)) for m in (single, on_dask)]
    assert aucs[0] > 0.8, aucs  # a real model, not two coin flips
    print(f"holdout AUC one machine {aucs[0]:.4f}, Dask {aucs[1]:.4f}")
    assert abs(aucs[1] - aucs[0]) <= 0.005, aucs
    # Cut at its best validation round, as early stopping cuts the single-machine one.
    assert on_dask.booster.current_iteration() == on_dask.best_iteration < TrainingConfig().max_rounds


def test_below_the_threshold_training_stays_on_this_machine(
    trained_world: TrainedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import training.dask_training

    def refuse(*_: object) -> None:
        raise AssertionError("Dask was used below dask_min_rows")

    monkeypatch.setattr(training.dask_training, "train_model_on_dask", refuse)
    rows = len(trained_world.training_set.split("train"))
    model = train_model(trained_world.training_set, replace(trained_world.config, dask_min_rows=rows + 1))
    assert "tree_learner" not in model.params
    with pytest.raises(AssertionError, match="Dask was used"):
        train_model(trained_world.training_set, replace(trained_world.config, dask_min_rows=rows))
