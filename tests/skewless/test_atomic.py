"""Atomic writes leave the modes the process umask gives, as a plain open would."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from skewless.atomic import (
    process_umask,
    replace_directory,
    write_parquet_atomic,
    write_parquet_by_content,
    write_text_atomic,
)  # fmt: skip


@pytest.fixture(params=[0o022, 0o077, 0o002])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_and_folders_get_the_umask_modes(tmp_path: Path, umask: int) -> None:
    assert process_umask() == umask
    text, table = tmp_path / "a" / "report.json", tmp_path / "a" / "rows.parquet"
    write_text_atomic("{}", text)
    write_parquet_atomic(pa.table({"x": [1, 2]}), table)
    with replace_directory(tmp_path / "raw") as staging:
        write_text_atomic("x", staging / "manifest.json")
    assert _mode(text) == _mode(table) == 0o666 & ~umask  # 0644 under the usual 022
    assert _mode(tmp_path / "raw") == 0o777 & ~umask
    assert _mode(tmp_path / "raw" / "manifest.json") == 0o666 & ~umask


def test_a_table_written_by_content_is_named_by_its_bytes_hash_and_the_same_twice(tmp_path: Path) -> None:
    table = pa.table({"id": [3, 1, 2], "name": ["c", "a", "b"]})
    path, digest = write_parquet_by_content(table, tmp_path / "sets")
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest() and path.name == f"{digest[:16]}.parquet"
    assert write_parquet_by_content(table, tmp_path / "sets") == (path, digest)  # deterministic
    other, other_digest = write_parquet_by_content(table.slice(1), tmp_path / "sets")
    assert other_digest != digest and sorted(p.name for p in (tmp_path / "sets").iterdir()) == sorted(
        [path.name, other.name]
    )  # no temporary file left behind
    assert pq.read_table(path).equals(table)
