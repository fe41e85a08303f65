"""The early signals on hand-made labels: precision of reviewed alerts, recall on known frauds,
AUC at a matched label age, intervals that never leave [0, 1], and the policy acting on them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitoring.config import SignalRules
from monitoring.label_signals import auc_interval, signals_from_rows, wilson_interval
from monitoring.policy import decide
from monitoring.reference import ModelReference, NumericReference
from tests.monitoring.test_policy import RULES, drift, performance, report

AS_OF = datetime(2026, 5, 15, tzinfo=UTC)
START, END = AS_OF - timedelta(days=14), AS_OF
SIGNAL_RULES = SignalRules(max_drop=0.10, z=2.33, min_reviewed_alerts=30, min_known_frauds=20)
NAN = np.nan


@pytest.fixture(scope="module")
def reference() -> ModelReference:
    score = NumericReference(1_000, 0.0, np.array([0.0, 1.0]), np.array([0.5, 1.0]), np.array([0.5]),
                             np.array([0.5, 0.5]), 0.5, 0.2, None, 1_000.0)  # fmt: skip
    return ModelReference(
        "fraud_detection", 1, 1_000, {}, score, 0.5, 5.0, 0.9, START - timedelta(days=3),
        "fraud_detection_v1", holdout_precision=0.60, holdout_recall=0.70, holdout_auc_at_age=0.90,
    )  # fmt: skip


def rows(*columns: list[float]) -> np.ndarray:
    """age days, score, flagged, investigation verdict, chargeback delay days."""
    return np.column_stack([np.asarray(c, dtype=np.float64) for c in columns])


def alerts(frauds: int, legit: int, unreviewed: int = 0) -> np.ndarray:
    n = frauds + legit + unreviewed
    verdict = [1.0] * frauds + [0.0] * legit + [NAN] * unreviewed
    return rows([3.0] * n, [0.9] * n, [1.0] * n, verdict, [NAN] * n)


def test_intervals_stay_inside_zero_and_one_at_the_edges() -> None:
    for successes, trials in ((0, 40), (40, 40), (1, 1), (0, 1), (3, 7)):
        low, high = wilson_interval(successes, trials)
        assert 0.0 <= low <= successes / trials <= high <= 1.0
    assert wilson_interval(0, 40)[1] < 0.1  # 0 of 40 is still informative
    for auc, error in ((0.999, 0.3), (0.02, 0.4), (0.5, 2.0), (1.0, 0.1), (0.0, 0.1)):
        low, high = auc_interval(auc, error)
        assert 0.0 <= low <= min(auc, 1.0) <= high <= 1.0
    low, high = auc_interval(0.85, 0.03)
    assert low < 0.85 < high and high - low == pytest.approx(2 * 1.96 * 0.03, rel=0.1)


def test_precision_counts_reviewed_alerts_only_and_a_significant_fall_is_a_drop(
    reference: ModelReference,
) -> None:
    signals = signals_from_rows(
        alerts(8, 32, unreviewed=100), 1_000, START, END, AS_OF, reference, SIGNAL_RULES
    )
    precision = signals.precision
    assert precision.count == 40 and precision.value == pytest.approx(0.2)  # the 100 unreviewed do not count
    assert precision.status == "drop" and precision.high < 0.6
    assert "alert precision 0.200" in precision.reason and "40 reviewed alerts" in precision.reason
    # a small fall is not a drop, and a small sample is not judged
    close = replace(reference, holdout_precision=0.25)
    assert (
        signals_from_rows(alerts(8, 32), 40, START, END, AS_OF, close, SIGNAL_RULES).precision.status == "ok"
    )
    few = signals_from_rows(alerts(1, 9), 10, START, END, AS_OF, reference, SIGNAL_RULES).precision
    assert few.status == "insufficient" and few.value == pytest.approx(0.1)


def test_recall_is_the_share_of_chargeback_frauds_the_model_had_flagged(reference: ModelReference) -> None:
    # 30 frauds reported by chargeback, 6 of them flagged; 50 rows with no chargeback do not count
    flagged = [1.0] * 6 + [0.0] * 24 + [1.0] * 10 + [0.0] * 40
    delay = [4.0] * 30 + [NAN] * 50
    table = rows([10.0] * 80, np.linspace(0, 1, 80), flagged, [NAN] * 80, delay)
    recall = signals_from_rows(table, 80, START, END, AS_OF, reference, SIGNAL_RULES).recall
    assert recall.count == 30 and recall.value == pytest.approx(0.2) and recall.status == "drop"


def test_auc_at_matched_age_uses_only_old_enough_rows_and_chargebacks_within_the_age(
    reference: ModelReference,
) -> None:
    rng = np.random.default_rng(0)
    n = 4_000
    age = np.where(np.arange(n) < 3_000, 10.0, 2.0)  # the last 1,000 are too young to count
    fraud = rng.random(n) < 0.05
    score = np.where(fraud, rng.normal(1.0, 1.0, n), rng.normal(0.0, 1.0, n))
    delay = np.where(fraud, rng.uniform(1, 20, n), NAN)  # about a third reported within 7 days
    table = rows(age, score, np.zeros(n), np.full(n, NAN), delay)
    auc = signals_from_rows(table, n, START, END, AS_OF, reference, SIGNAL_RULES).auc_at_age
    counted = (fraud & (age >= 7) & (delay <= 7)).sum()
    assert auc.count == counted and 20 <= counted < (fraud & (age >= 7)).sum()
    assert 0.6 < auc.value < 0.85 and auc.low < auc.value < auc.high  # separation of d' = 1: AUC 0.76
    assert auc.status == "drop"  # against 0.90 on the holdout, with ~50 frauds: significant


def test_a_signal_drop_retrains_and_ok_signals_do_not(reference: ModelReference) -> None:
    dropped = signals_from_rows(alerts(5, 45), 1_000, START, END, AS_OF, reference, SIGNAL_RULES)
    held = signals_from_rows(alerts(27, 18), 1_000, START, END, AS_OF, reference, SIGNAL_RULES)
    fresh = reference.cutoff + timedelta(days=10)
    acted = decide(replace(report(drift("ok"), performance("insufficient")), signal_windows=[held, dropped]),
                   reference, RULES, fresh)  # fmt: skip
    assert acted.action == "retrain" and "alert precision 0.100" in acted.reasons[0]
    assert acted.evidence["signals"]["alert_precision"]["status"] == "drop"
    calm = decide(replace(report(drift("ok"), performance("insufficient")), signal_windows=[dropped, held]),
                  reference, RULES, fresh)  # fmt: skip
    assert calm.action == "none" and "alert_precision 0.600" in calm.reasons[0]


def test_a_champion_trained_on_early_labels_is_refreshed_weekly_unless_drift_is_open(
    reference: ModelReference,
) -> None:
    early = replace(reference, labels="known")
    week_later = reference.cutoff + timedelta(days=RULES.known_label_refresh_days)
    refreshed = decide(report(drift("ok"), performance("insufficient")), early, RULES, week_later)
    assert refreshed.action == "retrain_scheduled" and "labels have arrived since" in refreshed.reasons[0]
    assert (
        decide(report(drift("ok"), performance("insufficient")), reference, RULES, week_later).action
        == "none"
    )
    waiting = decide(report(drift("drift", ["txn_amount"]), performance("ok")), early, RULES, week_later)
    assert waiting.action == "review" and "waits while drift is open for review" in waiting.reasons[0]


def test_the_holdouts_own_noise_keeps_an_unchanged_model_from_alarming(reference: ModelReference) -> None:
    """Recall 34 of 58 (0.586) against a holdout's 0.75: past 2.33 standard errors of the live
    figure alone, within them once the holdout's own error (0.04, about 120 frauds) is counted."""
    flagged = [1.0] * 34 + [0.0] * 24
    table = rows([10.0] * 58, np.linspace(0, 1, 58), flagged, [NAN] * 58, [5.0] * 58)
    as_if_exact = replace(reference, holdout_recall=0.75, holdout_recall_se=None)
    sampled = replace(reference, holdout_recall=0.75, holdout_recall_se=0.04)
    assert signals_from_rows(table, 58, START, END, AS_OF, as_if_exact, SIGNAL_RULES).recall.status == "drop"
    assert signals_from_rows(table, 58, START, END, AS_OF, sampled, SIGNAL_RULES).recall.status == "ok"
