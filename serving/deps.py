"""The routes' collaborators, one ``Annotated`` dependency each.

Each is ``async``: FastAPI runs a sync dependency on its thread pool, which costs the
request path a thread hop.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from serving.canary import LiveComparison
from serving.metrics import ServingMetrics
from serving.micro_batch import MicroBatcher
from serving.predictor import Predictor
from serving.readiness import ReadinessProbe
from serving.runtime import ServingRuntime
from serving.watcher import LineupWatcher
from skewless.settings import Settings

__all__ = [
    "AdminDep",
    "ComparisonDep",
    "GathererDep",
    "MetricsDep",
    "PredictorDep",
    "ReadinessDep",
    "SettingsDep",
    "WatcherDep",
]


def _runtime(request: Request) -> ServingRuntime:
    runtime: ServingRuntime = request.app.state.runtime
    return runtime


async def get_settings(request: Request) -> Settings:
    return _runtime(request).settings


async def get_predictor(request: Request) -> Predictor:
    return _runtime(request).predictor


async def get_gatherer(request: Request) -> MicroBatcher:
    return _runtime(request).gatherer


async def get_watcher(request: Request) -> LineupWatcher:
    return _runtime(request).watcher


async def get_readiness(request: Request) -> ReadinessProbe:
    return _runtime(request).readiness


async def get_metrics(request: Request) -> ServingMetrics:
    return _runtime(request).metrics


async def get_comparison(request: Request) -> LiveComparison:
    return _runtime(request).comparison


SettingsDep = Annotated[Settings, Depends(get_settings)]
PredictorDep = Annotated[Predictor, Depends(get_predictor)]
GathererDep = Annotated[MicroBatcher, Depends(get_gatherer)]
WatcherDep = Annotated[LineupWatcher, Depends(get_watcher)]
ReadinessDep = Annotated[ReadinessProbe, Depends(get_readiness)]
MetricsDep = Annotated[ServingMetrics, Depends(get_metrics)]
ComparisonDep = Annotated[LiveComparison, Depends(get_comparison)]


async def require_admin(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """Admin endpoints need ``Authorization: Bearer <SKEWLESS_ADMIN_TOKEN>``; unset token: disabled."""
    token = settings.admin_token
    if token is None:
        raise HTTPException(status_code=403, detail="admin endpoints are disabled: set SKEWLESS_ADMIN_TOKEN")
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not secrets.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(
            status_code=401, detail="missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"}
        )


AdminDep = Annotated[None, Depends(require_admin)]
