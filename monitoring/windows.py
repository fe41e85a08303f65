"""Windows of the served-feature log, summarised in DuckDB against the reference bins.

The API writes ``served/date=YYYY-MM-DD/part-*.parquet``. A window is a time range
(and optionally one model version) of the rows really served (``served`` true;
shadow rows are the challenger's and are left out). DuckDB reads only the date
partitions and the columns it needs and returns, per feature, counts in the
reference's cells: nulls, a histogram over the percentile grid for numeric
features, category counts for categorical ones. Memory stays flat however long the
log grows; one pass computes every feature, and ``every`` splits the range into
hourly or daily sub-windows in the same pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from monitoring.errors import ServedLogError
from monitoring.reference import CategoricalReference, NumericReference, Reference

__all__ = [
    "CategoricalWindow",
    "NumericWindow",
    "Window",
    "log_files",
    "summarise_windows",
]

ENTITY_KEYS = ("customer_id", "merchant_id")


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


def log_files(folder: Path) -> str:
    """The glob DuckDB reads for a served-feature log folder."""
    return str(folder / "date=*" / "*.parquet")


def _literal(value: float) -> str:
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _cell_expression(column: str, grid: np.ndarray) -> str:
    """SQL giving the number of grid points strictly below the value: a binary search of CASEs."""

    def search(low: int, high: int) -> str:
        if low == high:
            return str(low)
        middle = (low + high) // 2
        return (
            f"CASE WHEN {column} <= {_literal(grid[middle])} THEN {search(low, middle)} "
            f"ELSE {search(middle + 1, high)} END"
        )

    return f"CASE WHEN {column} IS NULL OR isnan({column}) THEN NULL ELSE {search(0, len(grid))} END"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _numeric_aggregates(alias: str, column: str, reference: NumericReference) -> list[str]:
    valid = f"CASE WHEN isnan({column}) THEN NULL ELSE {column} END"
    return [
        f"count({valid}) AS {alias}_n",
        f"histogram({_cell_expression(column, reference.grid)}) AS {alias}_h",
        f"min({valid}) AS {alias}_min",
        f"max({valid}) AS {alias}_max",
        f"avg({valid}) AS {alias}_avg",
    ]


def _numeric_window(
    row: Mapping[str, Any], alias: str, rows: int, reference: NumericReference
) -> NumericWindow:
    cells = np.zeros(len(reference.grid) + 1, dtype=np.int64)
    for cell, count in (row[f"{alias}_h"] or {}).items():
        cells[int(cell)] = int(count)
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


def _columns_in_log(connection: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    described = connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    return {str(name): str(kind) for name, kind, *_ in described}


def summarise_windows(
    folder: Path,
    features: Mapping[str, Reference],
    score: NumericReference | None,
    start: datetime,
    end: datetime,
    every: timedelta | None = None,
    model_version: int | None = None,
) -> list[Window]:
    """Summaries of the served rows in ``[start, end)``, one per ``every`` (or one in all).

    Args:
        folder: the served-feature log folder (``DataLayout.served_log_dir``).
        features: the reference of each feature to summarise (it gives the cells).
        score: the score's reference, or None to skip the score.
        start: first moment (UTC) of the range, by ``served_at``.
        end: end of the range (exclusive).
        every: split the range into sub-windows of this length; None for one window.
        model_version: only rows of this model version.

    Returns:
        One window per sub-range, empty ones included (``rows`` 0), in time order.

    Raises:
        ServedLogError: a log file cannot be read.
    """
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    step = every or (end - start)
    count = max(1, int(np.ceil((end - start) / step)))
    bounds = [(start + i * step, min(end, start + (i + 1) * step)) for i in range(count)]
    if not list(folder.glob("date=*/*.parquet")):
        return [_empty(a, b, features, score) for a, b in bounds]
    source = f"read_parquet('{log_files(folder)}', hive_partitioning = true, union_by_name = true)"
    try:
        with duckdb.connect() as connection:
            connection.execute("SET TimeZone = 'UTC'")
            available = _columns_in_log(connection, source)
            return _query(connection, source, available, features, score, bounds, start, step, model_version)
    except duckdb.Error as e:
        raise ServedLogError(f"cannot read the served-feature log in {folder}: {e}") from e


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
    source: str,
    available: Mapping[str, str],
    features: Mapping[str, Reference],
    score: NumericReference | None,
    bounds: Sequence[tuple[datetime, datetime]],
    start: datetime,
    step: timedelta,
    model_version: int | None,
) -> list[Window]:
    aliases = {name: f"f{i}" for i, name in enumerate(features)}
    selects = ["count(*) AS rows_", "list(DISTINCT model_version) AS versions_"]
    for name, reference in features.items():
        if name not in available:
            continue
        column, alias = _quote(name), aliases[name]
        if isinstance(reference, NumericReference):
            selects += _numeric_aggregates(alias, column, reference)
        else:
            selects += [f"count({column}) AS {alias}_n", f"histogram(CAST({column} AS VARCHAR)) AS {alias}_h"]
    if score is not None:
        selects += _numeric_aggregates("score_", "score", score)
    keys = [key for key in ENTITY_KEYS if key in available]
    step_s = step.total_seconds()
    bucket = f"CAST(floor((epoch(served_at) - {start.timestamp()!r}) / {step_s!r}) AS BIGINT)"
    where = [
        "served",
        f"served_at >= CAST('{start.isoformat()}' AS TIMESTAMPTZ)",
        f"served_at < CAST('{bounds[-1][1].isoformat()}' AS TIMESTAMPTZ)",
        # Partition pruning: only the date folders the range touches are opened.
        f"date >= CAST('{start.date().isoformat()}' AS DATE)",
        f"date <= CAST('{bounds[-1][1].date().isoformat()}' AS DATE)",
    ]
    if model_version is not None:
        where.append(f"model_version = {int(model_version)}")
    base = f"SELECT *, {bucket} AS bucket_ FROM {source} WHERE {' AND '.join(where)}"
    connection.execute(f"CREATE TEMP VIEW window_rows AS {base}")
    summaries = {
        int(row["bucket_"]): row
        for row in _records(
            connection, f"SELECT bucket_, {', '.join(selects)} FROM window_rows GROUP BY bucket_"
        )
    }
    effective: dict[int, dict[str, float]] = {}
    for key in keys:
        sql = (
            f"SELECT bucket_, sum(w) * sum(w) / sum(w * w) AS n FROM "
            f"(SELECT bucket_, count(*)::DOUBLE AS w FROM window_rows GROUP BY bucket_, {key}) "
            "GROUP BY bucket_"
        )
        for row in _records(connection, sql):
            effective.setdefault(int(row["bucket_"]), {})[key] = float(row["n"])
    windows = []
    for index, (low, high) in enumerate(bounds):
        if index not in summaries:
            windows.append(_empty(low, high, features, score))
            continue
        row = summaries[index]
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
        windows.append(Window(low, high, rows, versions, columns, window_score, effective.get(index, {})))
    return windows


def _records(connection: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = connection.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
