"""Model behaviour: determinism, quality against the oracle, data validation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from skewless.errors import DataValidationError
from tests.conftest import QUIET
from tests.worlds import TrainedWorld
from training.config import ValidationRules
from training.job import train_and_register
from training.model import predict, train_model
from training.validation import validate_training_set


def test_same_data_and_config_give_the_same_model_bytes(trained_world: TrainedWorld) -> None:
    first = train_model(trained_world.training_set, trained_world.config)
    second = train_model(trained_world.training_set, trained_world.config)
    assert first.model_bytes == second.model_bytes
    other = train_model(
        trained_world.training_set, replace(trained_world.config, seed=trained_world.config.seed + 1)
    )
    assert other.model_bytes != first.model_bytes


def test_model_learns_most_of_what_is_learnable(trained_world: TrainedWorld) -> None:
    evaluation = trained_world.outcome.evaluation
    assert evaluation.roc_auc > 0.85
    assert evaluation.oracle_roc_auc - evaluation.roc_auc < 0.08  # small holdout: loose bound
    assert 0 < evaluation.threshold < 1 and evaluation.business_cost > 0


def test_direction_more_burst_more_risk(trained_world: TrainedWorld) -> None:
    """Behavioural test: the same transaction scores higher inside a burst."""
    model = train_model(trained_world.training_set, trained_world.config)
    row = trained_world.training_set.split("holdout").iloc[[0]].copy()
    calm, burst = row.copy(), row.copy()
    calm[["txn_count_1h_now", "seconds_since_last_txn"]] = [1.0, 86_400.0]
    burst[["txn_count_1h_now", "seconds_since_last_txn"]] = [6.0, 90.0]
    assert predict(model.booster, model.encoding, burst)[0] > predict(model.booster, model.encoding, calm)[0]


def test_validation_names_every_failing_check(trained_world: TrainedWorld) -> None:
    ts = trained_world.training_set
    broken = ts.frame.copy()
    broken.loc[broken.index[:5000], "amount_mean_30d"] = np.nan
    broken.loc[broken.index[0], "hour_of_day"] = 31
    broken = broken._append(broken.iloc[[1]])  # a duplicate entity-timestamp row
    report = validate_training_set(replace(ts, frame=broken))
    failed = {check.name for check in report.failures}
    assert {
        "null rate: amount_mean_30d",
        "range: hour_of_day",
        "rows: no duplicate entity-timestamp",
    } <= failed
    with pytest.raises(DataValidationError, match="3 check"):
        report.raise_for_failures()
    assert validate_training_set(ts).passed


def test_a_failed_validation_stops_before_training_and_registers_nothing(trained_world: TrainedWorld) -> None:
    registry = trained_world.registry
    before = registry.versions()
    strict = replace(trained_world.config, validation=ValidationRules(max_label_rate=0.001))
    with pytest.raises(DataValidationError, match="label rate"):
        train_and_register(trained_world.settings, registry, strict, QUIET)
    assert registry.versions() == before
    assert list(trained_world.settings.layout.reports_dir.glob("validation-*.json"))
