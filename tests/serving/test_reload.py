"""Hot reload under traffic, and the token on admin endpoints (each on its own copy of the world)."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

import pytest

from tests.serving.client import call, transaction
from tests.serving.conftest import api_in_process
from tests.worlds import TrainedWorld

pytestmark = [pytest.mark.integration, pytest.mark.slow]
TOKEN = "s3cret-for-tests"


def test_admin_reload_needs_the_token(trained_copy: TrainedWorld) -> None:
    with api_in_process(trained_copy.settings, admin_token=TOKEN, reload_interval_s=0) as api:
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
    with api_in_process(trained_copy.settings, reload_interval_s=0) as disabled:
        status, body = call(disabled, "POST", "/admin/reload")
        assert status == 403 and "SKEWLESS_ADMIN_TOKEN" in body["detail"]


def test_hot_reload_when_the_champion_moves_with_no_failed_request(trained_copy: TrainedWorld) -> None:
    world = trained_copy
    statuses: list[int] = []
    versions: list[int] = []
    stop = threading.Event()
    with api_in_process(world.settings, reload_interval_s=0.5) as api:

        def traffic() -> None:
            while not stop.is_set():
                status, body = call(api, "POST", "/predict", transaction(world.parity_row))
                statuses.append(status)
                if status == 200:
                    versions.append(body["model_version"])

        sender = threading.Thread(target=traffic)
        sender.start()
        try:
            before = call(api, "GET", "/model")[1]["model_version"]
            # A new version of the same model moves the champion alias (the gate is not the
            # subject here, and its latency check would share this process with the traffic).
            client, name = world.registry.client, world.registry.model_name
            first = client.get_model_version(name, str(before))
            with world.registry.fluent():  # MLflow resolves the logged model's source through it
                newer = int(client.create_model_version(name, first.source, first.run_id).version)
            world.registry.promote(newer)
            deadline = time.monotonic() + 30
            while call(api, "GET", "/model")[1]["model_version"] != newer:
                assert time.monotonic() < deadline, "the API never picked up the new champion"
                time.sleep(0.2)
            time.sleep(0.5)  # some traffic on the new version too
        finally:
            stop.set()
            sender.join(timeout=30)
    assert statuses and set(statuses) == {200}
    assert versions[0] == before and versions[-1] == newer
    # Versions only ever move forward: no request saw the old model after the swap.
    assert versions == sorted(versions)


def test_with_no_champion_the_api_starts_not_ready_and_serves_once_one_is_promoted(
    trained_copy: TrainedWorld,
) -> None:
    """As the runbook says: an API started before any champion exists is up but not ready, and
    picks the champion up at its next registry poll, with no restart."""
    from skewless.registry import CHAMPION

    registry = trained_copy.registry
    version = registry.alias_version(CHAMPION)
    assert version is not None
    registry.delete_alias(CHAMPION)
    with api_in_process(trained_copy.settings, reload_interval_s=0.3) as api:
        assert call(api, "GET", "/health/live")[0] == 200
        status, ready = call(api, "GET", "/health/ready")
        assert status == 503 and ready["model_loaded"] is False and "no champion" in ready["detail"]
        for method, path, body in (
            ("POST", "/predict", transaction(trained_copy.parity_row)),
            ("GET", "/model", None),
            ("GET", "/deployment", None),
        ):
            status, answer = call(api, method, path, body)
            assert status == 503 and "no champion of 'fraud_detection' yet" in answer["detail"], (
                path,
                answer,
            )
        registry.promote(version)  # what `skewless promote` does once a candidate passes the gate
        deadline = time.monotonic() + 20
        while call(api, "GET", "/health/ready")[0] != 200:
            assert time.monotonic() < deadline, "the API never picked the champion up"
            time.sleep(0.2)
        status, answer = call(api, "POST", "/predict", transaction(trained_copy.parity_row))
        assert status == 200 and answer["model_version"] == version
        _, text = call(api, "GET", "/metrics")
        assert "skewless_model_reload_errors_total 0.0" in text  # waiting for a champion is not an error
