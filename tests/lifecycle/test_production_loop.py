"""The main job on the production profile, end to end on loopback servers: a private Redis
as the online store, Feast's SQL registry and MLflow's backend on PostgreSQL, a real MLflow
tracking server. `skewless run` is started as the runbook says, with the profile's variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import redis

from lifecycle.local_stack import DEFAULT_POSTGRES, local_production_stack
from skewless.modes import Profile
from tests.factories import make_workspace

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_whole_loop_runs_on_redis_postgresql_and_an_mlflow_server(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", profile=Profile.PRODUCTION).root_dir
    admin = os.environ.get("SKEWLESS_TEST_POSTGRES", DEFAULT_POSTGRES)
    with local_production_stack(tmp_path, admin) as stack:
        registry_url, tracking_url, redis_port = (
            stack.registry_url,
            stack.mlflow_tracking_uri,
            stack.redis_port,
        )
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
        environment |= stack.environment()
        result = subprocess.run(
            [sys.executable, "-m", "lifecycle.cli", "--root-dir", str(workspace), "run",
             "--scenario", "covariate", "--end", "2026-04-01", "--scale", "0.1", "--replay-days", "14",
             "--per-day", "40"],
            capture_output=True, text=True, timeout=600, env=environment,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
        assert "profile production" in result.stderr and f"open {tracking_url}" in result.stdout
        summary = json.loads((workspace / "data" / "loop" / "summary.json").read_text())
        assert [(c["decision"], c["skew"]) for c in summary["checks"]] == [
            ("none", "ok"),
            ("review", "ok"),
        ]
        assert [w["served"] for w in summary["weeks"]] == [280, 280]

        # Each server holds its part: the online rows in Redis, Feast's registry in
        # PostgreSQL, the run, the version and its alias on the tracking server.
        online = redis.Redis(port=redis_port)
        assert online.dbsize() > 500  # customers and merchants, materialized and pushed
        with psycopg.connect(_libpq(registry_url)) as connection:
            views = connection.execute("SELECT feature_view_name FROM feature_views").fetchall()
        assert {"customer_activity", "merchant_stats", "customer_profile"} <= {v[0] for v in views}
        from mlflow import MlflowClient

        client = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)
        champion = client.get_model_version_by_alias("fraud_detection", "champion")
        assert int(champion.version) == 1 and client.get_run(champion.run_id).info.status == "FINISHED"


def _libpq(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://…`` as psycopg takes it."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
