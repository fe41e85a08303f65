"""Writes that never leave a half-written file readable: write a temporary name, then rename.

Files and folders end with the modes the process umask gives (0644 and 0755 under the
usual 022), as a plain ``open`` would: the temporary names are created private (0600,
0700) and opened up before the rename.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "append_line", "move_directory", "process_umask", "replace_directory", "write_parquet_atomic",
    "write_parquet_by_content", "write_text_atomic",
]  # fmt: skip


def process_umask() -> int:
    """The process umask, read without changing it (Linux), else set and put back."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def _open_up(path: str | Path, directory: bool = False) -> None:
    os.chmod(path, (0o777 if directory else 0o666) & ~process_umask())


# Fixed writer options so the same table always gives the same bytes.
_PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "row_group_size": 256_000,
    "write_statistics": True,
}


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` as parquet, atomically and deterministically.

    Args:
        table: the Arrow table to write.
        path: destination; its parent folder is created if needed.
    """
    with _parquet_written(table, path.parent, path.name) as tmp_name:
        os.replace(tmp_name, path)


def write_parquet_by_content(table: pa.Table, folder: Path) -> tuple[Path, str]:
    """Write ``table`` as parquet into ``folder`` under the first 16 hex digits of its bytes'
    SHA-256, atomically and deterministically (written once, hashed from the file).

    Returns:
        The file's path and the whole hex digest.
    """
    with _parquet_written(table, folder, "by-content") as tmp_name:
        digest = hashlib.sha256()
        with open(tmp_name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 22), b""):
                digest.update(block)
        content_hash = digest.hexdigest()
        path = folder / f"{content_hash[:16]}.parquet"
        os.replace(tmp_name, path)
    return path, content_hash


@contextmanager
def _parquet_written(table: pa.Table, folder: Path, name: str) -> Iterator[str]:
    """A temporary file in ``folder`` holding ``table``, opened up to the umask's modes, for the
    caller to rename; removed if the caller raises or has not renamed it."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        pq.write_table(table, tmp_name, **_PARQUET_OPTIONS)
        _open_up(tmp_name)
        yield tmp_name
    finally:
        Path(tmp_name).unlink(missing_ok=True)


def write_text_atomic(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        _open_up(tmp_name)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


@contextmanager
def replace_directory(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder that replaces ``target`` only if the block succeeds.

    The previous ``target`` stays intact until the new one is complete; on error the
    staging folder is removed and ``target`` is untouched.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging.", dir=target.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _open_up(staging, directory=True)
    move_directory(staging, target)


def move_directory(folder: Path, target: Path) -> None:
    """Rename ``folder`` to ``target`` (same file system), the previous ``target`` removed after."""
    retired = target.with_name(f".{target.name}.retired.{os.getpid()}")
    if target.exists():
        os.replace(target, retired)
    os.replace(folder, target)
    shutil.rmtree(retired, ignore_errors=True)


def append_line(path: Path, line: str) -> None:
    """Append one line with a single ``write`` in append mode, so concurrent writers never interleave."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line.rstrip("\n") + "\n")
