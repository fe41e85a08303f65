"""The whole loop (the main job) on the embedded profile with the README's defaults, asserting
the decisions it reaches: a concept change is invisible to drift, seen in the labels, retrained
on and promoted through shadow and canary. (The covariate story runs through the command line
in tests/lifecycle/test_cli.py; the production profile's in tests/lifecycle/test_production_loop.py.)"""

from __future__ import annotations

import json
import re
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
from tests.pages import read_page
from tests.servers import mlflow_ui, screenshot_in_chromium

pytestmark = [pytest.mark.integration, pytest.mark.slow]

END = date(2026, 6, 1)  # the replay covers 2026-03-23 .. 2026-05-31; the change starts on day 8


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def _stages(result: LoopResult) -> list[str]:
    return [event.stage for event in result.events]


def _day(result: LoopResult, iso: str) -> int:
    """The replayed day (1-based) of an ISO date."""
    first = date.fromisoformat(result.weeks[0]["week"][:10])
    return (date.fromisoformat(iso) - first).days + 1


def test_concept_change_is_seen_within_a_week_and_a_retrained_model_answers_within_three(
    tmp_path: Path,
) -> None:
    """The README's main job: the fraud pattern changes on day 8. The analysts' reviews of the
    alerts show the precision collapse within the week; the policy retrains on the labels
    known then, and a retrained model answers customers (canary) within 21 days."""
    settings = make_workspace(tmp_path / "ws")
    registry = MlflowModelRegistry.from_settings(settings)
    config = LoopConfig(scenario="concept", end=END)  # the README's defaults
    result = run_loop(settings, registry, config, QUIET)
    change_day = config.drift_after_days + 1

    decisions = [check["decision"] for check in result.checks]
    assert len(decisions) == config.replay_days // config.check_every_days
    assert decisions[0] == "none" and {check["skew"] for check in result.checks} == {"ok"}
    # The fraud pattern changes, the inputs do not: the first performance decision rests on the
    # early signals (reviewed alerts), not on drift, and comes within 7 days of the change.
    first_drop = next(check for check in result.checks if check["decision"] == "retrain")
    assert _day(result, first_drop["day"]) - change_day < 7
    assert first_drop["drift_verdict"] == "ok" and "alert precision" in first_drop["reasons"][0]
    # The report the decision was taken on states it, with the evidence and what came of it.
    report_page = Path(first_drop["report_html"]).read_text()
    assert "Decision: retrain" in report_page and first_drop["reasons"][0] in report_page
    assert "Early signals" in report_page and "What came of it: v2 trained on 21 days" in report_page
    assert "prediction (score) drift: ok" in report_page
    # A model retrained on labels known early answers customers within 21 days of the change.
    answering = [e for e in result.events if e.stage in ("canary", "promoted")]
    assert answering and _day(result, answering[0].day) - change_day <= 21
    stages = _stages(result)
    assert "rolled back" not in stages and stages.index("shadow") < stages.index("canary") < stages.index(
        "promoted"
    )
    assert result.champion_version not in (None, 1)
    # What the callers got: v1 collapsed after the change; the champion at the end ranks the new
    # pattern far better than v1 did, on its own post-change answers, closing most of the gap to the oracle.
    periods = {(p["version"], p["phase"]): p for p in result.periods}
    before, collapsed = periods[(1, "before the change")], periods[(1, "after the change")]
    assert before["auc"] > 0.85 and collapsed["auc"] < 0.6
    recovered = periods[(result.champion_version, "after the change")]
    assert recovered["auc"] - recovered["auc_ci"] > collapsed["auc"] + collapsed["auc_ci"]
    assert recovered["oracle_auc"] - recovered["auc"] < 0.05  # measured 0.025 (README)
    # Enough traffic to read a week: every week's interval after the change is at most ±0.06.
    change = date.fromisoformat(result.weeks[0]["week"][:10]).toordinal() + change_day - 1
    after = [w for w in result.weeks if date.fromisoformat(w["week"][:10]).toordinal() >= change]
    assert after and all(w["auc_ci"] <= 0.06 for w in after), [w["auc_ci"] for w in after]
    # The first champion learned from a world large enough to come near the oracle.
    summary = json.loads(result.summary_json.read_text())
    assert summary["start"]["oracle_auc"] - summary["start"]["holdout_auc"] < 0.02

    assert [w["decision"] for w in summary["weeks"]] == decisions
    assert summary["weeks"][0]["alert_precision"] > 0.1 > summary["weeks"][1]["alert_precision"]
    page = result.summary_html.read_text()
    assert page.count("monitoring report</a>") == len(decisions) and "evaluation report</a>" in page
    assert "<svg" in page and "the change (concept)" in page and "retrain decided" in page
    # Every link is relative and lands on a page that exists: a copied workspace keeps its links.
    links = re.findall(r'href="([^"#]+)"', page)
    assert links and not [link for link in links if "://" in link or link.startswith("/")]
    assert all((result.summary_html.parent / link).is_file() for link in links), links
    assert screenshot_in_chromium(result.summary_html, tmp_path / "summary.png", "1280,1800") > 0.0005
    seen = read_page(page)
    assert seen.font_sizes and min(seen.font_sizes) >= 11  # the chart's and the tables' text alike
    assert any(re.fullmatch(r"[A-Z][a-z]{2} \d{2}", text) for text in seen.svg_texts)  # dated axis
    # The MLflow UI, started with the command the summary gives, shows every version, the champion,
    # and the gate's verdict with both figures on each retrained version.
    with mlflow_ui(summary["mlflow_ui"]) as url:
        model = _get(f"{url}/api/2.0/mlflow/registered-models/get?name=fraud_detection")["registered_model"]
        found = _get(f"{url}/api/2.0/mlflow/model-versions/search?filter=" + quote("name='fraud_detection'"))
    aliases = {alias["alias"]: int(alias["version"]) for alias in model["aliases"]}
    assert aliases == {"champion": result.champion_version}  # the promoted challenger's alias moved on
    retrained = [e for e in result.events if e.stage == "retrained"]
    versions = {
        int(v["version"]): {t["key"]: t["value"] for t in v.get("tags", [])} for v in found["model_versions"]
    }
    assert sorted(versions) == list(range(1, 2 + len(retrained)))
    champion_tags = versions[result.champion_version]
    assert champion_tags["gate.verdict"] == "passed" and "against champion v" in champion_tags["gate.summary"]
