"""The API on the production profile: Redis online store, PostgreSQL registry, MLflow server.

Redis is stopped and restarted while the API serves: readiness turns false, /predict
answers 503 with the reason (or, with degraded scoring on, scores from request-time
features and says so), and both recover by themselves when Redis returns.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pandas as pd
import pytest

from feature_repo.operations import materialize_features, open_feature_store
from skewless.settings import Profile, Settings
from tests.conftest import QUIET
from tests.factories import make_workspace
from tests.servers import free_port, mlflow_server, postgres_database, start_redis_server
from tests.serving.client import call, transaction
from tests.serving.conftest import LiveApi, start_api, stop_api
from tests.training.conftest import prepare_world
from training.config import TrainingConfig
from training.job import train_and_register
from training.registry import promote

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, int, pd.Series]]:
    root = tmp_path_factory.mktemp("production-serving")
    redis_port = free_port()
    redis = start_redis_server(redis_port)
    with (
        postgres_database() as registry_url,
        postgres_database() as mlflow_db,
        mlflow_server(mlflow_db, str(root / "artifacts")) as tracking_url,
    ):
        settings = make_workspace(
            root / "ws",
            profile=Profile.PRODUCTION,
            redis_connection=f"127.0.0.1:{redis_port},db=0",
            registry_url=registry_url,
            mlflow_tracking_uri=tracking_url,
        )
        prepare_world(settings)
        config = TrainingConfig()
        outcome = train_and_register(settings, config, QUIET)
        assert promote(settings, config, QUIET).passed
        frame = pd.read_parquet(outcome.dataset_path)
        row = frame[frame["split"] == "holdout"].iloc[-1]
        end = row["transaction_time"].to_pydatetime()
        materialize_features(open_feature_store(settings), end=end, start=end - timedelta(days=3_650))
        try:
            yield settings, redis_port, row
        finally:
            redis.terminate()


def _environment(settings: Settings, **extra: str) -> dict[str, str]:
    return {
        "SKEWLESS_REDIS_CONNECTION": settings.redis_connection,
        "SKEWLESS_REGISTRY_URL": settings.registry_url,
        "SKEWLESS_MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        **extra,
    }


def _wait_until(api: LiveApi, path: str, status: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while call(api, "GET", path)[0] != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never answered {status}")
        time.sleep(0.3)


def test_redis_stopped_and_restarted_during_traffic(production: tuple[Settings, int, pd.Series]) -> None:
    settings, redis_port, row = production
    api = start_api(settings, **_environment(settings))
    redis = None
    try:
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and body["missing_features"] == []
        # Stop the Redis server under the API.
        import redis as redis_py

        redis_py.Redis(port=redis_port).shutdown(nosave=True)
        _wait_until(api, "/health/ready", 503)
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 503 and "online store unavailable" in body["detail"]
        status, text = call(api, "GET", "/metrics")
        assert (
            "skewless_online_store_errors_total 1.0" in text
            or "skewless_online_store_errors_total 2.0" in text
        )
        # Redis returns (empty: it keeps nothing on disk); the API recovers by itself.
        redis = start_redis_server(redis_port)
        _wait_until(api, "/health/ready", 200)
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and "txn_count_7d" in body["missing_features"]
    finally:
        stop_api(api)
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)


def test_degraded_scoring_when_configured(production: tuple[Settings, int, pd.Series]) -> None:
    settings, redis_port, row = production
    redis = None
    api = start_api(settings, **_environment(settings, SKEWLESS_DEGRADED_SCORING="true"))
    try:
        import redis as redis_py

        try:
            redis_py.Redis(port=redis_port).shutdown(nosave=True)
        except redis_py.exceptions.ConnectionError:
            pass  # already down
        status, body = call(api, "POST", "/predict", transaction(row, amount=900.0))
        assert status == 200, body
        assert body["degraded"] is True
        assert "txn_count_7d" in body["missing_features"] and "txn_amount" not in body["missing_features"]
        status, text = call(api, "GET", "/metrics")
        assert "skewless_degraded_predictions_total 1.0" in text
    finally:
        stop_api(api)
        redis = start_redis_server(redis_port)
        redis.terminate()
        redis.wait(timeout=10)
