"""The API on the production profile: Redis online store, PostgreSQL registry, MLflow server.

Redis is stopped and restarted while the API serves: readiness turns false, /predict
answers 503 with the reason (or, with degraded scoring on, scores from request-time
features and says so); Redis back empty keeps the API not ready until the runbook's
restore. MLflow hanging fails admin calls fast and recovers; two workers export one
set of counters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse

import pytest

from tests.servers import PausableProxy
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


def _restore(world: ProductionWorld) -> dict[str, object]:
    """The runbook's restore command, as an operator runs it (up to the world's parity row)."""
    end = world.parity_row["transaction_time"].strftime("%Y-%m-%dT%H:%M:%S")
    result = subprocess.run(
        [sys.executable, "-m", "lifecycle.cli", "--root-dir", str(world.settings.root_dir), "materialize",
         "--full", "--end", end],
        env=_clean_environment() | world.stack.environment(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    summary: dict[str, object] = json.loads(result.stdout)
    return summary


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}


def _metric(text: str, name: str) -> float:
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(f"{name} ")]
    assert values, f"{name} not exported"
    return values[0]


def test_redis_stopped_then_restarted_empty_is_not_ready_until_restored(
    production_world: ProductionWorld,
) -> None:
    world, row = production_world, production_world.parity_row
    api = start_api(world.settings, **_environment(world))
    try:
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and body["missing_features"] == []
        world.stop_redis()  # under the API
        _wait_until(api, "/health/ready", 503)
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 503 and "online store unavailable" in body["detail"]
        port = str(world.stack.redis_port)
        assert port not in body["detail"] and "127.0.0.1" not in body["detail"]  # no address to callers
        status, ready = call(api, "GET", "/health/ready")
        assert status == 503 and ready["online_store"] == "unreachable" and port not in ready["detail"]
        status, text = call(api, "GET", "/metrics")
        assert _metric(text, "skewless_online_store_errors_total") >= 1
        # Redis returns empty (it keeps nothing on disk): reachable, but not ready, and it says why.
        world.start_redis()
        deadline = time.monotonic() + 15
        while (ready := call(api, "GET", "/health/ready")[1])["online_store"] != "empty":
            assert time.monotonic() < deadline, ready
            time.sleep(0.3)
        assert "skewless materialize --full" in ready["detail"]
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and "txn_count_7d" in body["missing_features"]
        status, text = call(api, "GET", "/metrics")
        assert _metric(text, "skewless_missing_feature_share") > 0.2  # what the alert rule watches
        # The runbook's restore really restores.
        summary = _restore(world)
        assert summary["feature_views"], summary
        _wait_until(api, "/health/ready", 200)
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and body["missing_features"] == []
    finally:
        stop_api(api)


def test_registry_down_admin_fails_fast_and_recovers(production_world: ProductionWorld) -> None:
    """MLflow hangs (a proxy that stops answering): admin calls answer 503 within 2 s, the timeouts
    are counted, predictions go on, and everything works again once MLflow answers."""
    world, row = production_world, production_world.parity_row
    mlflow = urllib.parse.urlsplit(world.stack.mlflow_tracking_uri)
    proxy = PausableProxy(mlflow.hostname or "127.0.0.1", mlflow.port or 5000)
    token = "test-admin"
    api = start_api(
        world.settings,
        **_environment(
            world, SKEWLESS_MLFLOW_TRACKING_URI=f"http://127.0.0.1:{proxy.port}",
            SKEWLESS_ADMIN_TOKEN="test-admin", SKEWLESS_RELOAD_INTERVAL_S="0.5",
        ),
    )  # fmt: skip
    try:
        assert call(api, "POST", "/admin/reload", token=token)[0] == 200
        proxy.pause()
        for method, path, body in (
            ("POST", "/admin/reload", None),
            ("PUT", "/admin/deployment", {"mode": "single"}),
        ):
            started = time.monotonic()
            status, answer = call(api, method, path, body, token=token)
            assert status == 503 and "did not answer" in answer["detail"], answer
            assert time.monotonic() - started < 2.0
        assert call(api, "POST", "/predict", transaction(row))[0] == 200  # serving goes on
        time.sleep(2.0)  # a few polls fail meanwhile
        status, text = call(api, "GET", "/metrics")
        assert _metric(text, "skewless_registry_timeouts_total") >= 2
        assert _metric(text, "skewless_model_reload_errors_total") >= 1
        proxy.resume()
        deadline = time.monotonic() + 30
        while (status := call(api, "POST", "/admin/reload", token=token)[0]) != 200:
            assert time.monotonic() < deadline, status
            time.sleep(0.5)
    finally:
        stop_api(api)
        proxy.close()


def test_two_workers_export_counters_that_add_up(production_world: ProductionWorld) -> None:
    world, row = production_world, production_world.parity_row
    api = start_api(world.settings, None, "--workers", "2", **_environment(world))
    try:
        for _ in range(40):  # a fresh connection each: the two workers share them
            assert call(api, "POST", "/predict", transaction(row))[0] == 200
        scraped = []
        for _ in range(8):
            status, text = call(api, "GET", "/metrics")
            assert status == 200
            scraped.append(
                sum(
                    float(line.split()[-1])
                    for line in text.splitlines()
                    if line.startswith("skewless_predictions_total{")
                )
            )
        assert scraped == [40.0] * 8, scraped
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
