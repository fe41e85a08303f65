"""The whole loop, short: days replayed through the API, weekly checks carried out, the
summary written, and a rerun in the same workspace that starts clean."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from skewless.loop import LoopConfig, run_loop
from tests.conftest import QUIET
from tests.factories import make_workspace

SHORT = LoopConfig(
    scenario="covariate", end=date(2026, 4, 1), replay_days=14, per_day=40, window_days=7, drift_after_days=7
)


def test_a_short_covariate_loop_reviews_the_drift_and_a_rerun_starts_clean(tmp_path: Path) -> None:
    settings = make_workspace(tmp_path / "ws")
    result = run_loop(settings, SHORT, QUIET)

    assert [c["day"] for c in result.checks] == ["2026-03-24", "2026-03-31"]
    first, second = result.checks
    assert (
        first["decision"] == "none" and first["drift_verdict"] == "ok"
    )  # days 0-6, before the change on day 7
    # The second week is all after the change: drift on the shifted amount, no labels yet: review.
    assert second["drift_verdict"] == "drift" and "txn_amount" in second["drifted"]
    assert second["decision"] == "review" and second["skew"] == "ok"
    assert [(w["served"], w["versions"]) for w in result.weeks] == [(280, [1]), (280, [1])]
    assert all(w["oracle_auc"] is not None for w in result.weeks)
    page = result.summary_html.read_text()
    assert "scenario covariate" in page and page.count("<tr>") >= 2 + 1 + len(result.events)
    assert json.loads(result.summary_json.read_text())["champion_version"] == result.champion_version == 1
    decisions = settings.layout.policy_decisions.read_text().splitlines()
    assert [json.loads(line)["action"] for line in decisions] == ["none", "review"]

    again = run_loop(settings, SHORT, QUIET)
    assert {"served", "monitoring", "alias champion"} <= set(again.previous)
    assert (settings.layout.root / "previous-run" / "served").is_dir()
    # MLflow keeps the first run's version; this run's champion is a new one, its log not doubled.
    assert again.champion_version == 2
    assert [(w["served"], w["versions"]) for w in again.weeks] == [(280, [2]), (280, [2])]
    assert len(settings.layout.policy_decisions.read_text().splitlines()) == 2
    assert [c["decision"] for c in again.checks] == ["none", "review"]
