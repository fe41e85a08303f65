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


SHORT_RUN = (
    "run",
    "--scenario",
    "covariate",
    "--end",
    "2026-04-01",
    "--replay-days",
    "14",
    "--per-day",
    "40",
)


def test_run_is_the_whole_loop_and_a_rerun_starts_clean_then_registry_errors_are_one_line(
    tmp_path: Path,
) -> None:
    """`skewless run` as the README's main job runs it, short: two weeks replayed, then again."""
    ws = make_workspace(tmp_path / "ws").root_dir
    result = _run(ws, *SHORT_RUN)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr
    assert "Materializing" not in result.stdout  # Feast's own prints are kept out of the tour
    out = result.stdout
    assert "One online lookup, as the API makes it" in out and "amount_to_mean_30d" in out
    assert "First champion: fraud_detection v1, holdout ROC-AUC" in out and "(gate passed)" in out
    assert "2026-03-18 – 2026-03-24" in out and "2026-03-25 – 2026-03-31" in out  # the two weeks
    assert "check: none" in out and "check: review" in out
    assert "mlflow ui --backend-store-uri sqlite:///" in out and "Summary page (every report linked):" in out
    summary = json.loads((ws / "data" / "loop" / "summary.json").read_text())
    assert summary["champion_version"] == 1
    assert [(w["served"], w["versions"], w["decision"]) for w in summary["weeks"]] == [
        (280, [1], "none"),
        (280, [1], "review"),
    ]
    assert all(w["auc_ci"] is None or 0 < w["auc_ci"] < 1 for w in summary["weeks"])

    # A rerun in the same workspace: the first run's state is set aside, MLflow keeps its
    # version, and nothing of the first run's log is counted again.
    again = _run(ws, *SHORT_RUN)
    assert again.returncode == 0, again.stderr
    assert "the previous run's state set aside: served, monitoring" in again.stderr
    assert (ws / "data" / "previous-run" / "served").is_dir()
    summary = json.loads((ws / "data" / "loop" / "summary.json").read_text())
    assert summary["champion_version"] == 2
    assert [(w["served"], w["versions"]) for w in summary["weeks"]] == [(280, [2]), (280, [2])]
    decisions = (ws / "data" / "monitoring" / "decisions.jsonl").read_text().splitlines()
    assert [json.loads(line)["action"] for line in decisions] == ["none", "review"]

    promoted_again = _run(ws, "promote")
    _one_line_error(promoted_again, "has no version with alias 'challenger'")
    rolled = _run(ws, "rollback")
    _one_line_error(rolled, "replaced no earlier champion")
