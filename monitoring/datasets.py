"""Drift between any two datasets: the checks monitoring runs on served traffic, on your own tables.

``compare_datasets(reference, current)`` profiles the reference as training is profiled
(``skewless.reference_profile``: percentile grid, PSI deciles, category frequencies,
null rates), summarises the current table against that profile in one DuckDB scan, and
judges every column with the monitoring rules (``monitoring.drift``): KS and
chi-square tests, significant *and* material, Bonferroni over the columns, null-rate
rises, unseen categories, constant columns. Each verdict carries its effect size (KS
or Jensen-Shannon distance, PSI, Wasserstein in standard deviations).

Either side is a pandas DataFrame or a path: a parquet file, a folder of parquet files,
or a CSV file. Both are read where they lie: the reference one column at a time (it is
profiled once), the current table in one DuckDB scan. Numeric columns are compared as distributions; text,
boolean and category columns (and those named in ``categorical``) as categories;
date-time columns are left out (they always move).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from monitoring.config import DriftRules
from monitoring.drift import WindowDrift, judge_window
from monitoring.reference import ModelReference, parse_profile
from monitoring.windows import summarise_table
from skewless.errors import DatasetError
from skewless.reference_profile import PROFILE_VERSION, profile_column

__all__ = ["DatasetDrift", "Source", "compare_datasets"]

Source = pd.DataFrame | Path | str
# The window's nominal span: a day, so no column is set aside as following the daily cycle.
_SPAN_START = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class DatasetDrift:
    """The verdict on ``current`` against ``reference``, column by column."""

    reference: str
    current: str
    reference_rows: int
    current_rows: int
    columns: list[str]
    categorical: list[str]
    prediction: str | None
    skipped: dict[str, str]  # column → why it was not compared
    drift: WindowDrift
    rules: DriftRules
    seconds: float

    @property
    def verdict(self) -> str:
        return self.drift.verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "current": self.current,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "verdict": self.verdict,
            "drifted": self.drift.drifted,
            "prediction_drift": self.drift.score.status if self.drift.score else None,
            "columns": self.columns,
            "categorical": self.categorical,
            "prediction": self.prediction,
            "skipped": self.skipped,
            "drift": self.drift.to_dict(),
            "rules": asdict(self.rules),
            "seconds": self.seconds,
        }


def _describe(source: Source) -> str:
    return "DataFrame" if isinstance(source, pd.DataFrame) else str(source)


def _relation_sql(path: Path) -> str:
    """A DuckDB relation reading ``path`` (parquet file or folder, CSV file)."""
    if not path.exists():
        raise DatasetError(f"no such file or folder: {path}")
    quoted = str(path).replace("'", "''")
    if path.is_dir():
        if not any(path.rglob("*.parquet")):
            raise DatasetError(f"{path} holds no .parquet files")
        return f"read_parquet('{quoted}/**/*.parquet', union_by_name = true)"
    if path.suffix.lower() in (".csv", ".tsv", ".txt"):
        return f"read_csv('{quoted}')"
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet('{quoted}')"
    raise DatasetError(f"{path}: not a parquet or CSV file (give .parquet, .csv or a folder of parquet)")


_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")  # fmt: skip
_CATEGORY_TYPES = ("VARCHAR", "BOOLEAN", "ENUM")
_TIME_TYPES = ("DATE", "TIME", "TIMESTAMP", "INTERVAL")


def _kind_of_type(sql_type: str) -> str:
    """``numeric``, ``categorical``, ``time`` or ``other`` for a DuckDB column type."""
    base = sql_type.upper().split("(")[0].strip()
    if base.startswith(_TIME_TYPES):
        return "time"
    if base in _NUMERIC_TYPES:
        return "numeric"
    if base in _CATEGORY_TYPES:
        return "categorical"
    return "other"


def _kind_of_dtype(dtype: Any) -> str:
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "time"
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return "numeric"
    return "categorical"


class _Table:
    """One side of a comparison: its columns' kinds, and one column at a time (a path is never loaded
    whole: a 1M-row reference is profiled a column at a time)."""

    def __init__(self, source: Source, connection: duckdb.DuckDBPyConnection, name: str) -> None:
        self.source = source
        self.connection = connection
        if isinstance(source, pd.DataFrame):
            connection.register(name, source)
            self.relation = name
        else:
            self.relation = _relation_sql(Path(source))
        described = connection.execute(f"DESCRIBE SELECT * FROM {self.relation}").fetchall()
        self.sql_kinds = {str(row[0]): _kind_of_type(str(row[1])) for row in described}
        if isinstance(source, pd.DataFrame):
            self.kinds = {str(c): _kind_of_dtype(source[c].dtype) for c in source.columns}
        else:
            self.kinds = dict(self.sql_kinds)

    def category_sql(self, name: str) -> str:
        """``name`` as category text, written the same way on both sides: DuckDB's text of the value,
        a whole number without its ``.0`` (a code column read as float where a value is missing)."""
        column = _quoted(name)
        if self.sql_kinds.get(name) == "numeric":
            return (
                f"CASE WHEN {column} = trunc({column}) AND abs({column}) < 1e15 "
                f"THEN CAST(CAST({column} AS BIGINT) AS VARCHAR) ELSE CAST({column} AS VARCHAR) END"
            )
        return f"CAST({column} AS VARCHAR)"

    def categories(self, name: str) -> pd.Series:
        """One column as category text (see :meth:`category_sql`), nulls kept."""
        series: pd.Series = self.connection.sql(
            f"SELECT {self.category_sql(name)} AS {_quoted(name)} FROM {self.relation}"
        ).df()[name]
        return series

    def column(self, name: str) -> pd.Series:
        if isinstance(self.source, pd.DataFrame):
            return self.source[name]
        series: pd.Series = self.connection.sql(f"SELECT {_quoted(name)} FROM {self.relation}").df()[name]
        return series

    def rows(self) -> int:
        if isinstance(self.source, pd.DataFrame):
            return len(self.source)
        counted = self.connection.execute(f"SELECT count(*) FROM {self.relation}").fetchone()
        return int(counted[0]) if counted else 0


def _kinds(
    table: _Table, columns: list[str] | None, categorical: list[str], prediction: str | None
) -> tuple[list[str], list[str], dict[str, str]]:
    """The columns to compare, the categorical ones among them, and those left out (with why)."""
    names = columns if columns is not None else [c for c in table.kinds if c != prediction]
    wanted = [*names, *categorical, *([prediction] if prediction else [])]
    unknown = [n for n in wanted if n not in table.kinds]
    if unknown:
        raise DatasetError(f"not columns of the reference: {', '.join(unknown)}")
    kept, kinds, skipped = [], [], {}
    for name in names:
        kind = table.kinds[name]
        if kind == "time":
            skipped[name] = "a date or time: it moves by construction"
            continue
        if kind == "other" and name not in categorical:
            skipped[name] = "not a scalar column (a list or a struct)"
            continue
        kept.append(name)
        if name in categorical or kind != "numeric":
            kinds.append(name)
    return kept, kinds, skipped


def compare_datasets(
    reference: Source,
    current: Source,
    categorical: list[str] | None = None,
    columns: list[str] | None = None,
    prediction: str | None = None,
    rules: DriftRules | None = None,
) -> DatasetDrift:
    """Judge every column of ``current`` against ``reference`` (see the module's description).

    Args:
        reference: the baseline (e.g. the training data).
        current: the table to judge (e.g. this week's inputs).
        categorical: columns to compare as categories even if numeric (e.g. codes).
        columns: the columns to compare (default: every column of the reference).
        prediction: a column of model scores, judged on its own as prediction drift.
        rules: thresholds (default: the monitoring defaults).

    Raises:
        DatasetError: a table cannot be read, or a named column is not in the reference.
    """
    started = time.perf_counter()
    rules = replace(rules or DriftRules(), daily_cycle_features=())
    try:
        with duckdb.connect() as connection:
            connection.execute("SET TimeZone = 'UTC'")
            base = _Table(reference, connection, "reference_table")
            names, kinds, skipped = _kinds(base, columns, list(categorical or []), prediction)
            profiles = {}
            for name in names:  # one column in memory at a time
                categorical_column = name in kinds
                values = base.categories(name) if categorical_column else base.column(name)
                profiles[name] = profile_column(values, categorical_column)
            scores = base.column(prediction) if prediction else pd.Series(np.zeros(0))
            profile = {
                "version": PROFILE_VERSION,
                "rows": base.rows(),
                "features": profiles,
                "prediction": profile_column(pd.to_numeric(scores, errors="coerce"), categorical=False),
            }
            rows, features, score = parse_profile(profile)
            model = ModelReference(
                model_name="reference", version=0, rows=rows, features=features, score=score,
                decision_threshold=0.5, review_cost=0.0, holdout_auc=None, cutoff=_SPAN_START,
                feature_service="",
            )  # fmt: skip
            judged = _Table(current, connection, "current_table")
            present = [n for n in names if n in judged.kinds]
            score_column = prediction is not None and prediction in judged.kinds
            selected = [
                f"{judged.category_sql(n)} AS {_quoted(n)}" if n in kinds else _quoted(n) for n in present
            ]
            if score_column:
                selected.append(f"{_quoted(str(prediction))} AS score")
            window = summarise_table(
                connection,
                f"(SELECT {', '.join(selected) or '1 AS no_columns_'} FROM {judged.relation})",
                features,
                score if score_column else None,
                _SPAN_START,
                _SPAN_START + timedelta(days=1),
            )
    except duckdb.Error as e:
        raise DatasetError(f"cannot read {_describe(reference)} or {_describe(current)}: {e}") from e
    drift = judge_window(model, window, rules)
    return DatasetDrift(
        reference=_describe(reference),
        current=_describe(current),
        reference_rows=rows,
        current_rows=window.rows,
        columns=names,
        categorical=kinds,
        prediction=prediction,
        skipped=skipped,
        drift=drift,
        rules=rules,
        seconds=time.perf_counter() - started,
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
