"""Every `skewless` command written in the README and docs/ is one the CLI accepts, and every
test the runbook names as running a command exists. (What each command does is tested
where the runbook says; this catches a doc that drifted from the code: a renamed option,
a removed command.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main

from lifecycle.cli import app
from tests.factories import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]


SHELL_BLOCKS = ("```bash", "```sh", "```cron")  # plain ``` blocks hold output, diagrams, JSON


def _fenced_lines(path: Path) -> list[str]:
    """The lines of a document's shell and cron code blocks, backslash continuations joined."""
    lines, inside, pending = [], False, ""
    for line in path.read_text().splitlines():
        fence = line.strip()
        if fence.startswith("```"):
            inside = not inside and fence in SHELL_BLOCKS
            continue
        if inside:
            pending += line.rstrip()
            if pending.endswith("\\"):
                pending = pending[:-1] + " "
                continue
            lines.append(pending)
            pending = ""
    return lines


def _commands() -> list[tuple[str, list[str]]]:
    """(where, arguments after `skewless`) for every command line in the docs."""
    found = []
    for path in DOCS:
        for line in _fenced_lines(path):
            words = shlex.split(line, comments=True)
            starts = [
                i for i, word in enumerate(words) if word == "skewless" or word.endswith("bin/skewless")
            ]
            if starts:
                found.append((f"{path.name}: {line.strip()}", words[starts[0] + 1 :]))
    return found


def _parse(arguments: list[str]) -> None:
    """Parse ``arguments`` as the CLI would, down to the subcommand, without running anything.

    Raises the CLI's usage error (Typer's own click) for an unknown command or option, a
    bad value or a missing required option.
    """
    command: Any = typer.main.get_command(app)
    context = command.make_context("skewless", list(arguments))
    while hasattr(command, "resolve_command"):  # a group: descend to the subcommand
        # click keeps the subcommand's name apart from the rest of the arguments.
        protected = getattr(context, "protected_args", None) or getattr(context, "_protected_args", None)
        name, command, rest = command.resolve_command(context, [*(protected or []), *context.args])
        context = command.make_context(name, rest, parent=context)


COMMANDS = _commands()


def test_the_docs_hold_the_commands_a_user_runs() -> None:
    written = {" ".join(arguments[:1]) for _, arguments in COMMANDS}
    # The main job, serving, the model's way to production, scheduled jobs, monitoring.
    expected = {
        "run",
        "serve",
        "train",
        "evaluate",
        "promote",
        "deploy",
        "rollback",
        "retrain",
        "materialize",
    }
    assert expected <= written | {"monitor"}, sorted(expected - written)
    assert any(arguments[:2] == ["monitor", "check"] for _, arguments in COMMANDS)


@pytest.mark.parametrize(("where", "arguments"), COMMANDS, ids=[where for where, _ in COMMANDS])
def test_each_documented_command_is_accepted_by_the_cli(where: str, arguments: list[str]) -> None:
    try:
        _parse(arguments)
    except Exception as e:  # Typer vendors click: its UsageError is not click's
        if not hasattr(e, "format_message"):
            raise
        pytest.fail(f"{where}: the CLI refuses it: {e.format_message()}")


@pytest.mark.parametrize(
    "arguments",
    [
        ["run", "--bogus"],
        ["loop"],
        ["deploy", "--mode", "sideways"],
        ["deploy"],
        ["monitor", "check", "--weekly"],
    ],
)
def test_the_check_itself_refuses_what_the_cli_refuses(arguments: list[str]) -> None:
    with pytest.raises(Exception) as refused:
        _parse(arguments)
    assert hasattr(refused.value, "format_message"), refused.value


def test_every_test_the_runbook_names_exists() -> None:
    runbook = (PROJECT_ROOT / "docs" / "runbook.md").read_text()
    named = re.findall(r"(tests/[\w/]+\.py)(?:::(\w+))?", runbook)
    assert len(named) >= 8
    for path, function in named:
        source = PROJECT_ROOT / path
        assert source.is_file(), f"the runbook names {path}, which does not exist"
        if function:
            assert f"def {function}" in source.read_text(), f"{path} has no {function}"
