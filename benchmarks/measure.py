"""Run one benchmark stage in a fresh child process and report its seconds and peak memory."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import resource
import threading
import time
from collections.abc import Callable
from queue import Empty
from typing import Any

__all__ = ["measure"]


def _sample_children(peak: list[float], done: threading.Event) -> None:
    """Keep the largest total resident memory of this process's descendants (Spark's JVM and its
    Python workers, a Dask cluster's workers), sampled every 0.2 s."""
    import psutil

    me = psutil.Process()
    while not done.wait(0.2):
        total = 0
        for child in me.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += child.memory_info().rss
        peak[0] = max(peak[0], total / 2**20)


def _child(stage: Callable[..., dict[str, Any]], args: tuple[Any, ...], queue: Any) -> None:
    peak, done = [0.0], threading.Event()
    sampler = threading.Thread(target=_sample_children, args=(peak, done), daemon=True)
    sampler.start()
    started = time.perf_counter()
    extra = stage(*args)
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put({"seconds": seconds, "peak_mib": peak_mib, "child_peak_mib": peak[0], **extra})


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
