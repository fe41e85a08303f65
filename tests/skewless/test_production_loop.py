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

from skewless.settings import Profile
from tests.factories import make_workspace
from tests.servers import free_port, mlflow_server, postgres_database, start_redis_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_whole_loop_runs_on_redis_postgresql_and_an_mlflow_server(tmp_path: Path) -> None:
    workspace = make_workspace(tmp_path / "ws", profile=Profile.PRODUCTION).root_dir
    redis_port = free_port()
    redis_server = start_redis_server(redis_port)
    try:
        with (
            postgres_database() as registry_url,
            postgres_database() as mlflow_db,
            mlflow_server(mlflow_db, str(tmp_path / "artifacts")) as tracking_url,
        ):
            environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
            environment |= {
                "SKEWLESS_PROFILE": "production",
                "SKEWLESS_REDIS_CONNECTION": f"127.0.0.1:{redis_port},db=0",
                "SKEWLESS_REGISTRY_URL": registry_url,
                "SKEWLESS_MLFLOW_TRACKING_URI": tracking_url,
            }
            result = subprocess.run(
                [sys.executable, "-m", "skewless.cli", "--root-dir", str(workspace), "run",
                 "--scenario", "covariate", "--end", "2026-04-01", "--replay-days", "14", "--per-day", "40"],
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

            # The registry URI too: MLflow keeps one per process, and an earlier test set it.
            client = MlflowClient(tracking_uri=tracking_url, registry_uri=tracking_url)
            champion = client.get_model_version_by_alias("fraud_detection", "champion")
            assert int(champion.version) == 1 and client.get_run(champion.run_id).info.status == "FINISHED"
    finally:
        redis_server.terminate()
        redis_server.wait(timeout=10)


def _libpq(sqlalchemy_url: str) -> str:
    """``postgresql+psycopg://…`` as psycopg takes it."""
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)
