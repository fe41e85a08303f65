"""Live comparison of the challenger with the champion, and the canary's rollback rule.

Each model keeps its most recent answers (``canary_window`` of them): whether
scoring failed, the scoring latency of its call and the score. The canary is judged
only once both models have ``canary_min_requests`` answers in their windows; until
then the verdict says so and nothing is rolled back. It has departed, and is rolled
back, when any of these holds:

- error rate: the challenger's exceeds the champion's by more than
  ``canary_max_error_rate_increase``;
- latency: the challenger's p99 exceeds ``canary_max_latency_ratio`` × the
  champion's p99 + ``canary_latency_slack_ms`` (the slack keeps sub-millisecond
  noise from firing);
- ranking: on the same requests, the Spearman correlation between the two models'
  scores is below ``canary_min_rank_correlation``. In canary mode the challenger
  also scores the champion's requests off the request path (as in shadow), so every
  such request gives a pair. A random, inverted or mis-encoded challenger ranks
  transactions unlike the champion (a model trained on shuffled labels: -0.02); a
  retrained one shares most of its ranking even when its scores are recalibrated
  (0.34 under concept drift, where the champion itself had failed).

The distributions are compared too (two-sample KS distance of the two arms' scores),
but only reported: a retrained model facing concept drift is meant to score
differently, and a recalibration alone moves the KS distance (0.80 for the retrained
model above, 0.85 for the shuffled one), so it cannot tell a better model from a
broken one. A constant challenger has no ranking and counts as correlation 0.

In shadow mode the same figures are gathered (the challenger's latency is then its
off-path scoring time) and reported, but nothing acts on them.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import ks_2samp, spearmanr

from skewless.settings import Settings

__all__ = ["Arm", "ArmFigures", "CanaryLimits", "CanaryVerdict", "LiveComparison"]

Arm = Literal["champion", "challenger"]


@dataclass(frozen=True)
class CanaryLimits:
    """When a canary has departed from the champion (see the module docstring)."""

    min_requests: int = 200
    window: int = 2_000
    max_error_rate_increase: float = 0.02
    max_latency_ratio: float = 2.0
    latency_slack_ms: float = 2.0
    min_rank_correlation: float = 0.15

    @classmethod
    def from_settings(cls, settings: Settings) -> CanaryLimits:
        return cls(
            min_requests=settings.canary_min_requests,
            window=settings.canary_window,
            max_error_rate_increase=settings.canary_max_error_rate_increase,
            max_latency_ratio=settings.canary_max_latency_ratio,
            latency_slack_ms=settings.canary_latency_slack_ms,
            min_rank_correlation=settings.canary_min_rank_correlation,
        )


@dataclass(frozen=True)
class ArmFigures:
    """One model's recent answers."""

    answers: int
    errors: int
    error_rate: float
    p99_ms: float | None
    mean_score: float | None


@dataclass(frozen=True)
class CanaryVerdict:
    """Whether the challenger departed from the champion, with the evidence."""

    judged: bool
    departed: bool
    reasons: list[str]
    champion: ArmFigures
    challenger: ArmFigures
    score_ks: float | None
    rank_correlation: float | None = None  # Spearman on paired scores of the same requests
    pairs: int = 0

    def figures(self) -> dict[str, Any]:
        return {
            "champion": self.champion.__dict__,
            "challenger": self.challenger.__dict__,
            "score_ks": self.score_ks,
            "rank_correlation": self.rank_correlation,
            "pairs": self.pairs,
        }


class _Window:
    def __init__(self, size: int) -> None:
        self.failed: deque[bool] = deque(maxlen=size)
        self.latency_ms: deque[float] = deque(maxlen=size)
        self.scores: deque[float] = deque(maxlen=size)

    def figures(self) -> ArmFigures:
        answers = len(self.failed)
        errors = sum(self.failed)
        latencies = np.fromiter(self.latency_ms, dtype=np.float64)
        scores = np.fromiter(self.scores, dtype=np.float64)
        return ArmFigures(
            answers=answers,
            errors=errors,
            error_rate=errors / answers if answers else 0.0,
            p99_ms=float(np.percentile(latencies, 99)) if len(latencies) else None,
            mean_score=float(scores.mean()) if len(scores) else None,
        )


class LiveComparison:
    """Thread-safe windows of both models' answers, and the canary verdict over them."""

    def __init__(self, limits: CanaryLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._windows = {arm: _Window(limits.window) for arm in ("champion", "challenger")}
        self._pairs: deque[tuple[float, float]] = deque(maxlen=limits.window)

    def record(self, arm: Arm, latency_ms: float, scores: Sequence[float]) -> None:
        """``scores`` of one scoring call that took ``latency_ms`` (each of its requests waited that long)."""
        with self._lock:
            window = self._windows[arm]
            for score in scores:
                window.failed.append(False)
                window.latency_ms.append(latency_ms)
                window.scores.append(score)

    def record_pairs(self, champion: Sequence[float], challenger: Sequence[float]) -> None:
        """Both models' scores of the same requests, in the same order."""
        with self._lock:
            self._pairs.extend(zip(champion, challenger, strict=True))

    def record_errors(self, arm: Arm, rows: int) -> None:
        """``rows`` answers that failed to score."""
        with self._lock:
            self._windows[arm].failed.extend([True] * rows)

    def reset(self) -> None:
        """Forget everything (a new challenger or a new mode)."""
        with self._lock:
            self._windows = {arm: _Window(self.limits.window) for arm in ("champion", "challenger")}
            self._pairs = deque(maxlen=self.limits.window)

    def verdict(self) -> CanaryVerdict:
        """Judge the challenger against the champion over the current windows."""
        with self._lock:
            champion, challenger = self._windows["champion"], self._windows["challenger"]
            ours, theirs = challenger.figures(), champion.figures()
            our_scores = np.fromiter(challenger.scores, dtype=np.float64)
            their_scores = np.fromiter(champion.scores, dtype=np.float64)
            pairs = np.array(self._pairs, dtype=np.float64).reshape(-1, 2)
        limits = self.limits
        correlation = _rank_correlation(pairs) if len(pairs) >= limits.min_requests else None
        score_ks = (
            float(ks_2samp(our_scores, their_scores).statistic)
            if len(our_scores) and len(their_scores)
            else None
        )
        judged = min(ours.answers, theirs.answers) >= limits.min_requests
        reasons: list[str] = []
        if judged:
            if ours.error_rate > theirs.error_rate + limits.max_error_rate_increase:
                reasons.append(
                    f"error rate {ours.error_rate:.1%} against the champion's {theirs.error_rate:.1%} "
                    f"(limit +{limits.max_error_rate_increase:.1%})"
                )
            if ours.p99_ms is not None and theirs.p99_ms is not None:
                ceiling = limits.max_latency_ratio * theirs.p99_ms + limits.latency_slack_ms
                if ours.p99_ms > ceiling:
                    reasons.append(
                        f"p99 scoring latency {ours.p99_ms:.2f} ms against the champion's "
                        f"{theirs.p99_ms:.2f} ms (limit {ceiling:.2f} ms)"
                    )
            if correlation is not None and correlation < limits.min_rank_correlation:
                reasons.append(
                    f"ranks transactions unlike the champion: Spearman {correlation:.2f} on {len(pairs)} "
                    f"shared requests (limit {limits.min_rank_correlation})"
                )
        return CanaryVerdict(
            judged=judged,
            departed=bool(reasons),
            reasons=reasons,
            champion=theirs,
            challenger=ours,
            score_ks=score_ks,
            rank_correlation=correlation,
            pairs=len(pairs),
        )


def _rank_correlation(pairs: np.ndarray) -> float:
    """Spearman's rho of the pairs; 0 when either side is constant (it ranks nothing)."""
    if np.ptp(pairs[:, 0]) == 0 or np.ptp(pairs[:, 1]) == 0:
        return 0.0
    return float(spearmanr(pairs[:, 0], pairs[:, 1]).statistic)
