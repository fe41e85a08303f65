"""Everything one API process holds: model, feature store, scorer, log and metrics."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import pyarrow as pa
from feast import FeatureStore
from mlflow import MlflowClient

from feature_repo.operations import open_feature_store, read_online_features
from serving.errors import BatchTooLargeError
from serving.feature_log import ServedFeatureLog
from serving.metrics import ServingMetrics
from serving.model_source import ServingModel, load_model
from serving.schemas import HealthResponse, ModelInfoResponse, PredictRequest, PredictResponse
from serving.scorer import Scored, Scorer
from skewless.errors import OnlineStoreError
from skewless.settings import Settings
from skewless.tracking import CHAMPION, configure_mlflow

__all__ = ["Active", "ReloadResult", "ServingState", "build_state"]

READINESS_CACHE_S = 1.0
_FIXED_LOG_FIELDS = [
    pa.field("request_id", pa.string()),
    pa.field("served_at", pa.timestamp("us", tz="UTC")),
    pa.field("model_name", pa.string()),
    pa.field("model_version", pa.int64()),
    pa.field("alias", pa.string()),
    pa.field("score", pa.float64()),
    pa.field("decision", pa.bool_()),
    pa.field("degraded", pa.bool_()),
    pa.field("missing_count", pa.int64()),
    pa.field("customer_id", pa.int64()),
    pa.field("merchant_id", pa.int64()),
    pa.field("amount", pa.float64()),
    pa.field("merchant_country", pa.string()),
    pa.field("channel", pa.string()),
    pa.field("transaction_time", pa.timestamp("us", tz="UTC")),
]


def _log_schema(model: ServingModel) -> pa.Schema:
    features = [
        pa.field(name, pa.string() if name in model.encoding.categories else pa.float64())
        for name in model.encoding.features
    ]
    return pa.schema(_FIXED_LOG_FIELDS + features)


@dataclass(frozen=True)
class Active:
    """The model being served and the scorer bound to it, swapped as one reference."""

    model: ServingModel
    scorer: Scorer


@dataclass(frozen=True)
class ReloadResult:
    """What a reload check found."""

    changed: bool
    from_version: int
    to_version: int


class ServingState:
    """The API's collaborators, passed in (tests build one directly).

    A request reads ``self.active`` once, so a hot reload (a new ``Active`` assigned
    in one step) never leaves a request with a model from one version and a scorer
    from another, and never fails a request in flight.
    """

    def __init__(
        self, settings: Settings, store: FeatureStore, model: ServingModel, metrics: ServingMetrics
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self.active = Active(model, Scorer(store, model, degraded_scoring=settings.degraded_scoring))
        self.schema = _log_schema(model)
        self.client: MlflowClient | None = None
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.log = ServedFeatureLog(
            settings.layout.served_log_dir,
            flush_rows=settings.log_flush_rows,
            flush_seconds=settings.log_flush_seconds,
            queue_size=settings.log_queue_size,
            on_drop=metrics.log_dropped.inc,
            schema=self.schema,
        )
        self._readiness: tuple[float, bool, str | None] = (0.0, False, None)
        metrics.model_info.labels(model.name, str(model.version), model.alias).set(1)

    def predict(self, requests: list[PredictRequest]) -> list[PredictResponse]:
        """Score requests, log what was served, and answer.

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
        active = self.active
        try:
            scored = active.scorer.score(rows)
        except OnlineStoreError:
            self.metrics.online_store_errors.inc()
            raise
        return [
            self._answer(active.model, row, result, now) for row, result in zip(rows, scored, strict=True)
        ]

    def _answer(
        self, model: ServingModel, row: dict[str, Any], result: Scored, now: datetime
    ) -> PredictResponse:
        decision: Literal["review", "approve"] = "review" if result.decision else "approve"
        self.metrics.score.labels(str(model.version)).observe(result.score)
        self.metrics.predictions.labels(decision).inc()
        self.metrics.features_served.inc(len(result.features))
        self.metrics.features_missing.inc(len(result.missing))
        if result.degraded:
            self.metrics.degraded.inc()
        self.log.append(
            {
                **row,
                **result.features,
                "request_id": result.request_id,
                "served_at": now,
                "model_name": model.name,
                "model_version": model.version,
                "alias": model.alias,
                "score": result.score,
                "decision": result.decision,
                "degraded": result.degraded,
                "missing_count": len(result.missing),
            }
        )
        return PredictResponse(
            request_id=result.request_id,
            fraud_probability=result.score,
            decision=decision,
            threshold=model.threshold,
            model_name=model.name,
            model_version=model.version,
            missing_features=result.missing,
            stale_features=result.stale,
            degraded=result.degraded,
        )

    def readiness(self) -> HealthResponse:
        """Model loaded and online store reachable (probed at most once a second)."""
        checked_at, reachable, detail = self._readiness
        if time.monotonic() - checked_at > READINESS_CACHE_S:
            probe = {
                "customer_id": 0,
                "merchant_id": 0,
                "amount": 1.0,
                "merchant_country": "US",
                "channel": "online",
                "transaction_time": datetime.now(UTC),
            }
            try:
                read_online_features(self.store, self.active.scorer.service, [probe])
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

    def model_info(self) -> ModelInfoResponse:
        model = self.active.model
        return ModelInfoResponse(
            model_name=model.name,
            model_version=model.version,
            alias=model.alias,
            feature_service=model.feature_service,
            features=model.encoding.features,
            threshold=model.threshold,
        )

    def reload(self) -> ReloadResult:
        """Load the model the served alias points at now, if it moved; swap it in one step.

        Raises:
            ModelUnavailableError: the alias no longer exists (the current model stays).
        """
        with self._reload_lock:
            current = self.active.model
            if self.client is None:
                self.client = configure_mlflow(self.settings)
            target = int(self.client.get_model_version_by_alias(current.name, current.alias).version)
            if target == current.version:
                return ReloadResult(False, current.version, current.version)
            model = load_model(self.client, current.name, current.alias)
            self.active = Active(
                model, Scorer(self.store, model, degraded_scoring=self.settings.degraded_scoring)
            )
            self.schema = self.log.schema = _log_schema(model)
            self.metrics.model_info.labels(current.name, str(current.version), current.alias).set(0)
            self.metrics.model_info.labels(model.name, str(model.version), model.alias).set(1)
            self.metrics.reloads.inc()
            return ReloadResult(True, current.version, model.version)

    def start_watching(self) -> None:
        """Poll the registry every ``reload_interval_s`` (0 disables) and hot-reload."""
        if self.settings.reload_interval_s <= 0:
            return
        self._watcher = threading.Thread(target=self._watch, name="model-watcher", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.settings.reload_interval_s):
            try:
                self.reload()
            except Exception:  # a registry hiccup must not stop serving; the next poll retries
                self.metrics.reload_errors.inc()

    def close(self) -> None:
        """Stop watching the registry and flush the served-feature log."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        self.log.close()


def build_state(settings: Settings) -> ServingState:
    """Load the champion and open the feature store of ``settings.profile``."""
    client = configure_mlflow(settings)
    model = load_model(client, settings.model_name, CHAMPION)
    state = ServingState(settings, open_feature_store(settings), model, ServingMetrics())
    state.client = client
    state.log.start()
    state.start_watching()
    return state
