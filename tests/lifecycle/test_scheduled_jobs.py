"""Scheduled jobs run one at a time, retraining does not pile candidates up, and the
deployment can be set by hand: `skewless materialize`, `monitor check`, `retrain`, `deploy`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from lifecycle.locks import MATERIALIZE, POLICY, job_lock
from skewless.errors import JobLockedError
from skewless.layout import DataLayout
from skewless.modes import DeploymentMode
from skewless.registry import CHALLENGER, Deployment
from tests.cli import run_cli, run_cli_process
from tests.worlds import RETRAIN_AT, ScenarioWorld

pytestmark = pytest.mark.integration

World = Callable[[str], ScenarioWorld]


def skewless(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A second process, as cron would start while a run holds the lock."""
    return run_cli_process(root, *args)


def test_a_second_run_of_a_held_job_exits_75_and_the_lock_is_free_again_after(tmp_path: Path) -> None:
    layout = DataLayout(tmp_path / "data")
    with job_lock(layout, MATERIALIZE):
        with pytest.raises(JobLockedError, match=f"pid {os.getpid()}"):
            with job_lock(layout, MATERIALIZE):
                pass
        for command in (["materialize"], ["monitor", "check", "--every", "day"]):  # the runbook's crontab
            lock = MATERIALIZE if command == ["materialize"] else POLICY
            with job_lock(layout, lock) if lock != MATERIALIZE else _nothing():
                refused = skewless(tmp_path, *command)
            assert refused.returncode == 75, refused.stderr
            assert f"'{lock}' is already running" in refused.stderr and "changed nothing" in refused.stderr
    with job_lock(layout, MATERIALIZE) as path:  # released: a later run goes ahead
        assert json.loads(path.read_text())["pid"] == os.getpid()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    layout = DataLayout(tmp_path / "data")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path; from skewless.layout import DataLayout; "
         "from lifecycle.locks import job_lock\n"
         f"with job_lock(DataLayout(Path({str(layout.root)!r})), 'policy'):\n"
         "    print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(JobLockedError, match=f"pid {holder.pid}"):
        with job_lock(layout, POLICY):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    deadline = time.monotonic() + 5
    while True:
        try:
            with job_lock(layout, POLICY):
                break
        except JobLockedError:
            assert time.monotonic() < deadline, "the killed holder's lock was never released"
            time.sleep(0.1)


@pytest.mark.slow
def test_retrain_and_deploy_by_hand_and_a_second_retrain_does_nothing(scenario_copy: World) -> None:
    world = scenario_copy("concept")  # retraining and deploying change the registry: a copy
    settings, registry = world.settings, world.registry
    root = settings.root_dir
    refused = run_cli(root, "deploy", "--mode", "canary")
    assert refused.returncode == 11 and "has no challenger to canary" in refused.stderr

    as_of = RETRAIN_AT.strftime("%Y-%m-%dT%H:%M:%S")
    first = run_cli(root, "retrain", "--as-of", as_of)
    assert first.returncode == 0, first.stderr
    outcome = json.loads(first.stdout)["outcome"]
    assert outcome["retrained"] and outcome["gate_passed"], outcome  # the champion is stale after the change
    candidate = outcome["candidate_version"]
    assert registry.alias_version(CHALLENGER) == candidate
    assert registry.deployment(Deployment(DeploymentMode.SINGLE, 0.0)).mode is DeploymentMode.SHADOW

    second = run_cli(root, "retrain", "--as-of", as_of)
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout)["outcome"]
    assert not again["retrained"] and f"challenger v{candidate} is already waiting" in again["why"]
    decisions = [json.loads(line) for line in settings.layout.policy_decisions.read_text().splitlines()]
    assert [d["outcome"]["retrained"] for d in decisions[-2:]] == [True, False]

    # The runbook's "Shadow and canary", verbatim: look at the challenger, keep it in shadow,
    # then send it a tenth of the customers.
    evaluated = run_cli(root, "evaluate", "--model", "challenger")
    assert evaluated.returncode == 0, evaluated.stderr
    assert Path(json.loads(evaluated.stdout)["report"]).is_file()
    shadow = run_cli(root, "deploy", "--mode", "shadow")
    assert shadow.returncode == 0 and json.loads(shadow.stdout)["mode"] == "shadow", shadow.stderr
    canary = run_cli(root, "deploy", "--mode", "canary", "--canary-share", "0.1")
    assert canary.returncode == 0, canary.stderr
    deployment = registry.deployment(Deployment(DeploymentMode.SINGLE, 0.0))
    assert (deployment.mode, deployment.canary_share) == (DeploymentMode.CANARY, 0.1)

    registry.record_canary_rollback(candidate, ["KS distance 0.41 on scores"], {})
    refused = run_cli(root, "deploy", "--mode", "canary")
    assert refused.returncode == 11 and f"v{candidate} was rolled back from canary" in refused.stderr
    single = run_cli(root, "deploy", "--mode", "single")
    assert single.returncode == 0 and json.loads(single.stdout)["mode"] == "single"
    # A challenger rolled back from canary no longer waits: the next retrain trains again.
    third = run_cli(root, "retrain", "--as-of", as_of)
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["outcome"]["retrained"]
