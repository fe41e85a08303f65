"""The API's routes: thin calls into the runtime's parts (``serving.deps``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel

from serving.deps import (
    AdminDep,
    ComparisonDep,
    GathererDep,
    MetricsDep,
    PredictorDep,
    ReadinessDep,
    WatcherDep,
)
from serving.micro_batch import ON_LOOP_ROWS
from serving.schemas import (
    BatchRequest,
    BatchResponse,
    DeploymentRequest,
    DeploymentResponse,
    ErrorResponse,
    HealthResponse,
    ModelInfoResponse,
    PredictRequest,
    PredictResponse,
    ReloadResponse,
)
from serving.views import deployment_view, model_view

__all__ = ["router"]

router = APIRouter()


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


BODY_ERRORS: dict[int | str, dict[str, Any]] = {400: _error("The body is not parseable JSON.")}
NO_CHAMPION: dict[int | str, dict[str, Any]] = {503: _error("No champion yet (the API polls the registry).")}
ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("Missing or wrong token."),
    403: _error("Admin disabled (no SKEWLESS_ADMIN_TOKEN)."),
    503: _error("The model registry is unavailable."),
}
ERRORS: dict[int | str, dict[str, Any]] = {
    **BODY_ERRORS,
    413: _error("Batch or body larger than the configured limit."),
    422: {"description": "Malformed or out-of-range input; the field is named."},
    503: _error("Online store or model unavailable; the reason is given."),
}


# The prediction routes serialize their (already validated) response model once,
# themselves: FastAPI would otherwise validate and encode it a second time, which
# costs more than the model does on a batch. ``response_model`` still documents it.
# They are ``async``: scoring is CPU-bound and short, so it runs on the event loop
# rather than on the thread pool, where concurrent requests would only contend for
# the GIL (measured: 4 concurrent clients got less throughput than 1). Concurrent single
# requests are gathered (``serving.micro_batch``) into one scoring call.


@router.post("/predict", response_model=PredictResponse, responses=ERRORS, tags=["prediction"])
async def predict(body: PredictRequest, gatherer: GathererDep) -> Response:
    """Score one transaction: online features of the model's feature service + the model.

    Concurrent calls are scored together (one online read, one model call), each answered alone.
    """
    return _json(await gatherer.predict(body))


@router.post("/predict/batch", response_model=BatchResponse, responses=ERRORS, tags=["prediction"])
async def predict_batch(body: BatchRequest, predictor: PredictorDep) -> Response:
    """Score up to ``max_batch_size`` transactions in one call."""
    if len(body.transactions) <= ON_LOOP_ROWS:
        return _json(BatchResponse(predictions=predictor.predict(body.transactions)))
    # A big batch is scored on a worker thread, so the event loop keeps answering other callers.
    predictions = await run_in_threadpool(predictor.predict, body.transactions)
    return _json(BatchResponse(predictions=predictions))


def _json(model: BaseModel) -> Response:
    return Response(model.__pydantic_serializer__.to_json(model), media_type="application/json")


@router.get("/health/live", response_model=HealthResponse, tags=["health"])
def live() -> HealthResponse:
    """The process is up."""
    return HealthResponse(status="ok", model_loaded=True, online_store="unknown")


@router.get(
    "/health/ready",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse}},
    tags=["health"],
)
def ready(readiness: ReadinessDep) -> HealthResponse | JSONResponse:
    """Model loaded and online store reachable; 503 otherwise."""
    health = readiness.check()
    if health.status != "ok":
        return JSONResponse(status_code=503, content=health.model_dump())
    return health


@router.get("/model", response_model=ModelInfoResponse, responses=NO_CHAMPION, tags=["model"])
def model_info(watcher: WatcherDep) -> ModelInfoResponse:
    """The champion: name, version, alias, feature service and features."""
    return model_view(watcher.current())


@router.get("/deployment", response_model=DeploymentResponse, responses=NO_CHAMPION, tags=["model"])
def deployment(watcher: WatcherDep, comparison: ComparisonDep) -> DeploymentResponse:
    """Deployment mode in force, the challenger, and its live comparison with the champion."""
    return deployment_view(watcher.current(), comparison.verdict())


@router.get("/metrics", tags=["monitoring"], response_class=Response)
def metrics(serving_metrics: MetricsDep) -> Response:
    """Prometheus metrics."""
    return Response(serving_metrics.exposition(), media_type=CONTENT_TYPE_LATEST)


@router.post("/admin/reload", response_model=ReloadResponse, responses=ADMIN_ERRORS, tags=["admin"])
def reload_model(watcher: WatcherDep, _: AdminDep) -> ReloadResponse:
    """Re-read the registry now (aliases, deployment); the API also polls on its own."""
    result = watcher.reload()
    return ReloadResponse(
        changed=result.changed,
        from_version=result.from_version,
        to_version=result.to_version,
        challenger_version=result.challenger_version,
        mode=result.mode,
    )


@router.put(
    "/admin/deployment",
    response_model=DeploymentResponse,
    responses={**ADMIN_ERRORS, **BODY_ERRORS, 409: _error("No usable challenger for that mode.")},
    tags=["admin"],
)
def set_deployment(
    body: DeploymentRequest, watcher: WatcherDep, comparison: ComparisonDep, _: AdminDep
) -> DeploymentResponse:
    """Set single, shadow or canary (with its share); recorded in the registry for every worker."""
    lineup = watcher.set_deployment(body.mode, body.canary_share)
    return deployment_view(lineup, comparison.verdict())
