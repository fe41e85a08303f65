"""Calls to the model registry that give up in time.

MLflow's client retries a dead server for minutes (seven retries with back-off, a
120 s timeout each), so an admin call or a registry poll used to hang past 60 s while
MLflow was down. Here each registry read or write the API makes runs on one worker
thread of its own and is waited for ``timeout_s`` at most: past it the caller gets
:class:`RegistryUnavailableError` (503 with the reason) and the timeout is counted.
One worker means a hung call is never joined by a pile of others: while it hangs, the
next call fails fast as well.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import TypeVar

from skewless.errors import RegistryUnavailableError, SkewlessError

__all__ = ["RegistryDeadline"]

T = TypeVar("T")


class RegistryDeadline:
    """Runs registry calls on one worker thread, waiting ``timeout_s`` at most for each."""

    def __init__(self, timeout_s: float, on_timeout: Callable[[], None] | None = None) -> None:
        self.timeout_s = timeout_s
        self._on_timeout = on_timeout
        self._worker = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry")

    def call(self, function: Callable[..., T], *args: object) -> T:
        """``function(*args)``, or :class:`RegistryUnavailableError` after ``timeout_s``.

        Raises:
            RegistryUnavailableError: no answer in time, or the registry failed.
            SkewlessError: what ``function`` raises on purpose (e.g. no champion).
        """
        future = self._worker.submit(function, *args)
        try:
            return future.result(timeout=self.timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()  # if it never started (a previous call still hangs)
            if self._on_timeout is not None:
                self._on_timeout()
            message = f"the model registry did not answer within {self.timeout_s:g} s"
            raise RegistryUnavailableError(message) from None
        except SkewlessError:
            raise
        except Exception as e:  # MLflow's and the database driver's own errors
            raise RegistryUnavailableError(
                f"the model registry failed: {type(e).__name__}: {e}",
                f"the model registry failed ({type(e).__name__})",
            ) from e

    def close(self) -> None:
        """Stop the worker without waiting for a call that hangs."""
        self._worker.shutdown(wait=False, cancel_futures=True)
