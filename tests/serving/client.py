"""A plain-urllib client of the API for tests (no client library between us and the server)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pandas as pd

from serving.replay import request_body
from tests.serving.conftest import LiveApi


def call(api: LiveApi, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """Send one request; returns (status, parsed JSON or text)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(f"{api.url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status = response.status
            kind = response.headers.get("content-type", "")
    except urllib.error.HTTPError as error:
        raw, status, kind = error.read(), error.code, error.headers.get("content-type", "")
    return status, json.loads(raw) if "json" in kind else raw.decode()


def transaction(row: pd.Series, **changes: Any) -> dict[str, Any]:
    """The /predict body of a training-set row, with ``changes`` applied."""
    return request_body(row) | changes
