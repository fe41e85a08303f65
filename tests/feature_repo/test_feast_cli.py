"""Feast's own command line works in feature_repo/: apply, materialize-incremental, ui."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feature_repo.operations import lookup_online_features, open_feature_store
from feature_repo.pipeline import build_features
from simulation import SimulationConfig, simulate
from skewless.contract import FEATURE_SERVICE_V1
from skewless.settings import Settings
from tests.conftest import QUIET
from tests.servers import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]
FEAST = str(Path(sys.executable).with_name("feast"))


def _feast(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # Feast's MLflow integration is enabled in the yaml: the feast CLI reads MLflow from the environment.
    tracking = f"sqlite:///{repo.parent / 'data' / 'mlflow.db'}"
    environment = os.environ | {"MLFLOW_TRACKING_URI": tracking}
    return subprocess.run(
        [FEAST, *args], cwd=repo, capture_output=True, text=True, timeout=300, env=environment
    )


def test_apply_materialize_incremental_and_ui(workspace: Settings) -> None:
    today = datetime.now(UTC).date()
    simulate(SimulationConfig.ending(today, days=10, scale=0.02, seed=11), workspace.layout, QUIET)
    build_features(workspace.layout, QUIET)
    repo = workspace.feature_repo_dir

    applied = _feast(repo, "apply")
    assert applied.returncode == 0, applied.stderr
    assert "fraud_detection_v1" in applied.stdout

    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
    materialized = _feast(repo, "materialize-incremental", now)
    assert materialized.returncode == 0, materialized.stderr
    row = {"customer_id": 1, "merchant_id": 1, "amount": 10.0, "merchant_country": "US", "channel": "online",
           "transaction_time": datetime.now(UTC) + timedelta(minutes=1)}  # fmt: skip
    values = lookup_online_features(open_feature_store(workspace), FEATURE_SERVICE_V1, [row])
    assert values["merchant_category"][0] is not None  # merchant snapshots reached the online store

    port = free_port()
    ui = subprocess.Popen(
        [FEAST, "ui", "--host", "127.0.0.1", "--port", str(port)],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/projects-list.json", timeout=2
                ) as response:
                    projects = json.load(response)["projects"]
                break
            except OSError:
                if time.monotonic() > deadline or ui.poll() is not None:
                    raise
                time.sleep(0.5)
        assert [project["id"] for project in projects] == ["skewless"]
    finally:
        ui.terminate()
        ui.wait(timeout=10)
