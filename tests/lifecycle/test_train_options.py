"""`skewless train`'s Dask and sampling options reach the training configuration (in-process,
training stubbed: what training does with them is tests/training/test_dask_training.py and
test_dataset.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import training.job
from lifecycle.cli import app
from tests.factories import make_workspace
from training.config import TrainingConfig


class _Stop(Exception):
    """Raised by the stub once it has the configuration."""


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], (TrainingConfig.dask_min_rows, None, TrainingConfig.dask_workers, 1.0)),
        (
            ["--dask-min-rows", "1000", "--dask-scheduler", "tcp://scheduler:8786", "--dask-workers", "4"],
            (1000, "tcp://scheduler:8786", 4, 1.0),
        ),
        (
            ["--legit-sample-rate", "0.1"],
            (TrainingConfig.dask_min_rows, None, TrainingConfig.dask_workers, 0.1),
        ),
    ],
)
def test_the_dask_options_reach_the_training_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: list[str], expected: tuple[Any, ...]
) -> None:
    seen: list[TrainingConfig] = []

    def stub(settings: Any, registry: Any, config: TrainingConfig, progress: Any) -> None:
        seen.append(config)
        raise _Stop

    monkeypatch.setattr(training.job, "train_and_register", stub)
    root = make_workspace(tmp_path / "ws").root_dir
    result = CliRunner().invoke(app, ["--root-dir", str(root), "train", *options])
    assert isinstance(result.exception, _Stop), result.output
    got = [(c.dask_min_rows, c.dask_scheduler, c.dask_workers, c.legit_sample_rate) for c in seen]
    assert got == [expected]


@pytest.mark.parametrize(
    "options", [["--dask-workers", "0"], ["--legit-sample-rate", "0"], ["--legit-sample-rate", "1.5"]]
)
def test_a_count_or_rate_out_of_range_is_refused(tmp_path: Path, options: list[str]) -> None:
    root = make_workspace(tmp_path / "ws").root_dir
    result = CliRunner().invoke(app, ["--root-dir", str(root), "train", *options])
    assert result.exit_code == 2 and options[0].lstrip("-") in result.output


@pytest.mark.parametrize(
    ("command", "module", "function"),
    [
        (["retrain"], "lifecycle.retraining", "retrain_now"),
        (["monitor", "check"], "lifecycle.checks", "run_check"),
    ],
)
def test_the_policy_commands_pass_the_sampling_rate_to_retraining(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], module: str, function: str
) -> None:
    import importlib

    from monitoring.config import MonitoringConfig, PolicyRules

    seen: list[PolicyRules] = []

    def stub(settings: Any, registry: Any, rules_or_config: Any, *args: Any) -> None:
        config = rules_or_config
        seen.append(config.policy if isinstance(config, MonitoringConfig) else config)
        raise _Stop

    monkeypatch.setattr(importlib.import_module(module), function, stub)
    root = make_workspace(tmp_path / "ws").root_dir
    result = CliRunner().invoke(app, ["--root-dir", str(root), *command, "--legit-sample-rate", "0.2"])
    assert isinstance(result.exception, _Stop), result.output
    assert [rules.retrain_legit_sample_rate for rules in seen] == [0.2]
