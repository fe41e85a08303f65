"""A served-feature log as the API would have written it over past days.

Replaying weeks of simulated traffic through the API would need the online store
rewound day by day. Instead each past transaction gets the features
``get_historical_features`` gives for it (the same point-in-time lookup the skew
check proves equal to what the API serves) and the champion's score, and the rows
are written in the API's log schema and partition layout.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow as pa

from feature_repo.operations import historical_features, open_feature_store
from serving.log_records import log_schema
from serving.model_source import ServingModel, load_model
from skewless.atomic import write_parquet_atomic
from skewless.settings import Settings
from skewless.tracking import CHAMPION, configure_mlflow

REQUEST_COLUMNS = [
    "transaction_id",
    "customer_id",
    "merchant_id",
    "amount",
    "merchant_country",
    "channel",
    "transaction_time",
]


def served_history(settings: Settings, start: datetime, end: datetime, alias: str = CHAMPION) -> pd.DataFrame:
    """The log rows the model at ``alias`` would have written for transactions in [start, end)."""
    model = load_model(configure_mlflow(settings), settings.model_name, alias)
    transactions = pd.read_parquet(settings.layout.transactions, columns=REQUEST_COLUMNS)
    times = transactions["transaction_time"]
    window = transactions[(times >= pd.Timestamp(start)) & (times < pd.Timestamp(end))].reset_index(drop=True)
    features = historical_features(open_feature_store(settings), model.feature_service, window)
    return _log_rows(features, model)


def _log_rows(features: pd.DataFrame, model: ServingModel) -> pd.DataFrame:
    scores = model.predict(model.encoding.encode(features))
    rows = features.assign(
        request_id=[f"history-{i}" for i in features["transaction_id"]],
        transaction_id=features["transaction_id"].astype(str),
        served_at=features["transaction_time"],
        model_name=model.name,
        model_version=model.version,
        alias=model.alias,
        role="champion",
        served=True,
        score=scores,
        decision=scores >= model.threshold,
        degraded=False,
        missing_count=features[model.encoding.features].isna().sum(axis=1),
    )
    return rows.sort_values("served_at").reset_index(drop=True)


def write_served_log(settings: Settings, rows: pd.DataFrame, models: list[ServingModel] | None = None) -> int:
    """Write ``rows`` into the served-feature log, one file per day; returns the row count."""
    if models is None:
        models = [load_model(configure_mlflow(settings), settings.model_name, CHAMPION)]
    schema = log_schema(models)
    days = rows["served_at"].dt.strftime("%Y-%m-%d")
    for day, part in rows.groupby(days):
        frame = part.reindex(columns=schema.names)
        for field in schema:
            if pa.types.is_string(field.type):
                frame[field.name] = frame[field.name].astype("string")
        table = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
        write_parquet_atomic(table, settings.layout.served_log_dir / f"date={day}" / "part-history.parquet")
    return len(rows)
