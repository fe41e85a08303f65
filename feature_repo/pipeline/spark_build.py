"""The feature pipeline on Spark: the same SQL as the DuckDB build (``portable.py``
transpiles it), the same faults, the same daily parquet files.

Each partitioned table is written by Spark into one folder per day (``repartition`` by day,
so one file each), then each day's file is moved to ``<table>/<day>.parquet``, where
``build.py`` would have written it: Feast's sources, the embedded profile and this profile
read one layout. No partitioned table's rows pass through the driver (the customer profile, one
row per customer, is written by it). The driver and the executors need one file system for
``data/`` (a local disk in local mode; shared storage on a cluster, see docs/scaling.md).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from feature_repo.pipeline.build import (
    PARTITIONED_TABLES,
    FeatureBuildSummary,
    midnight,
    pipeline_parameters,
    resolve_range,
)
from feature_repo.pipeline.portable import INPUT_VIEWS, pipeline_query, render, to_spark
from skewless.atomic import write_parquet_atomic
from skewless.contract import CUSTOMER_PROFILE, EVENT_TIMESTAMP
from skewless.errors import ConfigurationError
from skewless.layout import DataLayout
from skewless.progress import Progress
from skewless.raw_data import FeatureFault, read_manifest

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["build_features_on_spark"]

_DAY = "__day"


def build_features_on_spark(
    layout: DataLayout,
    progress: Progress,
    spark: SparkSession,
    start: date | None = None,
    end: date | None = None,
) -> FeatureBuildSummary:
    """Build every feature table for days in ``[start, end)`` on ``spark``: what ``build_features``
    writes with DuckDB, row for row.

    Raises:
        DataNotFoundError: nothing has been simulated yet.
        InvalidDateRangeError: the range is empty or outside the simulated period.
    """
    manifest = read_manifest(layout)
    start, end = resolve_range(manifest, start, end)
    params = pipeline_parameters(start, end)
    for view in INPUT_VIEWS:
        spark.read.parquet(str(getattr(layout, view))).createOrReplaceTempView(view)
    rows: dict[str, int] = {}
    files = 0
    staging = Path(tempfile.mkdtemp(prefix="skewless-spark-", dir=layout.features_dir.parent))
    try:
        for name in PARTITIONED_TABLES:
            with progress.step(f"build {name} for {start}..{end} on Spark"):
                frame = spark.sql(to_spark(render(pipeline_query(name), params)))
                frame = _apply_faults(frame, name, manifest.faults, midnight(manifest.drift_start))
                table_rows, table_files = _write_daily(
                    frame, staging / name, layout.feature_table_dir(name), start, end
                )
                rows[name], files = table_rows, files + table_files
        with progress.step(f"build {CUSTOMER_PROFILE} on Spark"):
            frame = spark.sql(to_spark(render(pipeline_query(CUSTOMER_PROFILE), params)))
            frame.coalesce(1).write.parquet(str(staging / CUSTOMER_PROFILE))
            (part,) = sorted((staging / CUSTOMER_PROFILE).glob("*.parquet"))
            table = pq.read_table(part)
            write_parquet_atomic(table, layout.feature_table_file(CUSTOMER_PROFILE))
            rows[CUSTOMER_PROFILE] = table.num_rows
            files += 1
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return FeatureBuildSummary(start=start, end=end, rows=rows, files=files)


def _write_daily(frame: DataFrame, staging: Path, folder: Path, start: date, end: date) -> tuple[int, int]:
    """One parquet file per day of ``[start, end)`` in ``folder`` (an empty one for a day without
    rows, as ``build.py`` writes); returns the rows and the files written.

    Raises:
        ConfigurationError: Spark wrote more than one file for a day (a ``maxRecordsPerFile``
            setting, say), which the layout has no place for.
    """
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import to_arrow_schema

    keys = [column for column in frame.columns if column.endswith("_id")]
    (
        frame.withColumn(_DAY, F.date_format(F.col(EVENT_TIMESTAMP), "yyyy-MM-dd"))
        .repartition(_DAY)
        .sortWithinPartitions(
            _DAY, EVENT_TIMESTAMP, *keys
        )  # the writer keeps an order led by its partition column
        .write.partitionBy(_DAY)
        .parquet(str(staging))
    )
    written: dict[str, Path] = {}
    for path in sorted(staging.glob(f"{_DAY}=*/*.parquet")):
        day_text = path.parent.name.removeprefix(f"{_DAY}=")
        if day_text in written:
            raise ConfigurationError(f"Spark wrote more than one file for {day_text} in {path.parent}")
        written[day_text] = path
    schema = pq.read_schema(next(iter(written.values()))) if written else to_arrow_schema(frame.schema)
    folder.mkdir(parents=True, exist_ok=True)
    rows, files, day = 0, 0, start
    while day < end:
        target = folder / f"{day.isoformat()}.parquet"
        source = written.get(day.isoformat())
        if source is not None:
            rows += pq.read_metadata(source).num_rows
            shutil.move(source, target)  # same file system: a rename
        else:
            write_parquet_atomic(schema.empty_table(), target)
        files, day = files + 1, day + timedelta(days=1)
    return rows, files


def _apply_faults(
    frame: DataFrame, table_name: str, faults: Iterable[FeatureFault], since: datetime
) -> DataFrame:
    """``faults.apply_faults`` on a Spark DataFrame: the fault's column null or constant from ``since``."""
    from pyspark.sql import functions as F

    broken = F.col(EVENT_TIMESTAMP) >= F.lit(since)
    for fault in faults:
        if fault.table != table_name:
            continue
        kind = frame.schema[fault.column].dataType
        replacement = F.lit(None if fault.mode == "null" else fault.constant).cast(kind)
        frame = frame.withColumn(fault.column, F.when(broken, replacement).otherwise(F.col(fault.column)))
    return frame
