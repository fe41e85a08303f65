"""Run one benchmark stage in a fresh child process and report its seconds and peak memory."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from queue import Empty
from typing import Any

__all__ = ["measure"]


def _child(stage: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: Any) -> None:
    started = time.perf_counter()
    extra = stage(*args)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"seconds": seconds, "peak_mib": peak_mib, **extra})


def measure(stage: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``stage(*args)`` in a spawned process; its peak RSS is its own.

    The stage returns a dict of extra figures; ``seconds`` (wall time of the stage,
    imports included) and ``peak_mib`` are added.
    """
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(stage, args, queue))
    process.start()
    while True:
        try:
            result: dict[str, Any] = queue.get(timeout=1.0)
            break
        except Empty:
            if not process.is_alive():
                name, code = stage.__name__, process.exitcode
                raise RuntimeError(f"benchmark stage {name} died (exit code {code})") from None
    process.join()
    return result
