"""The served-feature log's contract: its columns, their types and its folder layout.

Serving writes it, monitoring and the main job read it; all three name its columns
through :class:`ServedColumn` and its files through :func:`log_glob`.

One row per model answer: the request fields (with the caller's ``transaction_id``,
which labels are joined on), the features that model saw, its score and version, the
request id, the time, and its ``role``:

- ``champion``: the champion answered the caller;
- ``canary``: the challenger answered the caller (canary mode);
- ``shadow``: the challenger scored the request off the request path and the caller
  never saw it (shadow mode). It shares its ``request_id`` with the champion's row
  for the same request, so the two scores can be joined.

``served`` is true for the answer the caller got, so monitoring of what was really
served reads ``served`` rows only. The feature columns follow the fixed ones: the union
of the features of every model the process serves (categorical as strings, the rest as
floats); a model's row leaves the others null. Files are
``<folder>/date=YYYY-MM-DD/part-*.parquet`` (the serving date), read with
``union_by_name`` since the feature columns change with the models.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

import pyarrow as pa

from skewless.model_input import FeatureEncoding

__all__ = ["FIXED_FIELDS", "Role", "ServedColumn", "has_log", "log_glob", "log_schema", "partition_dir"]

Role = Literal["champion", "canary", "shadow"]


class ServedColumn(StrEnum):
    """The fixed columns of the served-feature log (a member formats as its column name)."""

    REQUEST_ID = "request_id"
    SERVED_AT = "served_at"
    MODEL_NAME = "model_name"
    MODEL_VERSION = "model_version"
    ALIAS = "alias"
    ROLE = "role"
    SERVED = "served"
    SCORE = "score"
    DECISION = "decision"
    DEGRADED = "degraded"
    MISSING_COUNT = "missing_count"
    CUSTOMER_ID = "customer_id"
    MERCHANT_ID = "merchant_id"
    AMOUNT = "amount"
    MERCHANT_COUNTRY = "merchant_country"
    CHANNEL = "channel"
    TRANSACTION_TIME = "transaction_time"
    TRANSACTION_ID = "transaction_id"


_UTC_MICROS = pa.timestamp("us", tz="UTC")
_TYPES: dict[ServedColumn, pa.DataType] = {
    ServedColumn.REQUEST_ID: pa.string(),
    ServedColumn.SERVED_AT: _UTC_MICROS,
    ServedColumn.MODEL_NAME: pa.string(),
    ServedColumn.MODEL_VERSION: pa.int64(),
    ServedColumn.ALIAS: pa.string(),
    ServedColumn.ROLE: pa.string(),
    ServedColumn.SERVED: pa.bool_(),
    ServedColumn.SCORE: pa.float64(),
    ServedColumn.DECISION: pa.bool_(),
    ServedColumn.DEGRADED: pa.bool_(),
    ServedColumn.MISSING_COUNT: pa.int64(),
    ServedColumn.CUSTOMER_ID: pa.int64(),
    ServedColumn.MERCHANT_ID: pa.int64(),
    ServedColumn.AMOUNT: pa.float64(),
    ServedColumn.MERCHANT_COUNTRY: pa.string(),
    ServedColumn.CHANNEL: pa.string(),
    ServedColumn.TRANSACTION_TIME: _UTC_MICROS,
    ServedColumn.TRANSACTION_ID: pa.string(),
}
FIXED_FIELDS = [pa.field(column.value, kind) for column, kind in _TYPES.items()]
PARTITION_KEY = "date"


def log_schema(encodings: Iterable[FeatureEncoding]) -> pa.Schema:
    """Fixed columns, then every feature of ``encodings`` (categorical as string, else float)."""
    features: dict[str, pa.DataType] = {}
    for encoding in encodings:
        for name in encoding.features:
            features.setdefault(name, pa.string() if name in encoding.categories else pa.float64())
    return pa.schema(FIXED_FIELDS + [pa.field(name, kind) for name, kind in features.items()])


def partition_dir(folder: Path, day: date | str) -> Path:
    """The folder of one serving day's files."""
    text = day if isinstance(day, str) else day.isoformat()
    return folder / f"{PARTITION_KEY}={text}"


def log_glob(folder: Path) -> str:
    """The glob DuckDB reads (with ``hive_partitioning`` for the ``date`` key)."""
    return str(folder / f"{PARTITION_KEY}=*" / "*.parquet")


def has_log(folder: Path) -> bool:
    """Whether the folder holds any log file yet."""
    return any(folder.glob(f"{PARTITION_KEY}=*/*.parquet"))
