"""One line per step: rewritten in place on a terminal, the finished line alone in a log."""

from __future__ import annotations

import io

import pytest

from skewless.progress import Progress


def test_a_log_gets_one_line_per_step_and_a_failure_says_so() -> None:
    stream = io.StringIO()
    progress = Progress(stream, live=False)
    with progress.step("build features"):
        pass
    with pytest.raises(ValueError), progress.step("train"):
        raise ValueError("boom")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("✓ build features (") and lines[0].endswith(" s)")
    assert lines[1].startswith("✗ train (failed after ")


def test_a_terminal_line_is_rewritten_in_place_and_nested_output_ends_it_first() -> None:
    stream = io.StringIO()
    progress = Progress(stream, live=True)
    with progress.step("simulate"):
        pass
    with progress.step("replay"):
        progress.info("day 1 done")
    written = stream.getvalue()
    assert written.startswith("▶ simulate …\r\x1b[K✓ simulate (")
    # the nested line broke the open one: the outcome comes on a line of its own
    assert "▶ replay …\nday 1 done\n✓ replay (" in written
    assert written.endswith(" s)\n")


def test_quiet_writes_nothing() -> None:
    stream = io.StringIO()
    with Progress(stream, quiet=True, live=True).step("x"):
        Progress(stream, quiet=True).info("y")
    assert stream.getvalue() == ""
