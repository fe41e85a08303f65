"""Hot reload under traffic, and the token on admin endpoints.

Runs after test_api.py (it moves the shared workspace's champion to a new version).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import QUIET
from tests.serving.client import call, transaction
from tests.serving.conftest import ServedWorkspace, start_api, stop_api
from training.config import TrainingConfig
from training.job import train_and_register
from training.registry import promote

pytestmark = pytest.mark.integration
TOKEN = "s3cret-for-tests"


def test_admin_reload_needs_the_token(served: ServedWorkspace) -> None:
    api = start_api(served.settings, SKEWLESS_ADMIN_TOKEN=TOKEN, SKEWLESS_RELOAD_INTERVAL_S="0")
    try:
        assert call(api, "POST", "/admin/reload")[0] == 401
        request = urllib.request.Request(
            f"{api.url}/admin/reload", method="POST", headers={"Authorization": "Bearer wrong"}
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401
        request = urllib.request.Request(
            f"{api.url}/admin/reload", method="POST", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
    finally:
        stop_api(api)
    disabled = start_api(served.settings, SKEWLESS_RELOAD_INTERVAL_S="0")
    try:
        status, body = call(disabled, "POST", "/admin/reload")
        assert status == 403 and "SKEWLESS_ADMIN_TOKEN" in body["detail"]
    finally:
        stop_api(disabled)


def test_hot_reload_when_the_champion_moves_with_no_failed_request(served: ServedWorkspace) -> None:
    api = start_api(served.settings, SKEWLESS_RELOAD_INTERVAL_S="0.5")
    statuses: list[int] = []
    versions: list[int] = []
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            status, body = call(api, "POST", "/predict", transaction(served.parity_row))
            statuses.append(status)
            if status == 200:
                versions.append(body["model_version"])

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        before = call(api, "GET", "/model")[1]["model_version"]
        outcome = train_and_register(served.settings, TrainingConfig(), QUIET)
        decision = promote(served.settings, TrainingConfig(), QUIET)
        assert decision.passed, decision.reasons
        deadline = time.monotonic() + 30
        while call(api, "GET", "/model")[1]["model_version"] != outcome.run.version:
            assert time.monotonic() < deadline, "the API never picked up the new champion"
            time.sleep(0.2)
        time.sleep(0.5)  # some traffic on the new version too
    finally:
        stop.set()
        sender.join(timeout=30)
        stop_api(api)
    assert statuses and set(statuses) == {200}
    assert versions[0] == before and versions[-1] == outcome.run.version
    # Versions only ever move forward: no request saw the old model after the swap.
    assert versions == sorted(versions)
