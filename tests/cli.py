"""The ``skewless`` command line run in this process, for tests whose subject is not the process.

It runs exactly what the installed ``skewless`` runs (``lifecycle.cli.main``: parsing,
the command, the one-line error and its exit code), with the output captured, and
without paying for a new interpreter importing Feast, MLflow and LightGBM (about ten
seconds here). Tests of the process itself (start-up time, a second process refused
a lock, SIGTERM) start a real one.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from lifecycle.cli import main

__all__ = ["CliResult", "run_cli", "run_cli_process"]


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> CliResult:
    """``skewless --root-dir root *args`` in this process."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
    environment |= env or {}
    with (
        mock.patch.object(sys, "argv", ["skewless", "--root-dir", str(root), *args]),
        mock.patch.dict(os.environ, environment, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            main()
        except SystemExit as e:
            code = int(e.code or 0)
    return CliResult(code, out.getvalue(), err.getvalue())


def run_cli_process(
    root: Path, *args: str, env: dict[str, str] | None = None, timeout_s: float = 600
) -> subprocess.CompletedProcess[str]:
    """``skewless --root-dir root *args`` as a process of its own, as a user or cron runs it."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
    environment |= env or {}
    return subprocess.run(
        [sys.executable, "-m", "lifecycle.cli", "--root-dir", str(root), *args],
        capture_output=True, text=True, timeout=timeout_s, env=environment,
    )  # fmt: skip
