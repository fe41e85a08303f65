"""One feature pipeline, two engines: the SQL in ``sql/`` is written once, in a portable subset
of DuckDB's dialect, run as is by DuckDB and transpiled to Spark SQL with SQLGlot.

The subset (checked on both engines by ``tests/feature_repo/test_spark_profile.py``): input
tables are named views (``transactions``, ``labels``, ``merchants``, ``customers``) that each
engine registers over the same parquet files; parameters are ``$name`` timestamps, rendered
as UTC literals; no window inheritance, no DISTINCT inside a window, no DECIMAL literals
(Spark would keep DECIMAL where DuckDB gives DOUBLE), times through ``epoch_us``. What
SQLGlot cannot express in Spark raises here rather than running differently.

Both engines run the same rewritten tree: ``round(x, n)`` becomes ``round(x * 10^n) / 10^n``,
because the two round a double to n decimals differently at exact halves (DuckDB gave
66.654687 where Spark gave 66.654688), while both round a double to a whole number half away
from zero.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from skewless.errors import ConfigurationError

__all__ = ["INPUT_VIEWS", "pipeline_query", "render", "to_duckdb", "to_spark"]

# The raw tables the pipeline reads, by view name (attributes of skewless.layout.DataLayout).
INPUT_VIEWS = ("transactions", "labels", "merchants", "customers")

_PARAMETER = re.compile(r"\$([a-z_]+)\b")
_COMMENT = re.compile(r"--[^\n]*")


def pipeline_query(name: str) -> str:
    """The SQL of one feature table, as written (DuckDB dialect, ``$name`` parameters)."""
    return (resources.files("feature_repo.pipeline") / "sql" / f"{name}.sql").read_text(encoding="utf-8")


def render(sql: str, parameters: Mapping[str, datetime]) -> str:
    """``sql`` without its comments, each ``$name`` replaced by its value as a UTC ``TIMESTAMPTZ``
    literal.

    Raises:
        ConfigurationError: the SQL names a parameter that is not given.
    """

    def literal(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in parameters:
            raise ConfigurationError(f"pipeline SQL names ${name}, which is not a parameter")
        value = parameters[name]
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        return f"CAST('{moment.strftime('%Y-%m-%d %H:%M:%S')}+00:00' AS TIMESTAMPTZ)"

    return _PARAMETER.sub(literal, _COMMENT.sub("", sql))


def _same_rounding(node: exp.Expression) -> exp.Expression:
    """``round(x, n)`` as ``round(x * 10^n) / 10^n``: one result on both engines."""
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        scale = exp.Literal.number(10 ** int(node.args["decimals"].name))
        whole = exp.Round(this=exp.Mul(this=exp.paren(node.this.copy()), expression=scale.copy()))
        return exp.Div(this=whole, expression=scale)
    return node


def _spark_functions(node: exp.Expression) -> exp.Expression:
    """DuckDB functions SQLGlot leaves as they are, renamed to Spark's equivalents."""
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "epoch_us":
        return exp.Anonymous(this="UNIX_MICROS", expressions=node.expressions)
    return node


def _tree(sql: str) -> exp.Expression:
    return sqlglot.parse_one(sql, read="duckdb").transform(_same_rounding)


def to_duckdb(sql: str) -> str:
    """Rendered pipeline SQL as DuckDB runs it (the portable rewrites applied)."""
    return _tree(sql).sql(dialect="duckdb", comments=False)


def to_spark(sql: str) -> str:
    """Transpile rendered pipeline SQL from DuckDB's dialect to Spark SQL.

    Raises:
        ConfigurationError: the SQL uses something SQLGlot cannot write for Spark.
    """
    try:
        return (
            _tree(sql)
            .transform(_spark_functions)
            .sql(dialect="spark", unsupported_level=ErrorLevel.RAISE, comments=False)
        )
    except sqlglot.errors.SqlglotError as e:
        raise ConfigurationError(f"pipeline SQL is not portable to Spark: {e}") from e
