"""Training on the production profile: a PostgreSQL Feast registry and an MLflow tracking server.

The same servers docker-compose names, run directly on loopback (``lifecycle.local_stack``).
The session's production world was trained and promoted there; this reads it back.
"""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from skewless.errors import PromotionRefusedError
from skewless.registry import CHAMPION
from tests.conftest import QUIET
from tests.worlds import ProductionWorld
from training.config import TrainingConfig
from training.job import evaluate_registered

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_train_evaluate_promote_rollback_on_the_tracking_server(production_world: ProductionWorld) -> None:
    settings, registry, outcome = (
        production_world.settings,
        production_world.registry,
        production_world.outcome,
    )
    tracking_url = production_world.stack.mlflow_tracking_uri
    assert settings.tracking_uri == tracking_url and registry.tracking_uri == tracking_url
    evaluation, report = evaluate_registered(settings, registry, TrainingConfig(), CHAMPION, QUIET)
    assert evaluation.roc_auc == pytest.approx(outcome.evaluation.roc_auc) and report.is_file()
    with pytest.raises(PromotionRefusedError):
        registry.roll_back_champion()
    # Any client of the server sees the run, the version and its alias.
    client = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)
    version = client.get_model_version_by_alias("fraud_detection", CHAMPION)
    assert int(version.version) == outcome.run.version
    assert client.get_run(version.run_id).info.status == "FINISHED"
    artifacts = production_world.stack_artifacts
    assert artifacts.is_dir() and any(artifacts.rglob("metadata.json"))
    assert not settings.layout.mlflow_db.exists()
