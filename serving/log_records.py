"""The served-feature log's columns and records.

One row per model answer: the request fields (with the caller's
``transaction_id``, which labels are joined on), the features that model saw, its
score and version, the request id, the time, and its ``role``:

- ``champion``: the champion answered the caller;
- ``canary``: the challenger answered the caller (canary mode);
- ``shadow``: the challenger scored the request off the request path and the
  caller never saw it (shadow mode). It shares its ``request_id`` with the
  champion's row for the same request, so the two scores can be joined.

``served`` is true for the answer the caller got, so monitoring of what was really
served reads ``served`` rows only. The feature columns are the union of the
champion's and the challenger's features; a model's row leaves the others null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa

from serving.model_source import ServingModel
from serving.scorer import Scored

__all__ = ["Role", "log_record", "log_schema"]

Role = Literal["champion", "canary", "shadow"]

FIXED_FIELDS = [
    pa.field("request_id", pa.string()),
    pa.field("served_at", pa.timestamp("us", tz="UTC")),
    pa.field("model_name", pa.string()),
    pa.field("model_version", pa.int64()),
    pa.field("alias", pa.string()),
    pa.field("role", pa.string()),
    pa.field("served", pa.bool_()),
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
    pa.field("transaction_id", pa.string()),
]


def log_schema(models: Iterable[ServingModel]) -> pa.Schema:
    """Fixed columns, then every feature of ``models`` (categorical as string, else float)."""
    features: dict[str, pa.DataType] = {}
    for model in models:
        for name in model.encoding.features:
            features.setdefault(name, pa.string() if name in model.encoding.categories else pa.float64())
    return pa.schema(FIXED_FIELDS + [pa.field(name, kind) for name, kind in features.items()])


def log_record(
    row: Mapping[str, Any],
    result: Scored,
    model: ServingModel,
    request_id: str,
    served_at: datetime,
    role: Role,
) -> dict[str, Any]:
    """One log row: the request, what ``model`` saw and answered, and in which role."""
    return {
        **row,
        **result.features,
        "request_id": request_id,
        "served_at": served_at,
        "model_name": model.name,
        "model_version": model.version,
        "alias": model.alias,
        "role": role,
        "served": role != "shadow",
        "score": result.score,
        "decision": result.decision,
        "degraded": result.degraded,
        "missing_count": len(result.missing),
    }
