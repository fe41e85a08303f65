"""The `skewless` command line as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skewless.errors import (
    DataNotFoundError,
    DeploymentRefusedError,
    InvalidDateRangeError,
    ModelNotFoundError,
    PromotionRefusedError,
    UnknownScenarioError,
)
from tests.cli import run_cli
from tests.factories import make_workspace

pytestmark = pytest.mark.integration


def _run(workspace: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "lifecycle.cli", "--root-dir", str(workspace), *args],
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


def test_the_reproduce_command_makes_the_same_world(tmp_path: Path) -> None:
    """The printed command names the drift start given, and running it writes the same bytes."""
    first = make_workspace(tmp_path / "first").root_dir
    options = ("--start", "2026-01-01", "--end", "2026-01-11", "--scale", "0.02", "--scenario", "concept")
    simulated = _run(first, "simulate", *options, "--drift-start", "2026-01-03")
    assert simulated.returncode == 0, simulated.stderr
    command = simulated.stderr.split("reproduce with: skewless ", 1)[1].split()
    assert command[-2:] == ["--drift-start", "2026-01-03"]
    second = make_workspace(tmp_path / "second").root_dir
    again = _run(second, *command)
    assert again.returncode == 0, again.stderr
    for table in ("transactions.parquet", "labels.parquet"):
        assert (first / "data" / "raw" / table).read_bytes() == (second / "data" / "raw" / table).read_bytes()


def test_missing_data_folder(tmp_path: Path) -> None:
    result = _run(tmp_path / "nowhere", "features", "build")
    _one_line_error(result, "run `skewless simulate` first")
    assert result.returncode == DataNotFoundError.exit_code


@pytest.mark.parametrize(
    "arguments",
    [
        ["simulate", "--scenario", "meteor"],
        ["run", "--scenario", "meteor"],
        ["simulate", "--start", "2026-02-01", "--end", "2026-01-01"],
        ["run", "--per-day", "3"],
        ["run", "--replay-days", "7"],  # the scenario's change would come after the replay
        ["monitor", "check", "--every", "week"],
        ["--profile", "cloud", "apply"],
        # what the API refuses, lookup refuses (the same request model), before opening any store
        [
            "lookup",
            "--customer-id",
            "1",
            "--merchant-id",
            "1",
            "--amount",
            "10",
            "--merchant-country",
            "Germany",
            "--channel",
            "web",
        ],
    ],
)
def test_a_refused_argument_writes_nothing(tmp_path: Path, arguments: list[str]) -> None:
    result = _run(tmp_path, *arguments)
    _one_line_error(result)
    assert result.returncode in (2, UnknownScenarioError.exit_code, InvalidDateRangeError.exit_code)
    assert list(tmp_path.iterdir()) == []  # no data/, no mlflow.db, no registry.db
    if "lookup" in arguments:
        assert "the API would refuse this transaction: merchant_country:" in result.stderr
        assert "channel: Input should be 'in_store', 'contactless' or 'online'" in result.stderr
    if "meteor" in arguments:
        choices = "choose one of concept, covariate, none, pipeline_break"
        assert f"unknown scenario 'meteor': {choices}" in result.stderr


def test_the_command_line_loads_no_heavy_library_before_a_command_runs() -> None:
    """``--help`` and argument errors answer at once because nothing heavy is imported to parse."""
    probe = (
        "import sys, lifecycle.cli\n"
        "heavy = ('feast', 'mlflow', 'lightgbm', 'pandas', 'numpy', 'duckdb', 'pydantic_settings')\n"
        "print(sorted(name for name in heavy if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("arguments", "kind"),
    [
        (["promote"], ModelNotFoundError),
        (["evaluate"], ModelNotFoundError),
        (["rollback"], PromotionRefusedError),
        (["deploy", "--mode", "shadow"], DeploymentRefusedError),
        (["retrain"], DataNotFoundError),
    ],
)
def test_every_model_command_acts_on_the_settings_model(
    tmp_path: Path, arguments: list[str], kind: type[Exception]
) -> None:
    """SKEWLESS_MODEL_NAME names the model every command uses (six defaulted to the literal
    'fraud_detection' while serve and monitor used the setting), and --model-name does too."""
    from_env = run_cli(tmp_path, *arguments, env={"SKEWLESS_MODEL_NAME": "card_fraud"})
    assert from_env.returncode == kind.exit_code, from_env.stderr  # type: ignore[attr-defined]
    assert "'card_fraud'" in from_env.stderr and "fraud_detection" not in from_env.stderr
    from_flag = run_cli(tmp_path, "--model-name", "other_model", *arguments)
    assert "'other_model'" in from_flag.stderr, from_flag.stderr


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
    bad = _run(tmp_path, "simulate", env={"SKEWLESS_PROFILE": "cloud"})
    _one_line_error(bad, "profile")
    assert bad.returncode == 3  # invalid settings: a configuration error


def test_redis_url_is_refused_with_the_right_form(tmp_path: Path) -> None:
    result = _run(tmp_path, "apply", env={"SKEWLESS_REDIS_CONNECTION": "redis://localhost:6379"})
    _one_line_error(result, "host:port,db=N")


SMALL_WORLD = ("run", "--scenario", "covariate", "--end", "2026-06-01", "--scale", "0.1")
COVARIATE_RUN = (*SMALL_WORLD, "--replay-days", "14", "--per-day", "150")
SHORT_RERUN = (*SMALL_WORLD, "--replay-days", "8", "--per-day", "40")


@pytest.mark.slow
def test_run_is_the_whole_loop_and_a_rerun_starts_clean_then_registry_errors_are_one_line(
    tmp_path: Path,
) -> None:
    """`skewless run` as the README's main job runs it: two weeks of the covariate story, where a
    shift is drift to review and not a reason to retrain while the model still ranks well; then a
    short rerun in the same workspace, which starts clean."""
    ws = make_workspace(tmp_path / "ws").root_dir
    result = _run(ws, *COVARIATE_RUN)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr and "Traceback" not in result.stderr
    assert "Materializing" not in result.stdout  # Feast's own prints are kept out of the tour
    out = result.stdout
    assert "One online lookup, as the API makes it" in out and "amount_to_mean_30d" in out
    assert "First champion: fraud_detection v1, holdout ROC-AUC" in out and "(gate passed)" in out
    assert "2026-05-18 – 2026-05-24" in out and "2026-05-25 – 2026-05-31" in out  # the two weeks
    assert "check: none" in out and "check: review" in out
    assert "mlflow ui --backend-store-uri sqlite:///" in out and "Summary page (every report linked):" in out
    summary = json.loads((ws / "data" / "loop" / "summary.json").read_text())
    assert [(w["served"], w["versions"]) for w in summary["weeks"]] == [(1050, [1])] * 2
    assert all(w["auc_ci"] is None or 0 < w["auc_ci"] < 1 for w in summary["weeks"])
    first, *shifted = summary["checks"]
    assert (first["decision"], first["drift_verdict"]) == ("none", "ok")  # days 1-7, before the change
    assert [check["decision"] for check in shifted] == ["review"]
    for check in shifted:
        assert check["drift_verdict"] == "drift" and check["skew"] == "ok"
        assert {"txn_amount", "is_foreign"} & set(check["drifted"])
        assert "do not retrain on drift alone" in check["reasons"][0]
    # Nothing was retrained: v1 serves throughout and still ranks the shifted traffic well.
    assert "retrained" not in [event["stage"] for event in summary["events"]]
    assert summary["champion_version"] == 1
    after = next(p for p in summary["periods"] if p["phase"] == "after the change")
    assert after["version"] == 1 and after["auc"] > 0.75

    # A rerun in the same workspace: the first run's state is set aside, MLflow keeps its
    # version, and nothing of the first run's log is counted again.
    again = _run(ws, *SHORT_RERUN)
    assert again.returncode == 0, again.stderr
    assert "the previous run's state set aside: served, labels, monitoring" in again.stderr
    assert (ws / "data" / "previous-run" / "served").is_dir()
    summary = json.loads((ws / "data" / "loop" / "summary.json").read_text())
    assert summary["champion_version"] == 2
    assert [(w["served"], w["versions"]) for w in summary["weeks"]] == [(280, [2]), (40, [2])]
    decisions = (ws / "data" / "monitoring" / "decisions.jsonl").read_text().splitlines()
    assert [json.loads(line)["action"] for line in decisions] == ["none"]

    promoted_again = _run(ws, "promote")
    _one_line_error(promoted_again, "has no version with alias 'challenger'")
    rolled = _run(ws, "rollback")
    _one_line_error(rolled, "replaced no earlier champion")


def test_a_corrupt_data_file_or_a_malformed_yaml_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws").root_dir
    simulated = _run(ws, "simulate", "--start", "2026-01-01", "--end", "2026-01-08", "--scale", "0.02")
    assert simulated.returncode == 0 and _run(ws, "features", "build").returncode == 0
    assert _run(ws, "apply").returncode == 0
    transactions = ws / "data" / "raw" / "transactions.parquet"
    transactions.write_bytes(transactions.read_bytes()[:1_000])  # a copy cut short
    for command in (("features", "build"), ("train",)):
        result = _run(ws, *command)
        progress = ("▶", "✓", "✗")
        said = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith(progress)]
        assert len(said) == 1 and said[0].startswith("error: a data file cannot be read"), result.stderr
        assert "rebuild it" in said[0] and "Traceback" not in result.stderr
        assert result.returncode == DataNotFoundError.exit_code
    config = ws / "feature_repo" / "feature_store.yaml"
    config.write_text(config.read_text() + "project: x\n  broken: [\n")
    result = _run(ws, "materialize")
    _one_line_error(result, "invalid feature store config")
    assert result.returncode == 3
