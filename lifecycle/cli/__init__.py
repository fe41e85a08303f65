"""The ``skewless`` command line: thin calls into library functions, one module per command group.

``data`` (simulate, features build, apply, materialize, lookup), ``models`` (train,
evaluate, promote, rollback, deploy, retrain), ``monitor`` (report, check),
``serving`` (serve), ``drift`` (any two tables) and ``run`` (the main job). Every error we raise on purpose is
printed as one line, ``error: <reason>``, with the exit code of its kind
(``skewless.errors``); no traceback reaches the user. Modules here import only Typer
and the standard library at load time, so ``--help`` and a refused argument answer at
once; each command imports what it uses when it runs.
"""

from __future__ import annotations

import sys

import typer

from lifecycle.cli import data, drift, labels, models, monitor, run, serving  # noqa: F401  (registers the commands)
from lifecycle.cli.app import app
from skewless.errors import DataNotFoundError, SkewlessError

__all__ = ["app", "main"]


def main() -> None:
    """Entry point: run the app and turn our errors into one line and an exit code."""
    try:
        code = app(standalone_mode=False)  # click returns a command's typer.Exit code here
    except SkewlessError as e:
        typer.echo(f"error: {' '.join(str(e).split())}", err=True)  # one line, whatever a library wrote
        sys.exit(e.exit_code)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(130)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.TyperException as e:  # usage errors: bad option values, unknown commands
        message = e.format_message() if hasattr(e, "format_message") else str(e)
        message = str(message).replace("Value error, ", "")  # pydantic's prefix, inside click's message
        typer.echo(f"error: {' '.join(message.split())}", err=True)
        sys.exit(int(getattr(e, "exit_code", 2)))
    except Exception as e:
        if not _unreadable_data(e):
            raise
        reason = " ".join(str(e).split())[:400]
        typer.echo(
            f"error: a data file cannot be read ({type(e).__name__}: {reason}); rebuild it with the step "
            "that wrote it (skewless simulate, skewless features build)",
            err=True,
        )
        sys.exit(DataNotFoundError.exit_code)
    if isinstance(code, int) and code:
        sys.exit(code)


def _unreadable_data(error: Exception) -> bool:
    """A truncated or corrupt parquet file, as DuckDB or Arrow report it (wherever it was read)."""
    return type(error).__module__.split(".")[0] in ("duckdb", "_duckdb", "pyarrow")


if __name__ == "__main__":
    main()
