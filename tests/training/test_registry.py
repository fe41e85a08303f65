"""MLflow contents of a run, the promotion gate and rollback, against a real MLflow store."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import mlflow.lightgbm
import pytest

from skewless.tracking import METADATA_ARTIFACT, PROFILE_ARTIFACT, configure_mlflow
from tests.conftest import QUIET
from tests.training.conftest import TrainedWorkspace
from training.config import GatePolicy
from training.errors import ModelNotFoundError, PromotionRefused
from training.job import evaluate_registered, train_and_register
from training.registry import CHALLENGER, CHAMPION, promote, rollback

pytestmark = pytest.mark.integration


def test_run_holds_params_metrics_artifacts_and_a_registered_version(trained: TrainedWorkspace) -> None:
    client = configure_mlflow(trained.settings)
    run = client.get_run(trained.outcome.run.run_id)
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["dataset_hash"] == trained.training_set.content_hash
    assert params["seed"] == "42" and params["feature_service"] == "fraud_detection_v1"
    assert (
        int(params["rows_train"]) > 0
        and params["dataset_first_transaction"] < params["dataset_last_transaction"]
    )
    assert params["lgb_deterministic"] == "True"
    assert {
        "holdout_roc_auc",
        "holdout_pr_auc",
        "holdout_brier",
        "oracle_roc_auc",
        "latency_single_p99_ms",
    } <= set(metrics)
    assert tags["git_commit"] and tags["feature_service"] == "fraud_detection_v1"
    assert run.info.run_name.startswith(f"fraud_detection-{trained.training_set.content_hash[:8]}")
    inputs = run.inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == [f"training-set-{trained.training_set.content_hash[:12]}"]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {
        METADATA_ARTIFACT,
        "feature_schema.json",
        "validation.json",
        "evaluation",
        "monitoring",
        "dataset",
    } <= (artifacts)
    nested = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert {"evaluation/evaluation.html", "evaluation/evaluation.json"} <= nested
    profile_path = Path(
        client.download_artifacts(run.info.run_id, PROFILE_ARTIFACT, str(trained.settings.root_dir))
    )
    profile = json.loads(profile_path.read_text())
    assert set(profile["features"]) == set(trained.training_set.features)
    amount = profile["features"]["txn_amount"]
    assert amount["count"] == profile["rows"] and sum(amount["psi_shares"]) == pytest.approx(1.0)
    assert len(amount["grid"]) == len(amount["cdf"]) and amount["cdf"][-1] == 1.0
    assert set(amount["psi_edges"]) <= set(amount["grid"]) and len(amount["psi_edges"]) == 9
    assert profile["prediction"]["grid"]

    version = client.get_model_version_by_alias("fraud_detection", CHALLENGER)
    assert int(version.version) == trained.outcome.run.version and version.run_id == run.info.run_id
    booster = mlflow.lightgbm.load_model(f"models:/fraud_detection@{CHALLENGER}")
    assert booster.feature_name() == trained.training_set.features
    model_info = mlflow.models.get_model_info(f"models:/fraud_detection/{version.version}")
    assert model_info.signature.inputs.input_names() == trained.training_set.features


def test_evaluate_writes_a_report_for_a_registered_version(trained: TrainedWorkspace) -> None:
    evaluation, html_path = evaluate_registered(trained.settings, trained.config, CHALLENGER, QUIET)
    assert evaluation.roc_auc == pytest.approx(trained.outcome.evaluation.roc_auc)
    page = html_path.read_text()
    assert page.count("data:image/png;base64,") == 4 and "oracle" in page


def test_gate_accepts_better_refuses_worse_and_rollback_restores(trained: TrainedWorkspace) -> None:
    settings = trained.settings
    # The test world's holdout has about 30 frauds, so business cost moves by a few
    # percent between decent models; the gate here tolerates 10% so that it judges AUC.
    config = replace(trained.config, model_name="fraud_gate", gate=GatePolicy(cost_tolerance=0.10))
    client = configure_mlflow(settings)

    weak = train_and_register(settings, replace(config, max_rounds=3, early_stopping_rounds=3), QUIET)
    first = promote(settings, config, QUIET)
    assert first.passed and first.champion_version is None
    assert int(client.get_model_version_by_alias("fraud_gate", CHAMPION).version) == weak.run.version

    bad = train_and_register(settings, replace(config, shuffle_labels=True), QUIET)
    refused = promote(settings, config, QUIET)
    assert not refused.passed and refused.candidate_version == bad.run.version
    assert any("AUC" in reason for reason in refused.reasons)
    assert int(client.get_model_version_by_alias("fraud_gate", CHAMPION).version) == weak.run.version

    good = train_and_register(settings, config, QUIET)
    accepted = promote(settings, config, QUIET)
    assert accepted.passed, accepted.reasons
    assert accepted.candidate["roc_auc"] > accepted.champion["roc_auc"]
    assert int(client.get_model_version_by_alias("fraud_gate", CHAMPION).version) == good.run.version

    assert rollback(settings, config) == (good.run.version, weak.run.version)
    assert int(client.get_model_version_by_alias("fraud_gate", CHAMPION).version) == weak.run.version
    with pytest.raises(PromotionRefused, match="nothing to roll back to"):
        rollback(settings, config)


def test_promoting_without_any_model_names_the_problem(trained: TrainedWorkspace) -> None:
    with pytest.raises(ModelNotFoundError, match="no version with alias 'challenger'"):
        promote(trained.settings, replace(trained.config, model_name="never_trained"), QUIET)
