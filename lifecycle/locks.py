"""One run at a time for each scheduled job: an exclusive lock per job name.

``skewless materialize``, ``skewless monitor check`` and ``skewless retrain`` may be
started by cron (or by hand) while an earlier run is still going. Each takes an
exclusive, non-blocking ``flock`` on ``data/locks/<job>.lock`` for its whole run; a
second run finds it held and stops at once with ``JobLockedError`` (exit 75),
having changed nothing. The operating system drops the lock when the holder exits,
even when it is killed, so a crash never leaves a stale lock behind. The file also
records who holds it, for the error message.

``monitor check`` and ``retrain`` share the ``policy`` lock: both may train and
change the challenger, so they must not overlap.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from skewless.errors import JobLockedError
from skewless.layout import DataLayout

__all__ = ["MATERIALIZE", "POLICY", "job_lock"]

MATERIALIZE = "materialize"
POLICY = "policy"  # monitor check and retrain: both may train and move the challenger


def _holder(path: Path) -> str:
    try:
        holder = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "another process"
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('since', '?')}"


@contextmanager
def job_lock(layout: DataLayout, job: str) -> Iterator[Path]:
    """Hold ``job``'s lock for the ``with`` block.

    Raises:
        JobLockedError: another run of ``job`` holds the lock.
    """
    layout.locks_dir.mkdir(parents=True, exist_ok=True)
    path = layout.locks_dir / f"{job}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobLockedError(
                f"'{job}' is already running ({_holder(path)}); this run changed nothing, try again later"
            ) from None
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": datetime.now(UTC).isoformat()}
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(holder).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(descriptor, 0)
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)
