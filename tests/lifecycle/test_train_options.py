"""`skewless train`'s Dask options reach the training configuration (in-process, training stubbed:
what training does with them is tests/training/test_dask_training.py)."""

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
        ([], (TrainingConfig.dask_min_rows, None, TrainingConfig.dask_workers)),
        (
            ["--dask-min-rows", "1000", "--dask-scheduler", "tcp://scheduler:8786", "--dask-workers", "4"],
            (1000, "tcp://scheduler:8786", 4),
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
    assert [(c.dask_min_rows, c.dask_scheduler, c.dask_workers) for c in seen] == [expected]


def test_a_dask_worker_count_below_one_is_refused(tmp_path: Path) -> None:
    root = make_workspace(tmp_path / "ws").root_dir
    result = CliRunner().invoke(app, ["--root-dir", str(root), "train", "--dask-workers", "0"])
    assert result.exit_code == 2 and "dask-workers" in result.output
