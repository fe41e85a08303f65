"""Everything one API process holds, and what it does per request and in the background.

Per request: read the lineup once, route each transaction (champion, or the
challenger for canary customers), score, log every answer, and in shadow mode hand
the same transactions to the challenger off the request path.

In the background: poll the registry and hot-reload when an alias or the
deployment moves (``reload_interval_s``), and in canary mode judge the challenger
against the champion every ``canary_check_interval_s``, rolling it back when it
departs past the limits (see :mod:`serving.canary`).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

from feast import FeatureStore
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from feature_repo.operations import open_feature_store, read_online_features
from serving.canary import Arm, CanaryLimits, CanaryVerdict, LiveComparison
from serving.deployment_events import DeploymentEventLog
from serving.errors import BatchTooLargeError, DeploymentRefusedError, RegistryUnavailableError
from serving.feature_log import ServedFeatureLog
from serving.lineup import Active, Lineup, build_lineup, read_registry_view
from serving.log_records import Role, log_record, log_schema
from serving.metrics import ServingMetrics
from serving.monitoring_gauges import MonitoringGaugesCollector
from serving.schemas import HealthResponse, PredictRequest, PredictResponse
from serving.scorer import WARM_UP_ROW, Scored
from serving.shadow import ShadowRunner
from skewless.deployment import Deployment, write_canary_rollback, write_deployment
from skewless.errors import OnlineStoreError
from skewless.settings import DeploymentMode, Settings
from skewless.tracking import configure_mlflow

__all__ = ["ReloadResult", "ServingState", "build_state", "freeze_heap"]

READINESS_CACHE_S = 1.0


@dataclass(frozen=True)
class ReloadResult:
    """What a reload check found (champion versions before and after)."""

    changed: bool
    from_version: int
    to_version: int
    challenger_version: int | None
    mode: DeploymentMode


@dataclass(frozen=True)
class _Answer:
    active: Active
    result: Scored
    role: Role


class ServingState:
    """The API's collaborators, passed in (tests build one directly).

    ``client`` is the MLflow client used to poll and write the registry; without one
    the lineup is fixed (no reload, no registry writes).
    """

    def __init__(
        self,
        settings: Settings,
        store: FeatureStore,
        lineup: Lineup,
        metrics: ServingMetrics,
        client: MlflowClient | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.client = client
        self.lineup = lineup
        self.comparison = LiveComparison(CanaryLimits.from_settings(settings))
        self.events = DeploymentEventLog(settings.layout.deployment_events)
        self.log = ServedFeatureLog(
            settings.layout.served_log_dir,
            flush_rows=settings.log_flush_rows,
            flush_seconds=settings.log_flush_seconds,
            queue_size=settings.log_queue_size,
            on_drop=metrics.log_dropped.inc,
            schema=log_schema(self._models(lineup)),
            on_write_error=metrics.log_write_errors.inc,
        )
        self.shadow = ShadowRunner(settings.shadow_queue_size, on_skip=metrics.shadow_skipped.inc)
        self._lock = threading.Lock()  # one registry change at a time
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._readiness: tuple[float, bool, str | None] = (0.0, False, None)
        self._publish(None, lineup)

    # ---- per request ---------------------------------------------------------------

    def predict(self, requests: Sequence[PredictRequest]) -> list[PredictResponse]:
        """Score requests with the model each is routed to, log every answer, and respond.

        Raises:
            BatchTooLargeError: more requests than ``max_batch_size``.
            OnlineStoreError: the store is down and degraded scoring is off.
        """
        if len(requests) > self.settings.max_batch_size:
            raise BatchTooLargeError(
                f"batch of {len(requests)} transactions exceeds the limit of {self.settings.max_batch_size}"
            )
        now = datetime.now(UTC)
        rows = [
            {**request.model_dump(), "transaction_time": request.transaction_time or now}
            for request in requests
        ]
        ids = _request_ids(len(rows))
        lineup = self.lineup
        answers = self._answer(lineup, rows)
        responses = [
            self._respond(row, request_id, answer, now)
            for row, request_id, answer in zip(rows, ids, answers, strict=True)
        ]
        self._count(answers)
        if lineup.mode is DeploymentMode.SHADOW and lineup.challenger is not None:
            self.shadow.submit(partial(self._shadow, lineup.challenger, rows, ids, now))
        elif lineup.mode is DeploymentMode.CANARY and lineup.challenger is not None:
            # The champion's requests are scored by the challenger too, off the request
            # path, so the canary compares the two models' rankings on the same requests.
            mine = [i for i, answer in enumerate(answers) if answer.role == "champion"]
            if mine:
                paired = [answers[i].result.score for i in mine]
                self.shadow.submit(
                    partial(self._pair, lineup.challenger, [rows[i] for i in mine], [ids[i] for i in mine],
                            now, paired)
                )  # fmt: skip
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
        except OnlineStoreError:
            self.metrics.online_store_errors.inc()
            raise
        if compare:
            per_row_ms = (time.perf_counter() - started) * 1e3 / len(rows)
            self.comparison.record(arm, per_row_ms, [result.score for result in scored])
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

    def _count(self, answers: list[_Answer]) -> None:
        """Counters once per call, not per row (a batch of 100 is one update each)."""
        metrics = self.metrics
        for role, count in Counter(answer.role for answer in answers).items():
            metrics.routed.labels(role).inc(count)
        reviews = sum(answer.result.decision for answer in answers)
        if reviews:
            metrics.predictions.labels("review").inc(reviews)
        if len(answers) > reviews:
            metrics.predictions.labels("approve").inc(len(answers) - reviews)
        metrics.features_served.inc(sum(len(answer.result.features) for answer in answers))
        metrics.features_missing.inc(sum(len(answer.result.missing) for answer in answers))
        degraded = sum(answer.result.degraded for answer in answers)
        if degraded:
            metrics.degraded.inc(degraded)

    def _pair(
        self,
        challenger: Active,
        rows: list[dict[str, Any]],
        ids: list[str],
        now: datetime,
        champion_scores: list[float],
    ) -> None:
        """Canary: score the champion's requests with the challenger too, and keep the pairs."""
        scored = self._off_path(challenger, rows, ids, now, compare=False)
        if scored is not None:
            self.comparison.record_pairs(champion_scores, [result.score for result in scored])

    def _shadow(self, challenger: Active, rows: list[dict[str, Any]], ids: list[str], now: datetime) -> None:
        self._off_path(challenger, rows, ids, now, compare=True)

    def _off_path(
        self, challenger: Active, rows: list[dict[str, Any]], ids: list[str], now: datetime, compare: bool
    ) -> list[Scored] | None:
        """Score with the challenger off the request path, logged as ``shadow``; None if it failed."""
        try:
            scored = self._score(challenger, "challenger", rows, compare=compare)
        except Exception:  # shadow failures are counted, never raised: nobody waits on them
            self.metrics.challenger_errors.inc()
            self.comparison.record_errors("challenger", len(rows))
            return None
        model = challenger.model
        self.metrics.routed.labels("shadow").inc(len(scored))
        for row, request_id, result in zip(rows, ids, scored, strict=True):
            self.metrics.score.labels(str(model.version), "shadow").observe(result.score)
            self.log.append(log_record(row, result, model, request_id, now, "shadow"))
        return scored

    # ---- health ----------------------------------------------------------------------

    def readiness(self) -> HealthResponse:
        """Model loaded and online store reachable (probed at most once a second)."""
        checked_at, reachable, detail = self._readiness
        if time.monotonic() - checked_at > READINESS_CACHE_S:
            probe = {**WARM_UP_ROW, "transaction_time": datetime.now(UTC)}
            try:
                read_online_features(self.store, self.lineup.champion.scorer.service, [probe])
                reachable, detail = True, None
            except OnlineStoreError as e:
                reachable, detail = False, str(e)
            self._readiness = (time.monotonic(), reachable, detail)
        return HealthResponse(
            status="ok" if reachable else "unavailable",
            model_loaded=True,
            online_store="reachable" if reachable else "unreachable",
            detail=detail,
        )

    # ---- registry: reload, deployment, rollback --------------------------------------

    def _registry(self) -> MlflowClient:
        if self.client is None:
            self.client = configure_mlflow(self.settings)
        return self.client

    def reload(self) -> ReloadResult:
        """Rebuild the lineup if the registry moved (an alias, the deployment, a rollback tag).

        Raises:
            ModelUnavailableError: the champion alias is gone (the current lineup stays).
            RegistryUnavailableError: the registry cannot be read.
        """
        with self._lock:
            current = self.lineup
            client = self._registry()
            try:
                view = read_registry_view(client, self.settings)
                lineup = (
                    current
                    if current.matches(view)
                    else build_lineup(client, self.store, self.settings, view, current)
                )
            except MlflowException as e:
                raise RegistryUnavailableError(f"model registry unavailable: {e}") from e
            if lineup is not current:
                self._swap(current, lineup, "registry changed")
            challenger = lineup.challenger.model.version if lineup.challenger else None
            return ReloadResult(
                lineup is not current,
                current.champion.model.version,
                lineup.champion.model.version,
                challenger,
                lineup.mode,
            )

    def set_deployment(self, mode: DeploymentMode, canary_share: float) -> Lineup:
        """Record a deployment in the registry (every worker follows) and apply it here now.

        Raises:
            DeploymentRefusedError: shadow or canary without a usable challenger.
            RegistryUnavailableError: the registry cannot be written.
        """
        with self._lock:
            client = self._registry()
            current = self.lineup
            try:
                view = read_registry_view(client, self.settings)
                if mode is not DeploymentMode.SINGLE and view.challenger_version is None:
                    raise DeploymentRefusedError(f"{mode.value} needs a challenger, and none is registered")
                if mode is DeploymentMode.CANARY and view.challenger_rolled_back is not None:
                    raise DeploymentRefusedError(
                        f"challenger v{view.challenger_version} was rolled back from canary "
                        f"({view.challenger_rolled_back}); register a new challenger first"
                    )
                requested = Deployment(mode, canary_share, "set by an admin")
                write_deployment(client, self.settings.model_name, requested)
                view = replace(view, requested=requested)
                lineup = build_lineup(client, self.store, self.settings, view, current)
            except MlflowException as e:
                raise RegistryUnavailableError(f"model registry unavailable: {e}") from e
            self._swap(current, lineup, "set by an admin")
            return lineup

    def check_canary(self) -> CanaryVerdict:
        """Judge the challenger now; roll the canary back if it departed."""
        lineup = self.lineup
        verdict = self.comparison.verdict()
        if verdict.score_ks is not None:
            self.metrics.canary_score_ks.set(verdict.score_ks)
        if lineup.mode is DeploymentMode.CANARY and verdict.departed:
            self._roll_back_canary(lineup, verdict)
        return verdict

    def _roll_back_canary(self, lineup: Lineup, verdict: CanaryVerdict) -> None:
        with self._lock:
            if self.lineup is not lineup or lineup.challenger is None:
                return  # the lineup changed meanwhile; the new one is judged afresh
            version = lineup.challenger.model.version
            reason = f"automatic canary rollback of v{version}: {'; '.join(verdict.reasons)}"
            requested = Deployment(DeploymentMode.SINGLE, lineup.requested.canary_share, reason)
            self._swap(lineup, replace(lineup, requested=requested, mode=DeploymentMode.SINGLE), reason)
            self.metrics.canary_rollbacks.inc()
            self.events.append(
                "canary_rollback",
                logging.WARNING,
                model=lineup.champion.model.name,
                challenger_version=version,
                champion_version=lineup.champion.model.version,
                reasons=verdict.reasons,
                figures=verdict.figures(),
            )
            try:  # every worker and every restart follows the registry
                client = self._registry()
                write_canary_rollback(client, self.settings.model_name, version, verdict.reasons,
                                      verdict.figures())  # fmt: skip
                write_deployment(client, self.settings.model_name, requested)
            except MlflowException as e:
                self.events.append("registry_write_failed", logging.ERROR, error=str(e))

    def _swap(self, before: Lineup, after: Lineup, why: str) -> None:
        self.lineup = after
        self.log.schema = log_schema(self._models(after))
        challengers = (before.challenger, after.challenger)
        if before.mode is not after.mode or (
            (challengers[0].model.version if challengers[0] else None)
            != (challengers[1].model.version if challengers[1] else None)
        ):
            self.comparison.reset()
        if before.champion.model.version != after.champion.model.version:
            self.metrics.reloads.inc()
        freeze_heap(collect=False)
        self._publish(before, after)
        self.events.append(
            "deployment",
            why=why,
            mode=after.mode.value,
            requested=after.requested.mode.value,
            canary_share=after.requested.canary_share,
            champion_version=after.champion.model.version,
            challenger_version=after.challenger.model.version if after.challenger else None,
            note=after.note,
        )

    def _publish(self, before: Lineup | None, after: Lineup) -> None:
        if before is not None:
            for active in filter(None, (before.champion, before.challenger)):
                model = active.model
                self.metrics.model_info.labels(model.name, str(model.version), model.alias).set(0)
        for active in filter(None, (after.champion, after.challenger)):
            model = active.model
            self.metrics.model_info.labels(model.name, str(model.version), model.alias).set(1)
        for mode in DeploymentMode:
            self.metrics.deployment_mode.labels(mode.value).set(1 if mode is after.mode else 0)
        canary = after.mode is DeploymentMode.CANARY
        self.metrics.canary_share.set(after.requested.canary_share if canary else 0.0)

    @staticmethod
    def _models(lineup: Lineup) -> list[Any]:
        return [active.model for active in (lineup.champion, lineup.challenger) if active is not None]

    # ---- background work -------------------------------------------------------------

    def start(self) -> None:
        """Start the log writer, the registry watcher and the canary guard."""
        self.log.start()
        if self.settings.reload_interval_s > 0:
            self._every(self.settings.reload_interval_s, self._poll_registry, "model-watcher")
        self._every(self.settings.canary_check_interval_s, self.check_canary, "canary-guard")

    def _every(self, interval_s: float, task: Callable[[], object], name: str) -> None:
        def loop() -> None:
            while not self._stop.wait(interval_s):
                task()

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _poll_registry(self) -> None:
        try:
            self.reload()
        except Exception:  # a registry hiccup must not stop serving; the next poll retries
            self.metrics.reload_errors.inc()

    def close(self) -> None:
        """Stop the background threads, finish shadow work, and flush the served-feature log."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self.shadow.close()
        self.log.close()


def freeze_heap(collect: bool = True) -> None:
    """Put every object alive now out of the garbage collector's reach (``gc.freeze``).

    Feast, MLflow and the models leave about 400,000 tracked objects, and a full
    collection walks them all: about 230 ms during which no request is answered,
    which was the API's p99. Frozen, they are never walked again (a collection then
    takes microseconds). At start-up the heap is collected first; after a hot reload
    it is only frozen, so that a reload pauses no request.
    """
    if collect:
        gc.collect()
    gc.freeze()


def _request_ids(count: int) -> list[str]:
    """Random (version 4) UUIDs, drawn from the OS in one call rather than one per id."""
    entropy = os.urandom(16 * count)
    return [str(uuid.UUID(bytes=entropy[16 * i : 16 * i + 16], version=4)) for i in range(count)]


def build_state(settings: Settings) -> ServingState:
    """Load the lineup the registry describes and open the feature store of ``settings.profile``.

    Raises:
        ModelUnavailableError: there is no champion.
    """
    client = configure_mlflow(settings)
    store = open_feature_store(settings)
    view = read_registry_view(client, settings)
    lineup = build_lineup(client, store, settings, view)
    metrics = ServingMetrics()
    metrics.registry.register(MonitoringGaugesCollector(settings.layout.monitoring_gauges))
    state = ServingState(settings, store, lineup, metrics, client)
    state.start()
    freeze_heap()
    return state
