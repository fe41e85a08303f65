"""Progress reporting for long work, passed into library functions explicitly."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Prints one line when a step starts and one when it ends, with its duration.

    Library functions accept a ``Progress`` and call :meth:`step`; tests pass
    ``Progress(quiet=True)``. Output goes to stderr so stdout stays parseable.
    """

    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet

    def info(self, message: str) -> None:
        """Print one informational line."""
        if not self._quiet:
            print(message, file=self._stream, flush=True)

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Report the start and the duration of one step."""
        self.info(f"▶ {label} …")
        started = time.perf_counter()
        yield
        self.info(f"  ✓ {label} ({time.perf_counter() - started:.1f} s)")
