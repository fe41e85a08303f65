"""The canary's rollback rule and sticky assignment, on our own logic alone."""

from __future__ import annotations

import numpy as np
import pytest

from serving.canary import CanaryLimits, LiveComparison
from serving.lineup import canary_point

LIMITS = CanaryLimits(min_requests=200, window=1_000)


def fill(comparison: LiveComparison, champion: np.ndarray, challenger: np.ndarray, slow: float = 1.0) -> None:
    for score in champion:
        comparison.record("champion", 0.5, [float(score)])
    for score in challenger:
        comparison.record("challenger", 0.5 * slow, [float(score)])


def fraud_like_scores(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.beta(0.3, 12.0, size=n)


def pair(comparison: LiveComparison, champion: np.ndarray, challenger: np.ndarray) -> None:
    """Both models' scores of the same requests (the challenger scores champion requests off-path)."""
    comparison.record_pairs(champion.tolist(), challenger.tolist())


def test_not_judged_until_both_models_have_enough_answers() -> None:
    comparison = LiveComparison(LIMITS)
    rng = np.random.default_rng(0)
    fill(comparison, fraud_like_scores(rng, 500), np.full(199, 0.5))
    verdict = comparison.verdict()
    assert not verdict.judged and not verdict.departed and verdict.challenger.answers == 199


def test_a_healthy_challenger_on_the_same_population_is_kept() -> None:
    comparison = LiveComparison(LIMITS)
    rng = np.random.default_rng(1)
    champion = fraud_like_scores(rng, 1_000)
    challenger = champion * rng.lognormal(0.05, 0.2, 1_000)  # the same ranking, give or take
    fill(comparison, champion, challenger)
    pair(comparison, champion, challenger)
    verdict = comparison.verdict()
    assert verdict.judged and not verdict.departed, verdict.reasons
    assert verdict.rank_correlation is not None and verdict.rank_correlation > 0.8


def test_a_recalibrated_challenger_is_kept_although_its_score_distribution_moved() -> None:
    comparison = LiveComparison(LIMITS)
    rng = np.random.default_rng(5)
    champion = fraud_like_scores(rng, 1_000)
    # Retrained after concept drift: half the ranking reshuffled, and scores much lower overall.
    challenger = np.where(rng.random(1_000) < 0.5, rng.permutation(champion), champion) ** 3
    fill(comparison, champion, challenger)
    pair(comparison, champion, challenger)
    verdict = comparison.verdict()
    assert verdict.score_ks is not None and verdict.score_ks > 0.5  # the old rule would have rolled it back
    assert verdict.rank_correlation is not None and verdict.rank_correlation > 0.3
    assert not verdict.departed, verdict.reasons


def test_a_random_or_constant_challenger_departs_on_its_ranking() -> None:
    rng = np.random.default_rng(2)
    for challenger in (fraud_like_scores(rng, 1_000), np.full(1_000, 0.015)):  # shuffled labels, stuck
        comparison = LiveComparison(LIMITS)
        champion = fraud_like_scores(rng, 1_000)
        fill(comparison, champion, challenger)
        pair(comparison, champion, challenger)
        verdict = comparison.verdict()
        assert verdict.departed and len(verdict.reasons) == 1, verdict.reasons
        assert verdict.reasons[0].startswith("ranks transactions unlike the champion")
        assert verdict.rank_correlation is not None and abs(verdict.rank_correlation) < 0.1


def test_errors_and_latency_each_make_the_challenger_depart() -> None:
    rng = np.random.default_rng(3)
    failing = LiveComparison(LIMITS)
    fill(failing, fraud_like_scores(rng, 500), fraud_like_scores(rng, 300))
    failing.record_errors("challenger", 20)
    verdict = failing.verdict()
    assert verdict.departed and verdict.challenger.errors == 20
    assert any("error rate" in reason for reason in verdict.reasons)
    slow = LiveComparison(LIMITS)
    fill(slow, fraud_like_scores(rng, 500), fraud_like_scores(rng, 300), slow=20.0)
    verdict = slow.verdict()
    assert [reason for reason in verdict.reasons if "latency" in reason] == verdict.reasons != []


def test_reset_forgets_both_windows() -> None:
    comparison = LiveComparison(LIMITS)
    rng = np.random.default_rng(4)
    champion = fraud_like_scores(rng, 300)
    fill(comparison, champion, np.full(300, 0.5))
    pair(comparison, champion, np.full(300, 0.5))
    assert comparison.verdict().departed
    comparison.reset()
    verdict = comparison.verdict()
    assert not verdict.judged and verdict.champion.answers == verdict.challenger.answers == 0
    assert verdict.pairs == 0 and verdict.rank_correlation is None


def test_canary_points_are_uniform_and_sticky() -> None:
    points = np.array([canary_point(customer) for customer in range(1, 20_001)])
    assert ((points >= 0) & (points < 1)).all()
    for share in (0.05, 0.3, 0.7):
        assert abs((points < share).mean() - share) < 0.015
    # The same customer gets the same point in every call (and every process: no salted hash).
    assert canary_point(1_234) == canary_point(1_234)
    # Raising the share keeps everyone already on the challenger there.
    assert set(np.flatnonzero(points < 0.1)) <= set(np.flatnonzero(points < 0.2))


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_share_bounds_send_nobody_or_everybody(share: float) -> None:
    points = np.array([canary_point(customer) for customer in range(1, 2_001)])
    assert (points < share).mean() == share
