"""Build the feature tables for a date range, one parquet file per day.

Incremental: only days in ``[start, end)`` are (re)written; each aggregate reads 30
days of history before ``start`` so a day's rows do not depend on the range it was
built in. Idempotent: the same inputs write the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from feature_repo.pipeline.faults import apply_faults
from feature_repo.pipeline.portable import INPUT_VIEWS, pipeline_query, render, to_duckdb
from skewless.atomic import write_parquet_atomic
from skewless.contract import CUSTOMER_ACTIVITY, CUSTOMER_PROFILE, EVENT_TIMESTAMP, MERCHANT_STATS
from skewless.errors import InvalidDateRangeError
from skewless.layout import DataLayout
from skewless.progress import Progress
from skewless.raw_data import RawDataManifest, read_manifest

__all__ = [
    "LOOKBACK",
    "PARTITIONED_TABLES",
    "FeatureBuildSummary",
    "build_features",
    "midnight",
    "pipeline_parameters",
    "resolve_range",
]

LOOKBACK = timedelta(days=30)
PARTITIONED_TABLES = (CUSTOMER_ACTIVITY, MERCHANT_STATS)


@dataclass(frozen=True)
class FeatureBuildSummary:
    """Rows and files written per table for one build."""

    start: date
    end: date
    rows: dict[str, int]
    files: int


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def pipeline_parameters(start: date, end: date) -> dict[str, datetime]:
    """The pipeline SQL's ``$name`` parameters for days ``[start, end)`` (UTC midnights)."""
    return {
        "lookback_start": midnight(start - LOOKBACK),
        "start": midnight(start),
        "end": midnight(end),
        "last_day": midnight(end - timedelta(days=1)),
    }


def resolve_range(manifest: RawDataManifest, start: date | None, end: date | None) -> tuple[date, date]:
    data_start, data_end = manifest.start, manifest.end
    start = start or data_start
    end = end or data_end
    if end <= start:
        raise InvalidDateRangeError(f"bad date range: end {end} must be after start {start}")
    if start < data_start or end > data_end:
        raise InvalidDateRangeError(
            f"bad date range {start}..{end}: the simulated data covers {data_start}..{data_end}"
        )
    return start, end


def _write_daily(table: pa.Table, folder_table: str, layout: DataLayout, start: date, end: date) -> int:
    """Write one file per day of ``[start, end)``; a day with no rows gets an empty file."""
    days = pc.cast(table[EVENT_TIMESTAMP], pa.date32())
    day = start
    files = 0
    while day < end:
        rows = table.filter(pc.equal(days, pa.scalar(day, pa.date32())))
        write_parquet_atomic(rows, layout.feature_table_dir(folder_table) / f"{day.isoformat()}.parquet")
        files += 1
        day += timedelta(days=1)
    return files


def build_features(
    layout: DataLayout, progress: Progress, start: date | None = None, end: date | None = None
) -> FeatureBuildSummary:
    """Build every feature table for days in ``[start, end)`` (default: the whole simulation).

    Args:
        layout: where raw data is read and feature tables are written.
        progress: progress reporter.
        start: first day to build.
        end: day after the last day to build.

    Returns:
        Rows and files written.

    Raises:
        DataNotFoundError: nothing has been simulated yet.
        InvalidDateRangeError: the range is empty or outside the simulated period.
    """
    manifest = read_manifest(layout)
    start, end = resolve_range(manifest, start, end)
    faults = manifest.faults
    drift_start = midnight(manifest.drift_start)
    params = pipeline_parameters(start, end)
    rows: dict[str, int] = {}
    files = 0
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for view in INPUT_VIEWS:
            con.read_parquet(str(getattr(layout, view))).create_view(view)
        for name in PARTITIONED_TABLES:
            with progress.step(f"build {name} for {start}..{end}"):
                table = con.execute(to_duckdb(render(pipeline_query(name), params))).to_arrow_table()
                table = apply_faults(table, name, faults, drift_start)
                files += _write_daily(table, name, layout, start, end)
                rows[name] = table.num_rows
        with progress.step(f"build {CUSTOMER_PROFILE}"):
            table = con.execute(to_duckdb(render(pipeline_query(CUSTOMER_PROFILE), params))).to_arrow_table()
            write_parquet_atomic(table, layout.feature_table_file(CUSTOMER_PROFILE))
            rows[CUSTOMER_PROFILE] = table.num_rows
            files += 1
    return FeatureBuildSummary(start=start, end=end, rows=rows, files=files)
