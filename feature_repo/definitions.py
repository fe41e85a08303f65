"""The one place Skewless features are defined; `feast apply` reads this file.

Training (`get_historical_features`), serving (`get_online_features`) and monitoring
all reach these definitions through the feature service of a model version, so a
feature or a request-time transform is written here and nowhere else.

Time semantics: a customer_activity row at time t describes the customer's history
in windows ending at t, inclusive; merchant_stats rows are daily snapshots as of
00:00 UTC over the 30 days before; customer_profile is valid from account opening.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
from feast import (
    Entity,
    FeatureService,
    FeatureView,
    Field,
    FileSource,
    Project,
    PushSource,
    RequestSource,
    ValueType,
)
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, Int64, String, UnixTimestamp

from skewless.contract import (
    CREATED_TIMESTAMP,
    CUSTOMER_ACTIVITY,
    CUSTOMER_KEY,
    CUSTOMER_PROFILE,
    EVENT_TIMESTAMP,
    FEATURE_SERVICE_V1,
    MERCHANT_KEY,
    MERCHANT_STATS,
    PROJECT,
    TRANSACTION_CONTEXT,
)
from skewless.layout import DataLayout

# Feature tables live in the workspace's data/ folder, beside this repo (as in `feast init`).
LAYOUT = DataLayout(Path(__file__).resolve().parent.parent / "data")

project = Project(name=PROJECT, description="Card-payment fraud detection on a simulated world")

customer = Entity(
    name="customer", join_keys=[CUSTOMER_KEY], value_type=ValueType.INT64, description="A card holder"
)
merchant = Entity(
    name="merchant", join_keys=[MERCHANT_KEY], value_type=ValueType.INT64, description="A card acceptor"
)

customer_activity_source = FileSource(
    name="customer_activity_source",
    path=LAYOUT.feature_table_glob(CUSTOMER_ACTIVITY),
    timestamp_field=EVENT_TIMESTAMP,
    created_timestamp_column=CREATED_TIMESTAMP,
    description="Per-transaction customer velocity and amount statistics (daily parquet files)",
)
# Fresh statistics can be pushed straight to the online store (and logged offline).
customer_activity_push = PushSource(name="customer_activity_push", batch_source=customer_activity_source)

customer_activity_view = FeatureView(
    name=CUSTOMER_ACTIVITY,
    entities=[customer],
    ttl=timedelta(days=30),
    schema=[
        Field(name="txn_count_1h", dtype=Int64, description="Transactions in the last hour"),
        Field(name="txn_count_24h", dtype=Int64, description="Transactions in the last 24 hours"),
        Field(name="txn_count_7d", dtype=Int64, description="Transactions in the last 7 days"),
        Field(name="amount_sum_7d", dtype=Float64),
        Field(name="amount_mean_7d", dtype=Float64),
        Field(name="amount_std_7d", dtype=Float64),
        Field(name="amount_sum_30d", dtype=Float64),
        Field(name="amount_mean_30d", dtype=Float64),
        Field(name="amount_std_30d", dtype=Float64),
        Field(name="distinct_merchants_7d", dtype=Int64),
        Field(name="seconds_since_prev_txn", dtype=Float64, description="Null when none in 30 days"),
    ],
    source=customer_activity_push,
    online=True,
    tags={"owner": "fraud-ml", "refresh": "per transaction"},
)

customer_profile_source = FileSource(
    name="customer_profile_source",
    path=str(LAYOUT.feature_table_file(CUSTOMER_PROFILE)),
    timestamp_field=EVENT_TIMESTAMP,
    created_timestamp_column=CREATED_TIMESTAMP,
)
customer_profile_view = FeatureView(
    name=CUSTOMER_PROFILE,
    entities=[customer],
    # Bounded but long: a profile is valid from account opening (up to 5 years back).
    ttl=timedelta(days=3_650),
    schema=[
        Field(name="home_country", dtype=String),
        Field(name="age_band", dtype=String),
        Field(name="credit_limit", dtype=Float64),
        Field(name="account_open_time", dtype=UnixTimestamp),
    ],
    source=customer_profile_source,
    online=True,
)

merchant_stats_source = FileSource(
    name="merchant_stats_source",
    path=LAYOUT.feature_table_glob(MERCHANT_STATS),
    timestamp_field=EVENT_TIMESTAMP,
    created_timestamp_column=CREATED_TIMESTAMP,
)
merchant_stats_view = FeatureView(
    name=MERCHANT_STATS,
    entities=[merchant],
    ttl=timedelta(days=2),
    schema=[
        Field(name="merchant_category", dtype=String),
        Field(name="merchant_txn_count_30d", dtype=Int64),
        Field(name="merchant_amount_mean_30d", dtype=Float64),
        Field(name="merchant_chargebacks_30d", dtype=Int64),
        Field(
            name="merchant_chargeback_rate_30d",
            dtype=Float64,
            description="Chargebacks known before the snapshot / transactions, last 30 days",
        ),
    ],
    source=merchant_stats_source,
    online=True,
)

transaction_request = RequestSource(
    name="transaction_request",
    schema=[
        Field(name="amount", dtype=Float64),
        Field(name="merchant_country", dtype=String),
        Field(name="channel", dtype=String),
        Field(name="transaction_time", dtype=UnixTimestamp),
    ],
)


@on_demand_feature_view(
    sources=[transaction_request, customer_activity_view, customer_profile_view],
    schema=[
        Field(name="txn_amount", dtype=Float64),
        Field(name="txn_channel", dtype=String),
        Field(name="amount_to_mean_30d", dtype=Float64),
        Field(name="amount_zscore_30d", dtype=Float64),
        Field(name="is_foreign", dtype=Float64),
        Field(name="hour_of_day", dtype=Int64),
        Field(name="is_night", dtype=Int64),
        Field(name="account_age_days", dtype=Float64),
        Field(name="is_new_account", dtype=Float64),
    ],
    mode="pandas",
    description="Request-time transforms; the only place these are computed",
)
def transaction_context(inputs: pd.DataFrame) -> pd.DataFrame:
    """Transforms of the incoming transaction against the customer's stored state.

    Feast stores this function's source and runs it without this module's globals,
    so everything it needs is imported and named inside it.
    """
    import numpy as np
    import pandas as pd

    new_account_days = 30
    night_end_hour = 6
    amount = inputs["amount"].astype("float64")
    mean = inputs["amount_mean_30d"].astype("float64")
    std = inputs["amount_std_30d"].astype("float64")
    when = pd.to_datetime(inputs["transaction_time"], utc=True)
    opened = pd.to_datetime(inputs["account_open_time"], utc=True)
    home = inputs["home_country"]
    age_days = (when - opened).dt.total_seconds() / 86_400.0
    out = pd.DataFrame(index=inputs.index)
    out["txn_amount"] = amount
    out["txn_channel"] = inputs["channel"].astype("string")
    out["amount_to_mean_30d"] = amount / mean.where(mean > 0)
    out["amount_zscore_30d"] = (amount - mean) / std.where(std > 0)
    out["is_foreign"] = np.where(home.isna(), np.nan, (inputs["merchant_country"] != home).astype("float64"))
    out["hour_of_day"] = when.dt.hour.astype("int64")
    out["is_night"] = (when.dt.hour < night_end_hour).astype("int64")
    out["account_age_days"] = age_days
    out["is_new_account"] = np.where(age_days.isna(), np.nan, (age_days < new_account_days).astype("float64"))
    return out


fraud_detection_v1 = FeatureService(
    name=FEATURE_SERVICE_V1,
    features=[
        customer_activity_view,
        customer_profile_view[["age_band", "credit_limit"]],
        merchant_stats_view,
        transaction_context,
    ],
    description="Exactly the features of fraud model v1",
    tags={"model": "fraud_detection", "version": "1"},
)

__all__ = [
    "customer",
    "customer_activity_push",
    "customer_activity_view",
    "customer_profile_view",
    "fraud_detection_v1",
    "merchant",
    "merchant_stats_view",
    "project",
    "transaction_context",
    "transaction_request",
]
assert TRANSACTION_CONTEXT == transaction_context.name
