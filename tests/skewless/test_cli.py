"""The `skewless` command line as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_workspace

pytestmark = pytest.mark.integration


def _run(workspace: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "skewless.cli", "--root-dir", str(workspace), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )


def _one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_simulate_then_build_features(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws").root_dir
    simulated = _run(ws, "simulate", "--start", "2026-01-01", "--end", "2026-01-15", "--scale", "0.02")
    assert simulated.returncode == 0, simulated.stderr
    assert json.loads(simulated.stdout)["transactions"] > 500
    assert "reproduce with: skewless simulate --start 2026-01-01 --end 2026-01-15" in simulated.stderr
    built = _run(ws, "features", "build", "--start", "2026-01-05")
    assert built.returncode == 0, built.stderr
    summary = json.loads(built.stdout)
    assert summary["start"] == "2026-01-05" and summary["rows"]["customer_activity"] > 0


def test_missing_data_folder(tmp_path: Path) -> None:
    _one_line_error(_run(tmp_path / "nowhere", "features", "build"), "run `skewless simulate` first")


def test_unknown_scenario_writes_nothing(tmp_path: Path) -> None:
    _one_line_error(
        _run(tmp_path, "simulate", "--scenario", "meteor"), "unknown scenario 'meteor'", "covariate"
    )
    assert not (tmp_path / "data").exists()


def test_bad_date_range_writes_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path, "simulate", "--start", "2026-02-01", "--end", "2026-01-01")
    _one_line_error(result, "bad date range")
    assert not (tmp_path / "data").exists()


def test_features_range_outside_simulation_keeps_old_tables(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws").root_dir
    assert (
        _run(ws, "simulate", "--start", "2026-01-01", "--end", "2026-01-08", "--scale", "0.02").returncode
        == 0
    )
    assert _run(ws, "features", "build").returncode == 0
    before = sorted(p.read_bytes() for p in (ws / "data" / "features").rglob("*.parquet"))
    _one_line_error(_run(ws, "features", "build", "--start", "2025-06-01"), "covers 2026-01-01..2026-01-08")
    assert sorted(p.read_bytes() for p in (ws / "data" / "features").rglob("*.parquet")) == before


def test_malformed_date_and_bad_profile(tmp_path: Path) -> None:
    _one_line_error(_run(tmp_path, "simulate", "--start", "yesterday"), "--start")
    _one_line_error(_run(tmp_path, "simulate", env={"SKEWLESS_PROFILE": "cloud"}), "profile")


def test_redis_url_is_refused_with_the_right_form(tmp_path: Path) -> None:
    result = _run(tmp_path, "apply", env={"SKEWLESS_REDIS_CONNECTION": "redis://localhost:6379"})
    _one_line_error(result, "host:port,db=N")


def test_run_prints_the_lookup_and_the_gate_then_registry_errors_are_one_line(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws").root_dir
    result = _run(ws, "run", "--days", "90", "--scale", "0.1", "--seed", "3")
    assert result.returncode == 0, result.stderr
    assert "One online lookup, as the prediction API will make it:" in result.stdout
    assert "txn_count_7d" in result.stdout and "amount_to_mean_30d" in result.stdout
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr
    assert (ws / "data" / "online_store.db").is_file() and (ws / "data" / "registry.db").is_file()
    assert (
        "against the oracle's" in result.stdout
        and "Promotion gate passed: v1 is now the champion." in result.stdout
    )
    assert "mlflow ui --backend-store-uri sqlite:///" in result.stdout
    assert "answered 200" in result.stdout and "Served-feature log:" in result.stdout

    promoted_again = _run(ws, "promote")
    _one_line_error(promoted_again, "has no version with alias 'challenger'")
    rolled = _run(ws, "rollback")
    _one_line_error(rolled, "replaced no earlier champion")
