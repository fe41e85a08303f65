"""Each simulated drift scenario raises what it should, and `none` rarely raises anything."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lifecycle.retraining import carry_out
from monitoring.config import DriftRules, MonitoringConfig, PerformanceRules, PolicyRules
from monitoring.drift import WindowDrift, judge_window
from monitoring.job import build_report
from monitoring.performance import measure_performance
from monitoring.policy import decide
from monitoring.report import write_report
from monitoring.windows import summarise_windows
from skewless.modes import DeploymentMode
from skewless.registry import CHALLENGER, Deployment
from tests.conftest import QUIET
from tests.pages import read_page
from tests.servers import screenshot_in_chromium
from tests.worlds import (
    DRIFT_START,
    LABELS_ALL_KNOWN,
    NONE_SERVED_TO,
    RETRAIN_AT,
    SERVED_FROM,
    SERVED_TO,
    ScenarioWorld,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

World = Callable[[str], ScenarioWorld]
DAY = timedelta(days=1)
# What the covariate scenario moves on its first day: the transaction amount (x1.6), the
# share of foreign merchants (x3), and what is computed from them at request time.
COVARIATE_DIRECT = {"txn_amount", "amount_to_mean_30d", "amount_zscore_30d", "is_foreign"}
# Customer amount histories absorb the new amounts day by day; they may move too.
COVARIATE_DERIVED = {"amount_sum_7d", "amount_mean_7d", "amount_std_7d", "amount_sum_30d", "amount_mean_30d",
                     "amount_std_30d", "merchant_amount_mean_30d"}  # fmt: skip


def daily(world: ScenarioWorld, end: datetime = SERVED_TO) -> list[WindowDrift]:
    reference = world.reference
    folder = world.settings.layout.served_log_dir
    windows = summarise_windows(folder, reference.features, reference.score, SERVED_FROM, end, DAY)
    return [judge_window(reference, w, DriftRules()) for w in windows]


def test_no_drift_raises_dataset_drift_in_at_most_five_percent_of_windows(scenario_world: World) -> None:
    judged = daily(scenario_world("none"), NONE_SERVED_TO)  # sixty days
    assert len(judged) == 60 and all(w.verdict != "insufficient" for w in judged)
    alarms = [(w.start[:10], w.drifted) for w in judged if w.verdict == "drift"]
    rate = len(alarms) / len(judged)
    print(f"false-alarm rate on 'none': {rate:.1%} of {len(judged)} daily windows; alarms {alarms}")
    assert rate <= 0.05


def test_covariate_shift_is_flagged_on_the_shifted_features_in_the_first_full_window(
    scenario_world: World,
) -> None:
    windows = daily(scenario_world("covariate"))
    before = [w for w in windows if w.start < DRIFT_START.isoformat()]
    assert before and all(w.verdict == "ok" for w in before), [(w.start, w.drifted) for w in before]
    first = next(w for w in windows if w.start == DRIFT_START.isoformat())
    flagged = set(first.drifted)
    assert COVARIATE_DIRECT <= flagged, flagged
    assert flagged <= COVARIATE_DIRECT | COVARIATE_DERIVED, flagged - COVARIATE_DIRECT - COVARIATE_DERIVED
    assert first.score is not None and first.score.ks_distance is not None and first.score.ks_distance > 0.05


def test_the_covariate_report_reads_as_a_person_needs_it(scenario_world: World, tmp_path: Path) -> None:
    """The page of a report across the shift: dated trend axes, flagged features first with their name
    and status above their plots, prediction drift in the headline, no text under 11 px."""
    world = scenario_world("covariate")
    start, end = DRIFT_START - 3 * DAY, DRIFT_START + 4 * DAY
    report, _ = build_report(
        world.settings, world.registry, MonitoringConfig(), start, end, QUIET, every=DAY, skew=False
    )
    _, page = write_report(report, tmp_path)
    markup = page.read_text()
    seen = read_page(markup)
    dates = [text for text in seen.svg_texts if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)]
    assert start.date().isoformat() in dates and (end - DAY).date().isoformat() in dates
    shown = [*report.drift.features, *([report.drift.score] if report.drift.score else [])]
    flagged = {f.name for f in shown if f.flagged}  # the score (prediction drift) among them
    assert COVARIATE_DIRECT <= flagged and set(seen.headings[: len(flagged)]) == flagged
    assert seen.sections_open_with_their_heading()
    assert seen.font_sizes and min(seen.font_sizes) >= 11
    assert "prediction (score) drift" in markup and "<th>rule</th>" in markup
    assert screenshot_in_chromium(page, tmp_path / "report.png", "1280,2400") > 0.005


def test_pipeline_break_is_flagged_as_null_and_constant_on_the_broken_features(scenario_world: World) -> None:
    windows = daily(scenario_world("pipeline_break"))
    assert all(w.verdict == "ok" for w in windows if w.start < DRIFT_START.isoformat())
    week_after = next(w for w in windows if w.start == (DRIFT_START + 3 * DAY).isoformat())
    status = {f.name: f.status for f in week_after.features}
    assert status["amount_mean_30d"] == "null"
    assert status["distinct_merchants_7d"] in ("constant", "drift")
    # Only the broken features and what the request-time transforms compute from them move.
    derived = {"amount_to_mean_30d", "amount_zscore_30d"}
    assert set(week_after.drifted) <= {"amount_mean_30d", "distinct_merchants_7d"} | derived


def test_concept_drift_shows_in_performance_once_labels_arrive_and_triggers_retraining(
    scenario_copy: World,
) -> None:
    concept = scenario_copy("concept")  # retraining changes the registry: a copy of the world
    settings, registry, reference = concept.settings, concept.registry, concept.reference
    windows = daily(concept)
    assert sum(w.verdict == "drift" for w in windows) <= 3, [(w.start, w.drifted) for w in windows]
    weekly = timedelta(days=10)
    rules, folder = PerformanceRules(), settings.layout.served_log_dir
    early = measure_performance(
        folder, settings.layout.labels, reference, SERVED_FROM, SERVED_TO, SERVED_TO, rules, weekly
    )
    assert all(p.status == "insufficient" for p in early), (
        "legitimate labels take 30 days; nothing is judged yet"
    )
    known = measure_performance(
        folder, settings.layout.labels, reference, SERVED_FROM, SERVED_TO, LABELS_ALL_KNOWN, rules, weekly
    )
    print([(p.start[:10], p.status, round(p.auc or 0, 3), p.positives) for p in known])
    assert [p.status for p in known] == ["ok", "drop", "drop"]

    config = MonitoringConfig(policy=PolicyRules(retrain_window_days=30))
    # Earlier, labels cover the first two 10-day windows but not the whole range: the
    # policy acts on the newest window whose labels allow a judgement.
    partly_known = datetime(2026, 4, 24, tzinfo=UTC)
    partial, _ = build_report(
        settings,
        registry,
        config,
        SERVED_FROM,
        SERVED_TO,
        QUIET,
        as_of=partly_known,
        every=weekly,
        skew=False,
    )
    assert partial.performance.status == "insufficient"
    early = decide(partial, reference, config.policy, partly_known)
    assert early.action == "retrain" and early.evidence["performance_window"][0].startswith("2026-03-12")
    report, _ = build_report(
        settings, registry, config, DRIFT_START, SERVED_TO, QUIET, as_of=LABELS_ALL_KNOWN, skew=False
    )
    decision = decide(report, reference, config.policy, RETRAIN_AT)
    assert decision.action == "retrain" and decision.evidence["performance_status"] == "drop"
    done = carry_out(settings, registry, decision, config.policy, RETRAIN_AT, QUIET)
    print(done.outcome)
    assert done.outcome["retrained"] and done.outcome["gate_passed"], done.outcome
    assert registry.alias_version(CHALLENGER) == done.outcome["candidate_version"]
    assert registry.deployment(Deployment(DeploymentMode.SINGLE, 0.0)).mode is DeploymentMode.SHADOW
