"""One served-feature log row per model answer (the log's schema: ``skewless.served_log``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from serving.scorer import Scored
from skewless.registry import RegisteredModel
from skewless.served_log import Role, ServedColumn

__all__ = ["log_record"]


def log_record(
    row: Mapping[str, Any],
    result: Scored,
    model: RegisteredModel,
    request_id: str,
    served_at: datetime,
    role: Role,
) -> dict[str, Any]:
    """One log row: the request, what ``model`` saw and answered, and in which role."""
    c = ServedColumn
    return {
        **row,
        **result.features,
        c.REQUEST_ID: request_id,
        c.SERVED_AT: served_at,
        c.MODEL_NAME: model.name,
        c.MODEL_VERSION: model.version,
        c.ALIAS: model.alias,
        c.ROLE: role,
        c.SERVED: role != "shadow",
        c.SCORE: result.score,
        c.DECISION: result.decision,
        c.DEGRADED: result.degraded,
        c.MISSING_COUNT: len(result.missing),
    }
