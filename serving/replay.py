"""Replay transactions through a running API, as clients would send them."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

__all__ = ["ReplayResult", "post_prediction", "replay_transactions", "request_body"]


@dataclass(frozen=True)
class ReplayResult:
    """What the API answered, and how long each call took."""

    requests: list[dict[str, Any]]
    responses: list[dict[str, Any]]
    statuses: list[int]
    latencies_ms: list[float]


def request_body(row: Mapping[str, Any], at: datetime | None = None) -> dict[str, Any]:
    """The /predict JSON body of a simulated transaction (sent at ``at``, or at its own time)."""
    body: dict[str, Any] = {
        "customer_id": int(row["customer_id"]),
        "merchant_id": int(row["merchant_id"]),
        "amount": float(row["amount"]),
        "merchant_country": str(row["merchant_country"]),
        "channel": str(row["channel"]),
        "transaction_time": pd.Timestamp(at or row["transaction_time"]).isoformat(),
    }
    if row.get("transaction_id") is not None:
        body["transaction_id"] = str(row["transaction_id"])
    return body


def post_prediction(url: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any], float]:
    """POST one /predict body; returns the status, the JSON answer and the milliseconds it took."""
    request = urllib.request.Request(
        f"{url}/predict", data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer = response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        status, answer = error.code, json.loads(error.read() or b"{}")
    return status, answer, (time.perf_counter() - started) * 1e3


def replay_transactions(url: str, transactions: pd.DataFrame, at: datetime | None = None) -> ReplayResult:
    """POST each transaction to ``{url}/predict``, one at a time.

    Args:
        url: the API's base URL.
        transactions: rows with ids and request fields (simulated transactions).
        at: the time to send them at (as new transactions); their own time if omitted.
    """
    requests, responses, statuses, latencies = [], [], [], []
    records = [{str(k): v for k, v in row.items()} for row in transactions.to_dict("records")]
    for row in records:
        body = request_body(row, at)
        status, answer, milliseconds = post_prediction(url, body)
        latencies.append(milliseconds)
        requests.append(body)
        responses.append(answer)
        statuses.append(status)
    return ReplayResult(requests, responses, statuses, latencies)
