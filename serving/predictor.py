"""The request path: route each transaction over the lineup in force, score, log, respond.

A call reads the lineup once, so a reload never mixes two lineups in one request.
Each transaction goes to the champion, or to the challenger for canary customers;
every answer is logged; in shadow mode the challenger scores the same transactions
off the request path, and in canary mode it scores the champion's transactions there
too, so that the live comparison has both models' scores of the same requests.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

from serving.canary import Arm, LiveComparison
from serving.feature_log import ServedFeatureLog
from serving.lineup import Active, Lineup
from serving.metrics import ServingMetrics
from serving.schemas import PredictRequest, PredictResponse
from serving.scorer import Scored
from serving.served_records import log_record
from serving.shadow import ShadowRunner
from skewless.errors import BatchTooLargeError, OnlineStoreError, OnlineStoreTimeoutError
from skewless.modes import DeploymentMode
from skewless.served_log import Role

__all__ = ["Predictor"]


@dataclass(frozen=True)
class _Answer:
    active: Active
    result: Scored
    role: Role


class Predictor:
    """Scores requests with the models of the lineup ``current()`` returns.

    Args:
        current: the lineup in force (read once per call).
        max_batch_size: the largest batch accepted.
        metrics, log, comparison, shadow: where answers are counted, logged, compared and shadowed.
    """

    def __init__(
        self,
        current: Callable[[], Lineup],
        max_batch_size: int,
        metrics: ServingMetrics,
        log: ServedFeatureLog,
        comparison: LiveComparison,
        shadow: ShadowRunner,
    ) -> None:
        self.current = current
        self.max_batch_size = max_batch_size
        self.metrics = metrics
        self.log = log
        self.comparison = comparison
        self.shadow = shadow

    def predict(self, requests: Sequence[PredictRequest]) -> list[PredictResponse]:
        """Score requests with the model each is routed to, log every answer, and respond.

        Raises:
            BatchTooLargeError: more requests than ``max_batch_size``.
            OnlineStoreError: the store is down and degraded scoring is off.
        """
        if len(requests) > self.max_batch_size:
            raise BatchTooLargeError(
                f"batch of {len(requests)} transactions exceeds the limit of {self.max_batch_size}"
            )
        now = datetime.now(UTC)
        rows = [
            {**request.model_dump(), "transaction_time": request.transaction_time or now}
            for request in requests
        ]
        ids = _request_ids(len(rows))
        lineup = self.current()
        answers = self._answer(lineup, rows)
        responses = [
            self._respond(row, request_id, answer, now)
            for row, request_id, answer in zip(rows, ids, answers, strict=True)
        ]
        self.metrics.count_answers([a.role for a in answers], [a.result for a in answers])
        if lineup.mode is DeploymentMode.SHADOW and lineup.challenger is not None:
            self.shadow.submit(partial(self._off_path, lineup.challenger, rows, ids, now, None))
        elif lineup.mode is DeploymentMode.CANARY and lineup.challenger is not None:
            mine = [i for i, answer in enumerate(answers) if answer.role == "champion"]
            if mine:
                paired = [answers[i].result.score for i in mine]
                subset, subset_ids = [rows[i] for i in mine], [ids[i] for i in mine]
                self.shadow.submit(
                    partial(self._off_path, lineup.challenger, subset, subset_ids, now, paired)
                )
        return responses

    def _answer(self, lineup: Lineup, rows: list[dict[str, Any]]) -> list[_Answer]:
        compare = lineup.mode is not DeploymentMode.SINGLE
        arms = [lineup.arm_of(int(row["customer_id"])) for row in rows]
        if lineup.challenger is None or "challenger" not in arms:
            scored = self._score(lineup.champion, "champion", rows, compare)
            return [_Answer(lineup.champion, result, "champion") for result in scored]
        answers: list[_Answer | None] = [None] * len(rows)
        plan: list[tuple[Arm, Role, Active]] = [
            ("champion", "champion", lineup.champion),
            ("challenger", "canary", lineup.challenger),
        ]
        for arm, role, active in plan:
            positions = [i for i, a in enumerate(arms) if a == arm]
            if not positions:
                continue
            subset = [rows[i] for i in positions]
            try:
                scored = self._score(active, arm, subset, compare)
            except OnlineStoreError:
                raise
            except Exception:  # a failing challenger must not fail the caller: the champion answers
                if arm == "champion":
                    raise
                self.metrics.challenger_errors.inc()
                self.comparison.record_errors("challenger", len(subset))
                active, role = lineup.champion, "champion"
                scored = self._score(active, "champion", subset, compare)
            for i, result in zip(positions, scored, strict=True):
                answers[i] = _Answer(active, result, role)
        return [answer for answer in answers if answer is not None]

    def _score(self, active: Active, arm: Arm, rows: list[dict[str, Any]], compare: bool) -> list[Scored]:
        started = time.perf_counter()
        try:
            scored = active.scorer.score(rows)
        except OnlineStoreError as e:
            self.metrics.online_store_errors.inc()
            if isinstance(e, OnlineStoreTimeoutError):
                self.metrics.online_store_timeouts.inc()
            raise
        if compare:
            # What each of these requests waited for its model: the call's time, not a per-row share
            # of it (gathering puts many champion rows in one call and few canary rows in another,
            # so per-row shares would make the canary look slower than it is).
            call_ms = (time.perf_counter() - started) * 1e3
            self.comparison.record(arm, call_ms, [result.score for result in scored])
        return scored

    def _respond(
        self, row: dict[str, Any], request_id: str, answer: _Answer, now: datetime
    ) -> PredictResponse:
        model, result = answer.active.model, answer.result
        decision: Literal["review", "approve"] = "review" if result.decision else "approve"
        self.metrics.score.labels(str(model.version), answer.role).observe(result.score)
        self.log.append(log_record(row, result, model, request_id, now, answer.role))
        return PredictResponse(
            request_id=request_id,
            fraud_probability=result.score,
            decision=decision,
            threshold=model.threshold,
            model_name=model.name,
            model_version=model.version,
            missing_features=result.missing,
            stale_features=result.stale,
            degraded=result.degraded,
        )

    def _off_path(
        self,
        challenger: Active,
        rows: list[dict[str, Any]],
        ids: list[str],
        now: datetime,
        champion_scores: list[float] | None,
    ) -> None:
        """The challenger scores ``rows`` off the request path, logged as ``shadow``.

        In shadow mode (``champion_scores`` None) its latency and scores join the live
        comparison; in canary mode its scores are paired with the champion's answers.
        A failure is counted, never raised: nobody waits on it.
        """
        try:
            scored = self._score(challenger, "challenger", rows, compare=champion_scores is None)
        except Exception:
            self.metrics.challenger_errors.inc()
            self.comparison.record_errors("challenger", len(rows))
            return
        if champion_scores is not None:
            self.comparison.record_pairs(champion_scores, [result.score for result in scored])
        model = challenger.model
        self.metrics.routed.labels("shadow").inc(len(scored))
        for row, request_id, result in zip(rows, ids, scored, strict=True):
            self.metrics.score.labels(str(model.version), "shadow").observe(result.score)
            self.log.append(log_record(row, result, model, request_id, now, "shadow"))


def _request_ids(count: int) -> list[str]:
    """Random (version 4) UUIDs, drawn from the OS in one call rather than one per id."""
    entropy = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=entropy[16 * i : 16 * i + 16], version=4)) for i in range(count)]
