"""MLflow contents of a run, the promotion gate and rollback, against a real MLflow store."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import mlflow.lightgbm
import pytest
from mlflow import MlflowClient

from skewless.errors import ModelNotFoundError, PromotionRefusedError
from skewless.registry import (
    CHAMPION,
    EVALUATION_REPORT_TAG,
    METADATA_ARTIFACT,
    PROFILE_ARTIFACT,
    MlflowModelRegistry,
)
from tests.conftest import QUIET
from tests.servers import screenshot_in_chromium
from tests.worlds import TrainedWorld
from training.config import GatePolicy
from training.job import evaluate_registered, train_and_register
from training.registry import promote

pytestmark = pytest.mark.integration


def test_run_holds_params_metrics_artifacts_and_a_registered_version(trained_world: TrainedWorld) -> None:
    client = trained_world.registry.client
    run = client.get_run(trained_world.outcome.run.run_id)
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["dataset_hash"] == trained_world.training_set.content_hash
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
    assert tags["mlflow.source.git.commit"] and tags["feature_service"] == "fraud_detection_v1"
    assert run.info.run_name.startswith(f"fraud_detection-{trained_world.training_set.content_hash[:8]}")
    inputs = run.inputs.dataset_inputs
    assert [i.dataset.name for i in inputs] == [
        f"training-set-{trained_world.training_set.content_hash[:12]}"
    ]
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
        client.download_artifacts(run.info.run_id, PROFILE_ARTIFACT, str(trained_world.settings.root_dir))
    )
    profile = json.loads(profile_path.read_text())
    assert set(profile["features"]) == set(trained_world.training_set.features)
    amount = profile["features"]["txn_amount"]
    assert amount["count"] == profile["rows"] and sum(amount["psi_shares"]) == pytest.approx(1.0)
    assert len(amount["grid"]) == len(amount["cdf"]) and amount["cdf"][-1] == 1.0
    assert set(amount["psi_edges"]) <= set(amount["grid"]) and len(amount["psi_edges"]) == 9
    assert profile["prediction"]["grid"]

    version = client.get_model_version_by_alias("fraud_detection", CHAMPION)
    assert int(version.version) == trained_world.outcome.run.version and version.run_id == run.info.run_id
    with trained_world.registry.fluent():  # MLflow's own loaders, as a user would call them
        booster = mlflow.lightgbm.load_model(f"models:/fraud_detection@{CHAMPION}")
        model_info = mlflow.models.get_model_info(f"models:/fraud_detection/{version.version}")
    assert booster.feature_name() == trained_world.training_set.features
    assert model_info.signature.inputs.input_names() == trained_world.training_set.features
    # The registry client reads the same model and its typed metadata.
    loaded = trained_world.registry.load(CHAMPION)
    assert loaded.booster.feature_name() == booster.feature_name()
    assert loaded.metadata.training_data.content_hash == trained_world.training_set.content_hash
    assert loaded.metadata.holdout_auc == pytest.approx(trained_world.outcome.evaluation.roc_auc)


def test_mlflow_shows_training_runs_and_each_version_says_what_it_is(trained_world: TrainedWorld) -> None:
    client = trained_world.registry.client
    run = client.get_run(trained_world.outcome.run.run_id)
    experiment = client.get_experiment(run.info.experiment_id)
    # MLflow 3's UI opens an experiment of this kind on its runs, not on the GenAI overview.
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert "Skewless training runs" in experiment.tags["mlflow.note.content"]
    commit = run.data.tags["mlflow.source.git.commit"]
    assert commit == "unknown" or len(commit) == 40
    version = client.get_model_version("fraud_detection", str(trained_world.outcome.run.version))
    evaluation = trained_world.outcome.evaluation
    assert f"ROC AUC {evaluation.roc_auc:.3f}" in version.description
    assert "fraud_detection_v1" in version.description and "Gate: " in version.description
    report = version.tags[EVALUATION_REPORT_TAG]
    assert report == f"runs:/{run.info.run_id}/evaluation/evaluation.html"
    listed = {a.path for a in client.list_artifacts(run.info.run_id, "evaluation")}
    assert report.removeprefix(f"runs:/{run.info.run_id}/") in listed


def test_feast_names_each_models_feature_service_and_its_ui_lineage_shows_the_model(
    trained_world: TrainedWorld,
) -> None:
    import json as json_module
    import urllib.request

    from feast.ui_server import get_app

    from feature_repo.operations import open_feature_store
    from serving.runner import serve_in_background

    store = open_feature_store(trained_world.settings)
    version = trained_world.outcome.run.version
    assert store.mlflow is not None and store.config.mlflow.auto_log is False  # nothing logs on retrieval
    ours = trained_world.registry.load(version).feature_service
    # Feast's own resolution (version tag, checked against the run's feast_features.json) agrees.
    assert store.mlflow.resolve_features(f"models:/fraud_detection/{version}") == ours == "fraud_detection_v1"
    assert store.mlflow.resolve_features(f"models:/fraud_detection/{CHAMPION}") == ours
    # The lineage `feast ui` draws: its API lists the training run with the registered model.
    with serve_in_background(get_app(store, store.project)) as url:
        with urllib.request.urlopen(f"{url}/api/mlflow-runs", timeout=30) as response:
            runs = json_module.loads(response.read())["runs"]
    [run] = [r for r in runs if r["run_id"] == trained_world.outcome.run.run_id]
    assert run["feature_service"] == "fraud_detection_v1" and run["retrieval_type"] == "historical"
    assert len(run["feature_refs"]) == len(trained_world.training_set.features)
    assert {(m["model_name"], int(m["version"])) for m in run["registered_models"]} >= {
        ("fraud_detection", version)
    }


def test_evaluate_writes_a_report_for_a_registered_version(trained_world: TrainedWorld) -> None:
    world = trained_world
    evaluation, html_path = evaluate_registered(world.settings, world.registry, world.config, CHAMPION, QUIET)
    assert evaluation.roc_auc == pytest.approx(trained_world.outcome.evaluation.roc_auc)
    page = html_path.read_text()
    # curves, cost, reliability, slices, feature importance; the confusion matrix at the threshold
    assert page.count("data:image/png;base64,") == 5 and "oracle" in page
    assert "Confusion matrix at the threshold" in page and "false alerts" in page
    caught = re.search(r"<td>([\d,]+) caught</td><td>([\d,]+) missed</td>", page)
    assert caught and sum(int(n.replace(",", "")) for n in caught.groups()) == evaluation.positives
    assert screenshot_in_chromium(html_path, trained_world.settings.root_dir / "evaluation.png") > 0.01


@pytest.mark.slow
def test_gate_accepts_better_refuses_worse_and_rollback_restores(trained_world: TrainedWorld) -> None:
    settings = trained_world.settings
    # The test world's holdout has about 30 frauds, so business cost moves by a few
    # percent between decent models; the gate here tolerates 10% so that it judges AUC.
    # Another registered model in the same store: the shared world's own model is untouched.
    registry = MlflowModelRegistry.from_settings(settings, "fraud_gate")
    config = replace(trained_world.config, gate=GatePolicy(cost_tolerance=0.10))
    # A second client on the same store, as a person's `mlflow ui` would read it.
    client = MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)

    weak = train_and_register(
        settings, registry, replace(config, max_rounds=3, early_stopping_rounds=3), QUIET
    )
    first = promote(registry, config, QUIET)
    assert first.passed and first.champion_version is None
    assert int(client.get_model_version_by_alias("fraud_gate", CHAMPION).version) == weak.run.version

    bad = train_and_register(settings, registry, replace(config, shuffle_labels=True), QUIET)
    refused = promote(registry, config, QUIET)
    assert not refused.passed and refused.candidate_version == bad.run.version
    assert any("AUC" in reason for reason in refused.reasons)
    assert int(client.get_model_version_by_alias("fraud_gate", CHAMPION).version) == weak.run.version
    # A refused version reads as refused on its registry page: tags and description.
    page = client.get_model_version("fraud_gate", str(bad.run.version))
    assert page.tags["gate.verdict"] == "refused"
    assert page.tags["gate.champion_version"] == str(weak.run.version)
    assert float(page.tags["gate.candidate_auc"]) < float(page.tags["gate.champion_auc"])
    assert "Gate: " in page.description and "refused" in page.description.split("Gate: ")[1]
    assert client.get_model_version("fraud_gate", str(weak.run.version)).tags["gate.verdict"] == "passed"

    good = train_and_register(settings, registry, config, QUIET)
    # Its evaluation report compares it with the champion on the same holdout rows.
    report = good.report_html.read_text()
    assert f"champion v{weak.run.version} has ROC-AUC" in report
    accepted = promote(registry, config, QUIET)
    assert accepted.passed, accepted.reasons
    assert accepted.candidate["roc_auc"] > accepted.champion["roc_auc"]
    assert int(client.get_model_version_by_alias("fraud_gate", CHAMPION).version) == good.run.version

    assert registry.roll_back_champion() == (good.run.version, weak.run.version)
    assert int(client.get_model_version_by_alias("fraud_gate", CHAMPION).version) == weak.run.version
    with pytest.raises(PromotionRefusedError, match="nothing to roll back to"):
        registry.roll_back_champion()
    assert trained_world.registry.alias_version(CHAMPION) == trained_world.outcome.run.version


def test_promoting_without_any_model_names_the_problem(trained_world: TrainedWorld) -> None:
    never = MlflowModelRegistry.from_settings(trained_world.settings, "never_trained")
    with pytest.raises(ModelNotFoundError, match="no version with alias 'challenger'"):
        promote(never, trained_world.config, QUIET)
