"""Deployment events: mode changes and automatic canary rollbacks, with their evidence.

Each event is one JSON object appended as one line to ``data/deployments/events.jsonl``
(a single ``write`` on a file opened for appending, so concurrent writers never
interleave within a line) and logged as the same JSON on the ``skewless.serving``
logger, for log shippers.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["DeploymentEventLog", "read_events"]

logger = logging.getLogger("skewless.serving")


class DeploymentEventLog:
    """Append-only JSON-lines record of deployment events."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, event: str, level: int = logging.INFO, **fields: Any) -> dict[str, Any]:
        """Record ``event`` with ``fields``; returns the record written."""
        record = {"at": datetime.now(UTC).isoformat(), "event": event, "pid": os.getpid(), **fields}
        line = json.dumps(record, default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        logger.log(level, line)
        return record


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every event recorded at ``path`` (none when the file does not exist)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
