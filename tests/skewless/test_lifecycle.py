"""The main job end to end on the embedded profile."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from simulation import SimulationConfig
from skewless.lifecycle import run_main_job
from skewless.settings import Settings
from tests.conftest import QUIET

pytestmark = pytest.mark.integration


def test_main_job_looks_up_trains_and_promotes(workspace: Settings) -> None:
    today = datetime.now(UTC).date()
    config = SimulationConfig(start=today - timedelta(days=90), end=today, scale=0.1, seed=3)
    result = run_main_job(workspace, config, QUIET)
    assert result.simulation.transactions > 20_000
    assert result.applied.feature_services == ["fraud_detection_v1"]
    assert workspace.layout.online_store_db.is_file() and workspace.layout.registry_db.is_file()
    features = result.online_features
    # The sample customer transacted on the last day, so its state is in the online store.
    assert features["customer_id"] == result.request["customer_id"]
    assert features["txn_count_7d"] >= 1 and features["merchant_category"] is not None
    assert features["txn_amount"] == result.request["amount"]
    # Training: a registered challenger, judged by the gate with no incumbent.
    assert result.training.run.version == 1 and result.training.report_html.is_file()
    assert result.promotion.passed and result.promotion.champion_version is None
    # Serving: the champion answered every replayed transaction, and the log holds them.
    assert result.replay is not None and set(result.replay.statuses) == {200}
    assert {r["model_version"] for r in result.replay.responses} == {1}
    logged = pd.read_parquet(workspace.layout.served_log_dir)
    assert set(logged["request_id"]) == {r["request_id"] for r in result.replay.responses}


def test_main_job_can_run_twice_in_one_workspace(workspace: Settings) -> None:
    today = datetime.now(UTC).date()
    config = SimulationConfig(start=today - timedelta(days=90), end=today, scale=0.1, seed=5)
    first = run_main_job(workspace, config, QUIET)
    second = run_main_job(workspace, config, QUIET)
    assert first.online_features == second.online_features
    # Same data and config: the same dataset, a new version that the gate accepts.
    assert first.training.dataset_hash == second.training.dataset_hash
    assert second.training.run.version == first.training.run.version + 1
    assert second.promotion.passed and second.promotion.champion_version == first.training.run.version
