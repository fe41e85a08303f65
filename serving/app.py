"""Assemble the prediction API: lifespan, routes, metrics middleware, error handlers."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from serving.body_limit import BodyLimitMiddleware
from serving.docs import add_offline_docs
from serving.latency import LatencyMiddleware
from serving.metrics import ServingMetrics
from serving.routes import router
from serving.runtime import ServingRuntime, start_runtime
from skewless import __version__
from skewless.errors import SkewlessError
from skewless.registry import MlflowModelRegistry, ModelRegistry
from skewless.settings import Settings
from skewless.third_party import prepare_third_party

__all__ = ["app_from_environment", "create_app", "refusal"]


def refusal(error: RequestValidationError) -> JSONResponse:
    """400 for a body that is not JSON; 422 naming each refused field and why, never echoing the
    value (a NaN or an infinity cannot even be written back as JSON, and an echo can be huge)."""
    problems = [
        {
            "loc": [str(part) for part in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in error.errors()
    ]
    if any(problem["type"] == "json_invalid" for problem in problems):
        return JSONResponse(status_code=400, content={"detail": "the body is not valid JSON"})
    return JSONResponse(status_code=422, content={"detail": problems})


def create_app(
    settings: Settings, registry: ModelRegistry | None = None, runtime: ServingRuntime | None = None
) -> FastAPI:
    """The FastAPI app. At start-up it uses ``runtime`` if given, else builds one on ``registry``
    (default: the MLflow registry of ``settings``' profile)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        serving = runtime or start_runtime(settings, registry or MlflowModelRegistry.from_settings(settings))
        app.state.runtime = serving
        try:
            yield
        finally:
            serving.close()  # flush the served-feature log (shutdown and SIGTERM)

    app = FastAPI(
        title="Skewless prediction API",
        version=__version__,
        description="Fraud scores from online features of the model's own Feast feature service.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(router)
    add_offline_docs(app)

    def current_metrics() -> ServingMetrics | None:
        serving: ServingRuntime | None = getattr(app.state, "runtime", None)
        return serving.metrics if serving is not None else None

    app.add_middleware(LatencyMiddleware, metrics=current_metrics)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)

    @app.exception_handler(SkewlessError)
    async def domain_error(request: Request, error: SkewlessError) -> JSONResponse:
        return JSONResponse(status_code=error.http_status, content={"detail": error.public})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return refusal(error)

    return app


GIL_SWITCH_INTERVAL_S = 0.001


def app_from_environment() -> FastAPI:
    """Factory for uvicorn (``--factory``): settings from SKEWLESS_* variables.

    A process that only serves switches threads every millisecond: a big batch is scored on a
    worker thread, and with the default 5 ms the event loop waited up to 5 ms at each of its
    steps (/health/live took 60 ms meanwhile). Not set for an API inside another program (the
    main job, tests), where it would slow that program's own threads.
    """
    prepare_third_party()
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_INTERVAL_S))
    return create_app(Settings())
