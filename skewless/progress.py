"""Progress reporting for long work, passed into library functions explicitly."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """One line per step: ``✓ label (1.2 s)``, or ``✗ label (failed after 1.2 s)``.

    On a terminal the line shows ``▶ label …`` while the step runs and is rewritten in
    place when it ends; in a log or CI (not a terminal) only the finished line is
    written, so a run reads as one line per stage. A step that prints (a nested step,
    :meth:`info`) while the line is open ends that line first, and the step's result
    then gets a line of its own.

    Library functions accept a ``Progress`` and call :meth:`step`; tests pass
    ``Progress(quiet=True)``. Output goes to stderr so stdout stays parseable.
    """

    def __init__(self, stream: TextIO | None = None, quiet: bool = False, live: bool | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._quiet = quiet
        isatty = getattr(self._stream, "isatty", None)
        self._live = live if live is not None else bool(isatty and isatty())
        self._open: str | None = None  # the label of the step whose line is open (terminal only)

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()

    def info(self, message: str) -> None:
        """Print one informational line."""
        if self._quiet:
            return
        if self._open is not None:
            self._write("\n")
            self._open = None
        self._write(message + "\n")

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Report one step: its label while it runs (terminal), then its outcome and duration."""
        if self._live and not self._quiet:
            if self._open is not None:
                self._write("\n")
            self._write(f"▶ {label} …")
            self._open = label
        started = time.perf_counter()
        try:
            yield
        except BaseException:
            self._finish(label, f"✗ {label} (failed after {time.perf_counter() - started:.1f} s)")
            raise
        self._finish(label, f"✓ {label} ({time.perf_counter() - started:.1f} s)")

    def _finish(self, label: str, line: str) -> None:
        if self._quiet:
            return
        if self._open == label:
            self._write("\r\033[K" + line + "\n")
            self._open = None
        else:
            self.info(line)
