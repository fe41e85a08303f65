"""The deployment kept in a real (sqlite) MLflow registry, and the shadow backlog."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from mlflow import MlflowClient

from serving.deployment_events import DeploymentEventLog, read_events
from serving.shadow import ShadowRunner
from skewless.deployment import (
    DEPLOYMENT_TAG,
    Deployment,
    read_deployment,
    write_deployment,
)
from skewless.settings import DeploymentMode

DEFAULT = Deployment(DeploymentMode.SINGLE, 0.1, "from settings")


@pytest.fixture
def client(tmp_path: Path) -> MlflowClient:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    registry = MlflowClient(tracking_uri=uri, registry_uri=uri)
    registry.create_registered_model("fraud_detection")
    return registry


def test_deployment_round_trips_through_the_registry(client: MlflowClient) -> None:
    assert read_deployment(client, "fraud_detection", DEFAULT) == DEFAULT
    canary = Deployment(DeploymentMode.CANARY, 0.25, "set by an admin")
    write_deployment(client, "fraud_detection", canary)
    assert read_deployment(client, "fraud_detection", DEFAULT) == canary


def test_unreadable_tag_or_unknown_model_falls_back_to_the_default(client: MlflowClient) -> None:
    client.set_registered_model_tag("fraud_detection", DEPLOYMENT_TAG, '{"mode": "sideways"}')
    assert read_deployment(client, "fraud_detection", DEFAULT) == DEFAULT
    assert read_deployment(client, "no_such_model", DEFAULT) == DEFAULT


def test_events_are_appended_one_json_line_each(tmp_path: Path) -> None:
    log = DeploymentEventLog(tmp_path / "deployments" / "events.jsonl")
    threads = [threading.Thread(target=log.append, args=("deployment",), kwargs={"n": i}) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events = read_events(log.path)
    assert sorted(event["n"] for event in events) == list(range(20))
    assert read_events(tmp_path / "absent.jsonl") == []


def test_shadow_backlog_is_bounded_and_close_finishes_it() -> None:
    gate = threading.Event()
    done: list[int] = []
    skipped: list[int] = []
    runner = ShadowRunner(backlog=2, on_skip=lambda: skipped.append(1))
    assert runner.submit(lambda: (gate.wait(10), done.append(1)) and None)
    assert runner.submit(lambda: done.append(2))
    assert not runner.submit(lambda: done.append(3))  # backlog full: skipped, not queued
    assert runner.skipped == 1 and skipped == [1]
    gate.set()
    runner.close()
    assert done == [1, 2]
