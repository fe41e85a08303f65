"""Drift between any two datasets: the checks monitoring runs on served traffic, on your own tables.

``compare_datasets(reference, current)`` profiles the reference as training is profiled
(``skewless.reference_profile``: percentile grid, PSI deciles, category frequencies,
null rates), summarises the current table against that profile in one DuckDB scan, and
judges every column with the monitoring rules (``monitoring.drift``): KS and
chi-square tests, significant *and* material, Bonferroni over the columns, null-rate
rises, unseen categories, constant columns. Each verdict carries its effect size (KS
or Jensen-Shannon distance, PSI, Wasserstein in standard deviations).

Either side is a pandas DataFrame or a path: a parquet file, a folder of parquet files,
or a CSV file. The reference is read into memory (it is profiled once); the current
table is scanned where it lies. Numeric columns are compared as distributions; text,
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
from skewless.reference_profile import build_reference_profile

__all__ = ["DatasetDrift", "Source", "compare_datasets", "read_dataset"]

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


def read_dataset(source: Source) -> pd.DataFrame:
    """``source`` as a DataFrame (a DataFrame is returned as it is).

    Raises:
        DatasetError: the path is missing, of an unknown kind, or unreadable.
    """
    if isinstance(source, pd.DataFrame):
        return source
    try:
        with duckdb.connect() as connection:
            frame: pd.DataFrame = connection.sql(f"SELECT * FROM {_relation_sql(Path(source))}").df()
            return frame
    except duckdb.Error as e:
        raise DatasetError(f"cannot read {source}: {e}") from e


def _kinds(
    frame: pd.DataFrame, columns: list[str] | None, categorical: list[str], prediction: str | None
) -> tuple[list[str], list[str], dict[str, str]]:
    """The columns to compare, the categorical ones among them, and those left out (with why)."""
    names = columns if columns is not None else [str(c) for c in frame.columns if c != prediction]
    unknown = [n for n in [*names, *categorical, *([prediction] if prediction else [])] if n not in frame]
    if unknown:
        raise DatasetError(f"not columns of the reference: {', '.join(unknown)}")
    kept, kinds, skipped = [], [], {}
    for name in names:
        dtype = frame[name].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            skipped[name] = "a date or time: it moves by construction"
            continue
        kept.append(name)
        numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        if name in categorical or not numeric:
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
    frame = read_dataset(reference)
    names, kinds, skipped = _kinds(frame, columns, list(categorical or []), prediction)
    for name in kinds:  # categories as DuckDB writes them when it reads the current table (true, not True)
        if pd.api.types.is_bool_dtype(frame[name].dtype):
            frame = frame.assign(**{name: frame[name].map({True: "true", False: "false"})})
    scores = frame[prediction].to_numpy(dtype=np.float64) if prediction else np.zeros(0)
    profile = build_reference_profile(frame, names, kinds, scores)
    rows, features, score = parse_profile(profile)
    model = ModelReference(
        model_name="reference", version=0, rows=rows, features=features, score=score,
        decision_threshold=0.5, review_cost=0.0, holdout_auc=None, cutoff=_SPAN_START,
        feature_service="",
    )  # fmt: skip
    selected = [*names, *([prediction] if prediction else [])]
    try:
        with duckdb.connect() as connection:
            connection.execute("SET TimeZone = 'UTC'")
            if isinstance(current, pd.DataFrame):
                connection.register("current_table", current)
                relation = "current_table"
            else:
                relation = _relation_sql(Path(current))
            score_column = ", " + _quoted(prediction) + " AS score" if prediction else ""
            described = connection.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            available = {str(column[0]) for column in described}
            present = [n for n in selected if n in available]
            projection = ", ".join(_quoted(n) for n in present) or "1 AS no_columns_"
            if prediction and prediction not in available:
                score_column = ""
            window = summarise_table(
                connection,
                f"(SELECT {projection}{score_column} FROM {relation})",
                features,
                score if score_column else None,
                _SPAN_START,
                _SPAN_START + timedelta(days=1),
            )
    except duckdb.Error as e:
        raise DatasetError(f"cannot read {_describe(current)}: {e}") from e
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
