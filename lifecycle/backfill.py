"""A served-feature log as the API would have written it for past transactions.

Replaying weeks of traffic through the API would need the online store rewound day
by day. Instead each past transaction gets the features ``get_historical_features``
gives for it (the same point-in-time lookup the skew check proves equal to what the
API serves) and the model's score, and the rows are written in the log's schema and
partition layout. Monitoring can then judge history it never served live (a new
model's first weeks, a benchmark's million rows).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from feature_repo.operations import historical_features, open_feature_store
from skewless.atomic import write_parquet_atomic
from skewless.registry import CHAMPION, ModelRegistry, RegisteredModel
from skewless.served_log import ServedColumn, log_schema, partition_dir
from skewless.settings import Settings

__all__ = ["backfill_rows", "write_backfill"]

REQUEST_COLUMNS = [
    "transaction_id",
    "customer_id",
    "merchant_id",
    "amount",
    "merchant_country",
    "channel",
    "transaction_time",
]


def backfill_rows(
    settings: Settings, registry: ModelRegistry, start: datetime, end: datetime, alias: str = CHAMPION
) -> pd.DataFrame:
    """The log rows the model at ``alias`` would have written for the transactions in ``[start, end)``."""
    model = registry.load(alias)
    transactions = pd.read_parquet(settings.layout.transactions, columns=REQUEST_COLUMNS)
    times = transactions["transaction_time"]
    window = transactions[(times >= pd.Timestamp(start)) & (times < pd.Timestamp(end))].reset_index(drop=True)
    features = historical_features(open_feature_store(settings), model.feature_service, window)
    return _log_rows(features, model)


def _log_rows(features: pd.DataFrame, model: RegisteredModel) -> pd.DataFrame:
    c = ServedColumn
    scores = model.predict(model.encoding.encode(features))
    values: dict[str, Any] = {
        c.REQUEST_ID: [f"history-{i}" for i in features["transaction_id"]],
        c.TRANSACTION_ID: features["transaction_id"].astype(str),
        c.SERVED_AT: features["transaction_time"],
        c.MODEL_NAME: model.name,
        c.MODEL_VERSION: model.version,
        c.ALIAS: model.alias,
        c.ROLE: "champion",
        c.SERVED: True,
        c.SCORE: scores,
        c.DECISION: scores >= model.threshold,
        c.DEGRADED: False,
        c.MISSING_COUNT: features[model.encoding.features].isna().sum(axis=1),
    }
    rows = features.assign(**{str(column): value for column, value in values.items()})
    return rows.sort_values(str(c.SERVED_AT)).reset_index(drop=True)


def write_backfill(settings: Settings, rows: pd.DataFrame, models: list[RegisteredModel]) -> int:
    """Write ``rows`` into the served-feature log, one file per day; returns the row count."""
    schema = log_schema(model.encoding for model in models)
    days = rows[str(ServedColumn.SERVED_AT)].dt.strftime("%Y-%m-%d")
    for day, part in rows.groupby(days):
        frame = part.reindex(columns=schema.names)
        for field in schema:
            if pa.types.is_string(field.type):
                frame[field.name] = frame[field.name].astype("string")
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        write_parquet_atomic(
            table, partition_dir(settings.layout.served_log_dir, str(day)) / "part-history.parquet"
        )
    return len(rows)
