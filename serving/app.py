"""Assemble the prediction API: lifespan, routes, metrics middleware, error handlers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from serving.routes import router
from serving.state import ServingState, build_state
from skewless import __version__
from skewless.errors import SkewlessError
from skewless.settings import Settings

__all__ = ["app_from_environment", "create_app"]


def create_app(settings: Settings, state: ServingState | None = None) -> FastAPI:
    """The FastAPI app; ``state`` is built from ``settings`` at start-up unless given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        serving = state or build_state(settings)
        app.state.serving = serving
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

    @app.middleware("http")
    async def record_latency(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        endpoint = getattr(route, "path", "unmatched")
        serving: ServingState | None = getattr(request.app.state, "serving", None)
        if serving is not None:
            serving.metrics.request_latency.labels(endpoint, str(response.status_code)).observe(
                time.perf_counter() - started
            )
        return response

    @app.exception_handler(SkewlessError)
    async def domain_error(request: Request, error: SkewlessError) -> JSONResponse:
        return JSONResponse(status_code=error.http_status, content={"detail": str(error)})

    return app


def app_from_environment() -> FastAPI:
    """Factory for uvicorn (``--factory``): settings from SKEWLESS_* variables."""
    return create_app(Settings())
