"""The API on the production profile: Redis online store, PostgreSQL registry, MLflow server.

Redis is stopped and restarted while the API serves: readiness turns false, /predict
answers 503 with the reason (or, with degraded scoring on, scores from request-time
features and says so), and both recover by themselves when Redis returns.
"""

from __future__ import annotations

import time

import pytest

from tests.serving.client import call, transaction
from tests.serving.conftest import LiveApi, start_api, stop_api
from tests.worlds import ProductionWorld

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _environment(world: ProductionWorld, **extra: str) -> dict[str, str]:
    return world.stack.environment() | extra


def _wait_until(api: LiveApi, path: str, status: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while call(api, "GET", path)[0] != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never answered {status}")
        time.sleep(0.3)


def test_redis_stopped_and_restarted_during_traffic(production_world: ProductionWorld) -> None:
    world, row = production_world, production_world.parity_row
    api = start_api(world.settings, **_environment(world))
    try:
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and body["missing_features"] == []
        world.stop_redis()  # under the API
        _wait_until(api, "/health/ready", 503)
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 503 and "online store unavailable" in body["detail"]
        status, text = call(api, "GET", "/metrics")
        assert (
            "skewless_online_store_errors_total 1.0" in text
            or "skewless_online_store_errors_total 2.0" in text
        )
        # Redis returns (empty: it keeps nothing on disk); the API recovers by itself.
        world.start_redis()
        _wait_until(api, "/health/ready", 200)
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and "txn_count_7d" in body["missing_features"]
    finally:
        stop_api(api)


def test_degraded_scoring_when_configured(production_world: ProductionWorld) -> None:
    world, row = production_world, production_world.parity_row
    api = start_api(world.settings, **_environment(world, SKEWLESS_DEGRADED_SCORING="true"))
    try:
        world.stop_redis()
        status, body = call(api, "POST", "/predict", transaction(row, amount=900.0))
        assert status == 200, body
        assert body["degraded"] is True
        assert "txn_count_7d" in body["missing_features"] and "txn_amount" not in body["missing_features"]
        status, text = call(api, "GET", "/metrics")
        assert "skewless_degraded_predictions_total 1.0" in text
    finally:
        stop_api(api)
        world.start_redis()
