"""The retraining policy's decision, on reports built by hand: what it does about each kind of evidence."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import pytest

from monitoring.config import PolicyRules
from monitoring.drift import FeatureDrift, WindowDrift
from monitoring.performance import WindowPerformance
from monitoring.policy import decide, evidence_windows
from monitoring.reference import ModelReference, NumericReference
from monitoring.report import MonitoringReport
from monitoring.skew import FeatureSkew, SkewReport

CUTOFF = datetime(2026, 3, 1, tzinfo=UTC)
FRESH = CUTOFF + timedelta(days=10)  # the champion's data is 10 days old
RULES = PolicyRules()
Verdict = Literal["ok", "drift", "insufficient"]
Status = Literal["ok", "drop", "insufficient"]


def drift(verdict: Verdict, drifted: Sequence[str] = (), start: str = "2026-03-10") -> WindowDrift:
    features = [
        FeatureDrift(name, "numeric", "drift", ["KS 0.4"], 1_000, 1_000.0, 0.0, 0.0) for name in drifted
    ]
    return WindowDrift(start, start, 1_000, [1], verdict, list(drifted), features, None, 29, 0.05 / 29)


def performance(status: Status, auc: float | None = None, start: str = "2026-03-10") -> WindowPerformance:
    reasons = [f"AUC {auc} against 0.9 on the training holdout"] if status == "drop" else []
    return WindowPerformance(
        start, start, 1_000, 900, 0.9, 20, 30, auc, 0.02, None, None, None, None, 0.9, status, reasons
    )


def report(
    window_drift: WindowDrift,
    window_performance: WindowPerformance,
    windows: Sequence[WindowDrift] = (),
    performance_windows: Sequence[WindowPerformance] = (),
    skew: SkewReport | None = None,
) -> MonitoringReport:
    return MonitoringReport(
        model_name="fraud_detection",
        model_version=1,
        generated_at="2026-03-11T00:00:00+00:00",
        start="2026-03-01T00:00:00+00:00",
        end="2026-03-11T00:00:00+00:00",
        as_of="2026-03-11T00:00:00+00:00",
        drift=window_drift,
        windows=list(windows) or [window_drift],
        performance=window_performance,
        performance_windows=list(performance_windows) or [window_performance],
        skew=skew,
        config={},
    )


@pytest.fixture(scope="module")
def reference() -> ModelReference:
    score = NumericReference(1_000, 0.0, np.array([0.0, 1.0]), np.array([0.5, 1.0]), np.array([0.5]),
                             np.array([0.5, 0.5]), 0.5, 0.2, None, 1_000.0)  # fmt: skip
    return ModelReference(
        "fraud_detection", 1, 1_000, {}, score, 0.04, 5.0, 0.9, CUTOFF, "fraud_detection_v1"
    )


def test_a_performance_drop_retrains(reference: ModelReference) -> None:
    decision = decide(report(drift("ok"), performance("drop", 0.71)), reference, RULES, FRESH)
    assert decision.action == "retrain" and "AUC 0.71" in decision.reasons[0]
    assert decision.evidence["performance_status"] == "drop" and decision.evidence["auc"] == 0.71


def test_drift_alone_is_reviewed_never_retrained(reference: ModelReference) -> None:
    for status in ("ok", "insufficient"):
        decision = decide(
            report(drift("drift", ["txn_amount"]), performance(status)), reference, RULES, FRESH
        )  # type: ignore[arg-type]
        assert decision.action == "review", status
        assert "txn_amount" in decision.reasons[0] and "do not retrain on drift alone" in decision.reasons[0]
        assert decision.evidence["drifted"] == {"txn_amount": "drift"}


def test_skew_is_a_pipeline_to_fix_not_a_model_to_retrain(reference: ModelReference) -> None:
    skew = SkewReport("skew", 100, 0, 3, [FeatureSkew("txn_count_24h", 3)])
    decision = decide(report(drift("ok"), performance("ok", 0.9), skew=skew), reference, RULES, FRESH)
    assert decision.action == "review" and "fix the pipeline" in decision.reasons[0]
    assert decision.evidence["skew"] == "skew"


def test_a_stale_champion_is_retrained_on_schedule_and_a_drop_comes_first(reference: ModelReference) -> None:
    stale = CUTOFF + timedelta(days=RULES.max_model_age_days + 5)
    scheduled = decide(report(drift("ok"), performance("ok", 0.9)), reference, RULES, stale)
    assert scheduled.action == "retrain_scheduled" and "35 days old" in scheduled.reasons[0]
    dropped = decide(report(drift("ok"), performance("drop", 0.6)), reference, RULES, stale)
    assert dropped.action == "retrain" and dropped.evidence["model_data_age_days"] == pytest.approx(35.0)


def test_nothing_to_see_is_recorded_with_why(reference: ModelReference) -> None:
    decision = decide(report(drift("ok"), performance("insufficient")), reference, RULES, FRESH)
    assert decision.action == "none" and decision.reasons == ["no drift (ok), performance insufficient"]
    assert decision.model_version == 1 and decision.decided_at == FRESH.isoformat()


def test_the_evidence_is_the_newest_window_that_can_be_judged(reference: ModelReference) -> None:
    """Labels arrive late: when the whole range cannot be judged yet, an older week often can."""
    weeks = [
        drift("ok", start="2026-03-01"),
        drift("drift", ["is_foreign"], "2026-03-08"),
        drift("insufficient", start="2026-03-15"),
    ]
    judged = [performance("drop", 0.6, "2026-03-01"), performance("insufficient", start="2026-03-08")]
    whole = report(drift("ok"), performance("insufficient"), weeks, judged)
    window_drift, window_performance = evidence_windows(whole)
    assert window_drift.start == "2026-03-08" and window_performance.start == "2026-03-01"
    decision = decide(whole, reference, RULES, FRESH)
    assert decision.action == "retrain" and decision.evidence["performance_window"][0] == "2026-03-01"
    assert decision.evidence["drift_window"][0] == "2026-03-08"
