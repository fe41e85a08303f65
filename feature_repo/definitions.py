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
from feast.types import Array, Float64, Int64, String, UnixTimestamp

from skewless.contract import (
    CREATED_TIMESTAMP,
    CUSTOMER_ACTIVITY,
    CUSTOMER_ACTIVITY_PUSH,
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
customer_activity_push = PushSource(name=CUSTOMER_ACTIVITY_PUSH, batch_source=customer_activity_source)

customer_activity_view = FeatureView(
    name=CUSTOMER_ACTIVITY,
    entities=[customer],
    ttl=timedelta(days=30),
    schema=[
        Field(name="txn_count_1h", dtype=Int64, description="Transactions in the last hour"),
        Field(
            name="txn_times_1h",
            dtype=Array(Float64),
            description="Epoch seconds (whole) of the transactions in the last hour; feeds txn_count_1h_now",
        ),
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
        Field(name="last_txn_time", dtype=UnixTimestamp, description="When this state was last updated"),
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


transaction_context_schema = [
    Field(name="txn_amount", dtype=Float64),
    Field(name="txn_channel", dtype=String),
    Field(name="amount_to_mean_30d", dtype=Float64),
    Field(name="amount_zscore_30d", dtype=Float64),
    Field(name="is_foreign", dtype=Float64),
    Field(name="hour_of_day", dtype=Int64),
    Field(name="is_night", dtype=Int64),
    Field(name="account_age_days", dtype=Float64),
    Field(name="is_new_account", dtype=Float64),
    Field(name="seconds_since_last_txn", dtype=Float64),
    Field(name="txn_count_1h_now", dtype=Float64),
]


@on_demand_feature_view(
    sources=[transaction_request, customer_activity_view, customer_profile_view],
    schema=transaction_context_schema,
    mode="python",
    description="Request-time transforms; the only place these are computed",
)
def transaction_context(inputs: dict[str, list]) -> dict[str, list]:
    """Transforms of the incoming transaction against the customer's stored state.

    Python mode (dicts of lists, one entry per row) keeps an online lookup under a
    millisecond; the same function runs for historical retrieval. Feast stores this
    function's source in a namespace without this module's globals, so everything
    it needs is imported and named inside it, and its annotations use builtins only.
    A missing input (unknown customer, TTL expired, broken pipeline) gives a
    missing output, never a guess.
    """
    from datetime import UTC, datetime

    new_account_days = 30
    night_end_hour = 6

    def missing(value: object) -> bool:
        if value is None:
            return True
        try:
            return bool(value != value)  # NaN and NaT are not equal to themselves
        except TypeError:  # pandas.NA refuses to be a bool
            return True

    def moment(value: object) -> datetime | None:
        if missing(value):
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromtimestamp(float(value), tz=UTC)  # type: ignore[arg-type]

    names = ("txn_amount", "txn_channel", "amount_to_mean_30d", "amount_zscore_30d", "is_foreign")
    names += ("hour_of_day", "is_night", "account_age_days", "is_new_account")
    names += ("seconds_since_last_txn", "txn_count_1h_now")
    out: dict[str, list] = {name: [] for name in names}
    rows = zip(
        inputs["amount"],
        inputs["channel"],
        inputs["merchant_country"],
        inputs["transaction_time"],
        inputs["amount_mean_30d"],
        inputs["amount_std_30d"],
        inputs["home_country"],
        inputs["account_open_time"],
        inputs["last_txn_time"],
        inputs["txn_times_1h"],
        strict=True,
    )
    for amount, channel, country, when_raw, mean, std, home, opened_raw, last_raw, times_1h in rows:
        when, opened, last = moment(when_raw), moment(opened_raw), moment(last_raw)
        gap = None if when is None or last is None else (when - last).total_seconds()
        has_mean, has_std = not missing(mean) and mean > 0, not missing(std) and std > 0
        age_days = None if when is None or opened is None else (when - opened).total_seconds() / 86_400.0
        out["txn_amount"].append(float(amount))
        out["txn_channel"].append(str(channel))
        out["amount_to_mean_30d"].append(amount / mean if has_mean else None)
        out["amount_zscore_30d"].append((amount - mean) / std if has_mean and has_std else None)
        out["is_foreign"].append(None if missing(home) else float(country != home))
        out["hour_of_day"].append(None if when is None else when.hour)
        out["is_night"].append(None if when is None else int(when.hour < night_end_hour))
        out["account_age_days"].append(age_days)
        out["is_new_account"].append(None if age_days is None else float(age_days < new_account_days))
        out["seconds_since_last_txn"].append(gap)
        # Transactions in the hour up to and including this one: this one, and those of the
        # stored hour (as of the last transaction) not yet an hour old now, in whole seconds
        # as the online store keeps times.
        if gap is None or when is None:
            out["txn_count_1h_now"].append(None)
        else:
            since = int(when.timestamp()) - 3_600
            stored = list(times_1h) if isinstance(times_1h, list | tuple) else []
            if getattr(times_1h, "ndim", 0) == 1:  # a numpy array, as the offline path passes it
                stored = times_1h.tolist()
            out["txn_count_1h_now"].append(1.0 + sum(1.0 for t in stored if t >= since))
    return out


fraud_detection_v1 = FeatureService(
    name=FEATURE_SERVICE_V1,
    features=[
        # last_txn_time and txn_times_1h feed the transforms; they are not model inputs.
        customer_activity_view[
            [
                f.name
                for f in customer_activity_view.features
                if f.name not in ("last_txn_time", "txn_times_1h")
            ]
        ],
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
