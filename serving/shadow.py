"""Run shadow scoring off the request path, with a bounded backlog.

In shadow mode the caller gets the champion's answer at once; the challenger scores
the same transactions on one background thread. When the backlog is full, a
request is simply not shadowed, and the skip is counted: shadowing must never slow
down or fail the answer the caller waits for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["ShadowRunner"]


class ShadowRunner:
    """One background worker with at most ``backlog`` pending shadow tasks."""

    def __init__(self, backlog: int, on_skip: Callable[[], None] | None = None) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shadow-scoring")
        self._slots = threading.BoundedSemaphore(backlog)
        self._on_skip = on_skip
        self.skipped = 0

    def submit(self, task: Callable[[], None]) -> bool:
        """Queue ``task`` without blocking; False (and a counted skip) when the backlog is full."""
        if not self._slots.acquire(blocking=False):
            self.skipped += 1
            if self._on_skip is not None:
                self._on_skip()
            return False
        future = self._executor.submit(task)
        future.add_done_callback(self._release)
        return True

    def _release(self, _: Future[None]) -> None:
        self._slots.release()

    def close(self) -> None:
        """Finish the backlog (its answers are logged) and stop the worker."""
        self._executor.shutdown(wait=True)
