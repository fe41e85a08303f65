"""Assemble the prediction API: lifespan, routes, metrics middleware, error handlers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from serving.latency import LatencyMiddleware
from serving.metrics import ServingMetrics
from serving.routes import router
from serving.runtime import ServingRuntime, start_runtime
from skewless import __version__
from skewless.errors import SkewlessError
from skewless.registry import MlflowModelRegistry, ModelRegistry
from skewless.settings import Settings
from skewless.third_party import prepare_third_party

__all__ = ["app_from_environment", "create_app"]


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
    )
    app.include_router(router)

    def current_metrics() -> ServingMetrics | None:
        serving: ServingRuntime | None = getattr(app.state, "runtime", None)
        return serving.metrics if serving is not None else None

    app.add_middleware(LatencyMiddleware, metrics=current_metrics)

    @app.exception_handler(SkewlessError)
    async def domain_error(request: Request, error: SkewlessError) -> JSONResponse:
        return JSONResponse(status_code=error.http_status, content={"detail": str(error)})

    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn (``--factory``): settings from SKEWLESS_* variables."""
    prepare_third_party()
    return create_app(Settings())
