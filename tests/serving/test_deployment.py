"""Deployment events and the shadow backlog (the deployment itself lives in the registry:
``tests/skewless/test_registry.py``)."""

from __future__ import annotations

import threading
from pathlib import Path

from serving.deployment_events import DeploymentEventLog, read_events
from serving.shadow import ShadowRunner


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
