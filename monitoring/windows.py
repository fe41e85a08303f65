"""Windows of the served-feature log, summarised in DuckDB against the reference bins.

The API writes ``served/date=YYYY-MM-DD/part-*.parquet``. A window is a time range
(and optionally one model version) of the rows really served (``served`` true;
shadow rows are the challenger's and are left out). DuckDB reads only the date
partitions and the columns it needs and returns, per feature, counts in the
reference's cells: nulls, a histogram over the percentile grid for numeric
features, category counts for categorical ones. Memory stays flat however long the
log grows; one pass computes every feature, and ``every`` splits the range into
hourly or daily sub-windows in the same pass.

Windows are cut on one of two clocks: ``served`` (``served_at``, when the API
answered: the default, for live traffic) or ``event`` (``transaction_time``, when the
transaction happened: for replays and backfills, where a month of simulated days is
sent in minutes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from monitoring.config import Clock
from monitoring.reference import CategoricalReference, NumericReference, Reference
from skewless.errors import ServedLogError
from skewless.served_log import ServedColumn, has_log, log_glob

__all__ = [
    "CLOCKS",
    "CategoricalWindow",
    "Clock",
    "NumericWindow",
    "Window",
    "bucket_sql",
    "has_log",
    "served_rows_sql",
    "summarise_range",
    "summarise_table",
    "summarise_windows",
    "window_bounds",
]

ENTITY_KEYS = (ServedColumn.CUSTOMER_ID, ServedColumn.MERCHANT_ID)
CLOCKS: dict[str, ServedColumn] = {  # clock → log column
    "served": ServedColumn.SERVED_AT,
    "event": ServedColumn.TRANSACTION_TIME,
}


@dataclass(frozen=True)
class NumericWindow:
    """A numeric column in a window: counts per reference grid cell."""

    count: int  # non-null values
    nulls: int
    cells: np.ndarray  # len(grid) + 1 counts; cell i holds values in (grid[i-1], grid[i]]
    minimum: float | None
    maximum: float | None
    mean: float | None


@dataclass(frozen=True)
class CategoricalWindow:
    """A categorical column in a window: counts per category."""

    count: int
    nulls: int
    counts: dict[str, int]


ColumnWindow = NumericWindow | CategoricalWindow


@dataclass(frozen=True)
class Window:
    """One time range of served rows, summarised."""

    start: datetime
    end: datetime
    rows: int
    model_versions: list[int]
    columns: dict[str, ColumnWindow | None]  # None: the column is not in the log
    score: NumericWindow | None
    effective_rows: dict[str, float] = field(default_factory=dict)  # per entity key (Kish)

    def effective(self, entity: str | None) -> float:
        """Effective number of independent values for a feature of ``entity``."""
        if entity is None:
            return float(self.rows)
        return self.effective_rows.get(entity, float(self.rows))


def window_bounds(start: datetime, end: datetime, every: timedelta | None) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut into consecutive ranges of ``every`` (the last may be shorter); one if None."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    step = every or (end - start)
    count = max(1, int(np.ceil((end - start) / step)))
    return [(start + i * step, min(end, start + (i + 1) * step)) for i in range(count)]


def bucket_sql(start: datetime, every: timedelta, clock: Clock = "served") -> str:
    """SQL numbering each row's sub-window: 0 for ``[start, start + every)``, and so on."""
    column = CLOCKS[clock]
    return f"CAST(floor((epoch({column}) - {start.timestamp()!r}) / {every.total_seconds()!r}) AS BIGINT)"


def served_rows_sql(
    folder: Path,
    start: datetime,
    end: datetime,
    model_version: int | None,
    select: str = "*",
    clock: Clock = "served",
) -> str:
    """SQL of the rows really served in ``[start, end)`` on ``clock`` (of one model version, if given).

    Only the date partitions (by serving date) the range can touch are opened: a
    transaction is served at or after it happens, so on the event clock the range
    still bounds the first partition, not the last.
    """
    column = CLOCKS[clock]
    where = [
        str(ServedColumn.SERVED),
        f"{column} >= CAST('{start.isoformat()}' AS TIMESTAMPTZ)",
        f"{column} < CAST('{end.isoformat()}' AS TIMESTAMPTZ)",
        f"date >= CAST('{start.astimezone(UTC).date().isoformat()}' AS DATE)",
    ]
    if clock == "served":
        where.append(f"date <= CAST('{end.astimezone(UTC).date().isoformat()}' AS DATE)")
    if model_version is not None:
        where.append(f"{ServedColumn.MODEL_VERSION} = {int(model_version)}")
    source = f"read_parquet('{log_glob(folder)}', hive_partitioning = true, union_by_name = true)"
    return f"SELECT {select} FROM {source} WHERE {' AND '.join(where)}"


def _grid_sql(grid: np.ndarray) -> str:
    """The grid as a DuckDB list of doubles that round-trips exactly."""
    return "[" + ", ".join(f"CAST('{float(value)!r}' AS DOUBLE)" for value in grid) + "]"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _numeric_aggregates(alias: str, column: str, reference: NumericReference) -> list[str]:
    valid = f"CASE WHEN isnan({column}) THEN NULL ELSE {column} END"
    return [
        f"count({valid}) AS {alias}_n",
        f"histogram({valid}, {_grid_sql(reference.grid)}) AS {alias}_h",
        f"min({valid}) AS {alias}_min",
        f"max({valid}) AS {alias}_max",
        f"avg({valid}) AS {alias}_avg",
    ]


def _numeric_window(
    row: Mapping[str, Any], alias: str, rows: int, reference: NumericReference
) -> NumericWindow:
    # DuckDB's binned histogram is keyed by each cell's upper grid point (right-closed),
    # with values above the last point under +inf: the key's place in the grid is the cell.
    cells = np.zeros(len(reference.grid) + 1, dtype=np.int64)
    for upper, count in (row[f"{alias}_h"] or {}).items():
        cells[int(np.searchsorted(reference.grid, float(upper)))] += int(count)
    count = int(row[f"{alias}_n"])
    return NumericWindow(
        count=count,
        nulls=rows - count,
        cells=cells,
        minimum=row[f"{alias}_min"],
        maximum=row[f"{alias}_max"],
        mean=row[f"{alias}_avg"],
    )


def _categorical_window(row: Mapping[str, Any], alias: str, rows: int) -> CategoricalWindow:
    counts = {str(k): int(v) for k, v in (row[f"{alias}_h"] or {}).items()}
    count = int(row[f"{alias}_n"])
    return CategoricalWindow(count=count, nulls=rows - count, counts=counts)


def _columns_in_log(connection: duckdb.DuckDBPyConnection, rows_sql: str) -> dict[str, str]:
    described = connection.execute(f"DESCRIBE {rows_sql}").fetchall()
    return {str(name): str(kind) for name, kind, *_ in described}


def summarise_windows(
    folder: Path,
    features: Mapping[str, Reference],
    score: NumericReference | None,
    start: datetime,
    end: datetime,
    every: timedelta | None = None,
    model_version: int | None = None,
    clock: Clock = "served",
) -> list[Window]:
    """Summaries of the served rows in ``[start, end)``, one per ``every`` (or one in all).

    Args:
        folder: the served-feature log folder (``DataLayout.served_log_dir``).
        features: the reference of each feature to summarise (it gives the cells).
        score: the score's reference, or None to skip the score.
        start: first moment (UTC) of the range, on ``clock``.
        end: end of the range (exclusive).
        every: split the range into sub-windows of this length; None for one window.
        model_version: only rows of this model version.
        clock: cut windows on ``served_at`` (``served``) or ``transaction_time`` (``event``).

    Returns:
        One window per sub-range, empty ones included (``rows`` 0), in time order.

    Raises:
        ServedLogError: a log file cannot be read.
    """
    return summarise_range(folder, features, score, start, end, every, model_version, clock)[1]


def summarise_range(
    folder: Path,
    features: Mapping[str, Reference],
    score: NumericReference | None,
    start: datetime,
    end: datetime,
    every: timedelta | None = None,
    model_version: int | None = None,
    clock: Clock = "served",
) -> tuple[Window, list[Window]]:
    """The whole range and its sub-windows, summarised in the same pass (see ``summarise_windows``)."""
    bounds = window_bounds(start, end, every)
    start, end = bounds[0][0], bounds[-1][1]
    if not has_log(folder):
        return _empty(start, end, features, score), [_empty(a, b, features, score) for a, b in bounds]
    try:
        with duckdb.connect() as connection:
            connection.execute("SET TimeZone = 'UTC'")
            available = _columns_in_log(
                connection, served_rows_sql(folder, start, end, model_version, clock=clock)
            )
            step = bounds[0][1] - bounds[0][0]
            rows = served_rows_sql(
                folder, start, end, model_version, f"*, {bucket_sql(start, step, clock)} AS bucket_", clock
            )
            connection.execute(f"CREATE TEMP VIEW window_rows AS {rows}")
            return _query(connection, available, features, score, bounds)
    except duckdb.Error as e:
        raise ServedLogError(f"cannot read the served-feature log in {folder}: {e}") from e


def summarise_table(
    connection: duckdb.DuckDBPyConnection,
    rows_sql: str,
    features: Mapping[str, Reference],
    score: NumericReference | None,
    start: datetime,
    end: datetime,
) -> Window:
    """Any table (``rows_sql``: a relation DuckDB can select from, e.g. ``read_parquet('x')``) summarised
    as one window over ``features``, in one scan: the drift of two datasets (``monitoring.datasets``).

    Raises:
        duckdb.Error: the table cannot be read.
    """
    available = _columns_in_log(connection, f"SELECT * FROM {rows_sql}")
    version = ServedColumn.MODEL_VERSION
    extra = "" if version in available else f", NULL::BIGINT AS {version}"
    connection.execute(
        f"CREATE OR REPLACE TEMP VIEW window_rows AS SELECT *{extra}, 0 AS bucket_ FROM {rows_sql}"
    )
    return _query(connection, available, features, score, [(start, end)])[1][0]


def _empty(
    start: datetime, end: datetime, features: Mapping[str, Reference], score: NumericReference | None
) -> Window:
    columns: dict[str, ColumnWindow | None] = {}
    for name, reference in features.items():
        if isinstance(reference, NumericReference):
            columns[name] = NumericWindow(
                0, 0, np.zeros(len(reference.grid) + 1, dtype=np.int64), None, None, None
            )
        else:
            columns[name] = CategoricalWindow(0, 0, {})
    empty_score = None
    if score is not None:
        empty_score = NumericWindow(0, 0, np.zeros(len(score.grid) + 1, dtype=np.int64), None, None, None)
    return Window(start, end, 0, [], columns, empty_score)


def _query(
    connection: duckdb.DuckDBPyConnection,
    available: Mapping[str, str],
    features: Mapping[str, Reference],
    score: NumericReference | None,
    bounds: Sequence[tuple[datetime, datetime]],
) -> tuple[Window, list[Window]]:
    """One scan of ``window_rows``: per sub-window and, as the group with no bucket, for the whole range."""
    aliases = {name: f"f{i}" for i, name in enumerate(features)}
    selects = ["count(*) AS rows_", f"list(DISTINCT {ServedColumn.MODEL_VERSION}) AS versions_"]
    for name, reference in features.items():
        if name not in available:
            continue
        column, alias = _quote(name), aliases[name]
        if isinstance(reference, NumericReference):
            selects += _numeric_aggregates(alias, column, reference)
        else:
            selects += [f"count({column}) AS {alias}_n", f"histogram(CAST({column} AS VARCHAR)) AS {alias}_h"]
    if score is not None:
        selects += _numeric_aggregates("score_", ServedColumn.SCORE, score)
    sql = f"SELECT bucket_, {', '.join(selects)} FROM window_rows GROUP BY GROUPING SETS ((bucket_), ())"
    summaries = {row["bucket_"]: row for row in _records(connection, sql)}
    effective: dict[int | None, dict[str, float]] = {}
    for key in (key for key in ENTITY_KEYS if key in available):
        sql = (
            "SELECT bucket_, sum(w) * sum(w) / sum(w * w) AS n FROM (SELECT bucket_, count(*)::DOUBLE AS w "
            f"FROM window_rows GROUP BY GROUPING SETS ((bucket_, {key}), ({key}))) GROUP BY bucket_"
        )
        for row in _records(connection, sql):
            effective.setdefault(row["bucket_"], {})[key] = float(row["n"])

    def window(bucket: int | None, low: datetime, high: datetime) -> Window:
        row = summaries.get(bucket)
        if row is None or not row["rows_"]:
            return _empty(low, high, features, score)
        rows = int(row["rows_"])
        columns: dict[str, ColumnWindow | None] = {}
        for name, reference in features.items():
            if name not in available:
                columns[name] = None
            elif isinstance(reference, NumericReference):
                columns[name] = _numeric_window(row, aliases[name], rows, reference)
            else:
                assert isinstance(reference, CategoricalReference)
                columns[name] = _categorical_window(row, aliases[name], rows)
        window_score = _numeric_window(row, "score_", rows, score) if score is not None else None
        versions = sorted(int(v) for v in row["versions_"] if v is not None)
        return Window(low, high, rows, versions, columns, window_score, effective.get(bucket, {}))

    total = window(None, bounds[0][0], bounds[-1][1])
    return total, [window(index, low, high) for index, (low, high) in enumerate(bounds)]


def _records(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = connection.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
