"""What a policy check judges (kept apart from ``lifecycle.checks`` so the CLI can build one without
importing Feast, MLflow and the training job)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["CheckWindow"]


@dataclass(frozen=True)
class CheckWindow:
    """What a check judges: served rows of ``model`` in ``[start, end)``, labels known at ``as_of``."""

    start: datetime
    end: datetime
    as_of: datetime
    every: timedelta | None = None  # also judge sub-windows this long
    model: str = "champion"
    skew: bool = True
