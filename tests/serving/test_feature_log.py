"""The served-feature log writer on its own: partitions, bounded queue, failures, flush on close."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from serving.feature_log import ServedFeatureLog

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
        on_drop=lambda: drops.append(1),
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
    assert failures == [1] and log.failed == 1
    assert read(tmp_path)["score"].tolist() == [0.5]
