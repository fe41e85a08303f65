"""The whole loop on the ``none`` world: nothing changes, so nothing may be retrained on
performance and (almost) no check may alarm. A module of its own, so that it runs beside the
concept story (tests/lifecycle/test_loop.py) rather than after it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lifecycle.loop.config import LoopConfig
from lifecycle.loop.run import run_loop
from skewless.registry import MlflowModelRegistry
from tests.conftest import QUIET
from tests.factories import make_workspace

pytestmark = [pytest.mark.integration, pytest.mark.slow]

END = date(2026, 6, 1)


def test_nothing_changes_and_nothing_is_retrained_on_performance_nor_alarmed(tmp_path: Path) -> None:
    """The ``none`` world, four weeks at a smaller pace: every early signal holds against the
    holdout, no check retrains on performance, and no check raises drift or skew."""
    settings = make_workspace(tmp_path / "ws")
    registry = MlflowModelRegistry.from_settings(settings)
    config = LoopConfig(scenario="none", end=END, replay_days=28, per_day=800)
    result = run_loop(settings, registry, config, QUIET)
    assert len(result.checks) == 4
    assert not [check for check in result.checks if check["decision"] == "retrain"]
    alarms = [c for c in result.checks if c["decision"] != "none" or c["drift_verdict"] == "drift"]
    assert len(alarms) <= 0.05 * len(result.checks), alarms
    judged = [c for c in result.checks if "early signals ok" in c["reasons"][0]]
    assert len(judged) == len(result.checks)  # the signals were judged, not merely absent
    assert result.champion_version == 1 and "retrained" not in [e.stage for e in result.events]
