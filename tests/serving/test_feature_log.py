"""The served-feature log writer on its own: partitions, bounded queue, failures, flush on close."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from serving.feature_log import ServedFeatureLog
from tests.servers import full_filesystem

SCHEMA = pa.schema([pa.field("served_at", pa.timestamp("us", tz="UTC")), pa.field("score", pa.float64())])


def record(day: int, score: object) -> dict[str, object]:
    return {"served_at": datetime(2026, 3, day, 12, tzinfo=UTC), "score": score}


def read(folder: Path) -> pd.DataFrame:
    files = sorted(folder.rglob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def test_records_land_in_date_partitions_and_close_flushes(tmp_path: Path) -> None:
    log = ServedFeatureLog(tmp_path, flush_rows=1_000, flush_seconds=600, queue_size=100, schema=SCHEMA)
    log.start()
    for day, score in ((1, 0.1), (1, 0.2), (2, 0.3)):
        assert log.append(record(day, score))
    assert not list(tmp_path.rglob("*.parquet"))  # nothing written before a flush
    log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["date=2026-03-01", "date=2026-03-02"]
    assert sorted(read(tmp_path)["score"]) == [0.1, 0.2, 0.3]
    assert not list(tmp_path.rglob("*.tmp")) and log.written == 3


def test_a_full_queue_drops_and_counts(tmp_path: Path) -> None:
    drops: list[int] = []
    log = ServedFeatureLog(
        tmp_path,
        flush_rows=10,
        flush_seconds=600,
        queue_size=2,
        schema=SCHEMA,
        on_drop=drops.append,
    )  # writer not started: the queue only fills
    assert log.append(record(1, 0.1)) and log.append(record(1, 0.2))
    assert not log.append(record(1, 0.3))
    assert log.dropped == 1 and drops == [1]


def test_a_batch_that_cannot_be_written_is_counted_and_the_writer_goes_on(tmp_path: Path) -> None:
    failures: list[int] = []
    log = ServedFeatureLog(
        tmp_path,
        flush_rows=1,
        flush_seconds=600,
        queue_size=100,
        schema=SCHEMA,
        on_write_error=failures.append,
    )
    log.start()
    log.append(record(1, "not a number"))  # cannot be cast to the schema's float
    log.append(record(1, 0.5))
    log.close()
    assert failures == [1] and log.failed == 1 and log.dropped == 1  # never writable: not retried
    assert read(tmp_path)["score"].tolist() == [0.5]


def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_full_disk_loses_nothing_when_it_clears_before_the_retry_buffer_fills(tmp_path: Path) -> None:
    buffered: list[int] = []
    with full_filesystem(tmp_path / "disk") as filler:
        folder = tmp_path / "disk" / "served"
        log = ServedFeatureLog(
            folder, flush_rows=100, flush_seconds=0.05, queue_size=10_000, schema=SCHEMA,
            retry_rows=5_000, on_buffered=buffered.append,
        )  # fmt: skip
        log.start()
        for i in range(1_000):
            assert log.append(record(1 + i % 2, float(i)))  # two days: two batches a flush
        _until(lambda: bool(buffered) and buffered[-1] == 1_000 and log.failed > 0)  # after the callback
        assert log.buffered == 1_000 and log.dropped == 0 and not list(folder.rglob("*.parquet"))
        filler.unlink()  # the disk has room again
        _until(lambda: log.buffered == 0)
        log.close()
        assert buffered[-1] == 0 and log.dropped == 0 and log.written == 1_000
        assert sorted(read(folder)["score"]) == [float(i) for i in range(1_000)]  # each row once


def test_a_full_disk_past_the_retry_buffer_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    drops: list[int] = []
    with full_filesystem(tmp_path / "disk") as filler:
        folder = tmp_path / "disk" / "served"
        log = ServedFeatureLog(
            folder, flush_rows=100, flush_seconds=0.05, queue_size=10_000, schema=SCHEMA,
            retry_rows=300, on_drop=drops.append,
        )  # fmt: skip
        log.start()
        for i in range(1_000):
            log.append(record(1, float(i)))
        _until(lambda: log.dropped == 700)
        filler.unlink()
        _until(lambda: log.buffered == 0)
        log.close()
        assert sum(drops) == 700 and log.written == 300
        assert sorted(read(folder)["score"]) == [float(i) for i in range(700, 1_000)]  # the newest kept
