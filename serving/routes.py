"""The API's routes: thin calls into :class:`ServingState`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.deps import AdminDep, StateDep
from serving.schemas import (
    BatchRequest,
    BatchResponse,
    HealthResponse,
    ModelInfoResponse,
    PredictRequest,
    PredictResponse,
    ReloadResponse,
)

__all__ = ["router"]

router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Batch larger than the configured limit."},
    422: {"description": "Malformed or out-of-range input; the field is named."},
    503: {"description": "Online store or model unavailable; the reason is given."},
}


@router.post("/predict", response_model=PredictResponse, responses=ERRORS, tags=["prediction"])
def predict(body: PredictRequest, state: StateDep) -> PredictResponse:
    """Score one transaction: online features of the model's feature service + the model."""
    return state.predict([body])[0]


@router.post("/predict/batch", response_model=BatchResponse, responses=ERRORS, tags=["prediction"])
def predict_batch(body: BatchRequest, state: StateDep) -> BatchResponse:
    """Score up to ``max_batch_size`` transactions in one call."""
    return BatchResponse(predictions=state.predict(body.transactions))


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
def ready(state: StateDep) -> HealthResponse | JSONResponse:
    """Model loaded and online store reachable; 503 otherwise."""
    health = state.readiness()
    if health.status != "ok":
        return JSONResponse(status_code=503, content=health.model_dump())
    return health


@router.get("/model", response_model=ModelInfoResponse, tags=["model"])
def model_info(state: StateDep) -> ModelInfoResponse:
    """The served model: name, version, alias, feature service and features."""
    return state.model_info()


@router.get("/metrics", tags=["monitoring"], response_class=Response)
def metrics(state: StateDep) -> Response:
    """Prometheus metrics."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.post(
    "/admin/reload",
    response_model=ReloadResponse,
    responses={401: {"description": "Missing or wrong token."}, 403: {"description": "Admin disabled."}},
    tags=["admin"],
)
def reload_model(state: StateDep, _: AdminDep) -> ReloadResponse:
    """Load the model the served alias points at now (the API also polls on its own)."""
    result = state.reload()
    return ReloadResponse(
        changed=result.changed, from_version=result.from_version, to_version=result.to_version
    )
