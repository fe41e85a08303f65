"""The whole loop (the main job) on the embedded profile with the README's defaults, asserting
the decisions it reaches: a concept change is invisible to drift, seen in the labels, retrained
on and promoted through shadow and canary. (The covariate story runs through the command line
in tests/lifecycle/test_cli.py; the production profile's in tests/lifecycle/test_production_loop.py.)"""

from __future__ import annotations

import json
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from lifecycle.loop.config import LoopConfig, LoopResult
from lifecycle.loop.run import run_loop
from skewless.registry import MlflowModelRegistry
from tests.conftest import QUIET
from tests.factories import make_workspace
from tests.servers import mlflow_ui, screenshot_in_chromium

pytestmark = [pytest.mark.integration, pytest.mark.slow]

END = date(2026, 6, 1)  # the replay covers 2026-03-23 .. 2026-05-31; the change starts on day 8


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _stages(result: LoopResult) -> list[str]:
    return [event.stage for event in result.events]


def test_concept_change_is_retrained_on_from_the_labels_and_promoted_through_shadow_and_canary(
    tmp_path: Path,
) -> None:
    settings = make_workspace(tmp_path / "ws")
    registry = MlflowModelRegistry.from_settings(settings)
    result = run_loop(
        settings, registry, LoopConfig(scenario="concept", end=END), QUIET
    )  # the README's defaults

    decisions = [check["decision"] for check in result.checks]
    assert len(decisions) == 10
    # The fraud pattern changes, the features' distributions do not: no drift, and the
    # served features equal offline retrieval in every week.
    assert {check["drift_verdict"] for check in result.checks} == {"ok"}
    assert {check["skew"] for check in result.checks} == {"ok"}
    # Legitimate labels take 30 days: for four weeks there is nothing to judge.
    assert decisions[:4] == ["none"] * 4
    drops = [check for check in result.checks if check["decision"] == "retrain"]
    assert drops and all("AUC" in check["reasons"][0] and "drop" in check["reasons"][0] for check in drops)
    # A retrained candidate passes the gate, waits in shadow, answers on canary, and is promoted.
    stages = _stages(result)
    assert "rolled back" not in stages
    shadow, canary, promoted = (stages.index(stage) for stage in ("shadow", "canary", "promoted"))
    assert shadow < canary < promoted
    assert result.start.training.run.version == 1 and result.champion_version not in (None, 1)
    assert f"v{result.champion_version} is champion" in result.events[promoted].detail
    # What the callers got: v1 ranked well before the change and badly after it.
    periods = {(p["version"], p["phase"]): p for p in result.periods}
    before, after = periods[(1, "before the change")], periods[(1, "after the change")]
    assert before["auc"] > 0.75 and after["auc"] + after["auc_ci"] < before["auc"] - before["auc_ci"]
    assert (result.champion_version, "after the change") in periods
    assert all(p["oracle_auc"] > 0.75 for p in result.periods)

    summary = json.loads(result.summary_json.read_text())
    assert [w["decision"] for w in summary["weeks"]] == decisions
    page = result.summary_html.read_text()
    assert page.count("monitoring report</a>") == 10 and "evaluation report</a>" in page
    assert screenshot_in_chromium(result.summary_html, tmp_path / "summary.png", "1280,1800") > 0.0005
    # The MLflow UI, started with the command the summary gives, shows every version and the champion.
    with mlflow_ui(summary["mlflow_ui"]) as url:
        model = _get(f"{url}/api/2.0/mlflow/registered-models/get?name=fraud_detection")["registered_model"]
        found = _get(f"{url}/api/2.0/mlflow/model-versions/search?filter=" + quote("name='fraud_detection'"))
    aliases = {alias["alias"]: int(alias["version"]) for alias in model["aliases"]}
    assert aliases == {"champion": result.champion_version}  # the promoted challenger's alias moved on
    retrained = [e for e in result.events if e.stage == "retrained"]
    assert sorted(int(v["version"]) for v in found["model_versions"]) == list(range(1, 2 + len(retrained)))
