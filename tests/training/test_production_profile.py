"""Training on the production profile: Redis, a PostgreSQL Feast registry and an MLflow server.

The same servers docker-compose names, run directly on loopback.
"""

from __future__ import annotations

import pytest
from mlflow import MlflowClient

from skewless.settings import Profile
from tests.conftest import QUIET
from tests.factories import make_workspace
from tests.servers import RedisServer, mlflow_server, postgres_database
from tests.training.conftest import prepare_world
from training.config import TrainingConfig
from training.errors import PromotionRefused
from training.job import evaluate_registered, train_and_register
from training.registry import CHAMPION, promote, rollback

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_train_evaluate_promote_rollback_on_the_tracking_server(
    redis_server: RedisServer, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    root = tmp_path_factory.mktemp("production-training")
    with postgres_database() as mlflow_db, mlflow_server(mlflow_db, str(root / "artifacts")) as tracking_url:
        settings = make_workspace(
            root / "ws",
            profile=Profile.PRODUCTION,
            redis_connection=redis_server.connection_string,
            registry_url=postgres_url,
            mlflow_tracking_uri=tracking_url,
        )
        assert settings.tracking_uri == tracking_url
        prepare_world(settings)
        config = TrainingConfig(model_name="fraud_production")
        outcome = train_and_register(settings, config, QUIET)
        decision = promote(settings, config, QUIET)
        assert decision.passed
        evaluation, report = evaluate_registered(settings, config, CHAMPION, QUIET)
        assert evaluation.roc_auc == pytest.approx(outcome.evaluation.roc_auc) and report.is_file()
        with pytest.raises(PromotionRefused):
            rollback(settings, config)
        # The registry URI too: MLflow keeps one per process, and an earlier test set it.
        client = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)
        version = client.get_model_version_by_alias("fraud_production", CHAMPION)
        assert int(version.version) == outcome.run.version
        assert (root / "artifacts").is_dir() and not settings.layout.mlflow_db.exists()
