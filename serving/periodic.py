"""Background tasks run every few seconds on daemon threads, stopped together."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["PeriodicTasks"]


class PeriodicTasks:
    """Each task runs on its own thread every ``interval_s`` until :meth:`stop`."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def every(self, interval_s: float, task: Callable[[], object], name: str) -> None:
        """Run ``task`` every ``interval_s`` seconds (first after one interval)."""

        def loop() -> None:
            while not self._stop.wait(interval_s):
                task()

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop every task after its current run."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout_s)
