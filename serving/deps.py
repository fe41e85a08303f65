"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from serving.state import ServingState

__all__ = ["AdminDep", "StateDep"]


async def get_state(request: Request) -> ServingState:
    """The process's serving state (async: FastAPI runs sync dependencies on its thread pool)."""
    state: ServingState = request.app.state.serving
    return state


StateDep = Annotated[ServingState, Depends(get_state)]


async def require_admin(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> None:
    """Admin endpoints need ``Authorization: Bearer <SKEWLESS_ADMIN_TOKEN>``; unset token: disabled."""
    token = state.settings.admin_token
    if token is None:
        raise HTTPException(status_code=403, detail="admin endpoints are disabled: set SKEWLESS_ADMIN_TOKEN")
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not secrets.compare_digest(authorization.encode(), expected.encode()):
        raise HTTPException(
            status_code=401, detail="missing or wrong admin token", headers={"WWW-Authenticate": "Bearer"}
        )


AdminDep = Annotated[None, Depends(require_admin)]
