"""Point-in-time correctness of Feast retrieval on crafted feature rows."""

from __future__ import annotations

import shutil

import pandas as pd
import pyarrow as pa

from feature_repo.operations import apply_feature_repo, open_feature_store
from feature_repo.pipeline import build_features
from simulation import simulate
from skewless.atomic import write_parquet_atomic
from skewless.settings import Settings
from tests.conftest import QUIET
from tests.factories import tiny_config

T0 = pd.Timestamp("2026-01-10 10:00", tz="UTC")
HOUR = pd.Timedelta(hours=1)
DAY = pd.Timedelta(days=1)


def _craft_customer_activity(settings: Settings) -> None:
    """Replace the customer_activity table by hand-written rows of the same schema."""
    folder = settings.layout.feature_table_dir("customer_activity")
    template = pd.read_parquet(folder).iloc[[0]]
    shutil.rmtree(folder)
    rows = []
    for customer, when, mean in [(1, T0, 10.0), (1, T0 + 2 * HOUR, 99.0), (2, T0, 20.0)]:
        row = template.copy()
        row[["customer_id", "event_timestamp", "created", "amount_mean_30d"]] = [customer, when, when, mean]
        rows.append(row)
    crafted = pd.concat(rows, ignore_index=True)
    write_parquet_atomic(pa.Table.from_pandas(crafted, preserve_index=False), folder / "crafted.parquet")


def test_historical_features_never_look_ahead_and_respect_ttl(workspace: Settings) -> None:
    simulate(tiny_config(), workspace.layout, QUIET)
    build_features(workspace.layout, QUIET)
    _craft_customer_activity(workspace)
    apply_feature_repo(workspace)
    cases = [
        (1, T0 - HOUR, None),  # nothing known yet
        (1, T0, 10.0),  # a value is usable from its own timestamp
        (1, T0 + HOUR, 10.0),  # the later value (99) exists but must not be used
        (1, T0 + 3 * HOUR, 99.0),
        (2, T0 + 29 * DAY, 20.0),  # within the 30-day TTL
        (2, T0 + 31 * DAY, None),  # older than the TTL: null, not a stale value
    ]
    entity_df = pd.DataFrame(
        [{"customer_id": c, "event_timestamp": t, "case": i} for i, (c, t, _) in enumerate(cases)]
    )
    store = open_feature_store(workspace)
    got = (
        store.get_historical_features(entity_df=entity_df, features=["customer_activity:amount_mean_30d"])
        .to_df()
        .sort_values("case")
    )
    for (_, _, expected), value in zip(cases, got["amount_mean_30d"], strict=True):
        if expected is None:
            assert pd.isna(value)
        else:
            assert value == expected


def test_a_transaction_at_the_instant_its_account_opens_sees_its_profile(built_workspace: Settings) -> None:
    """Offline (state as of 1 µs before) and online alike: the profile is valid from the opening."""
    from feature_repo.operations import historical_features, lookup_online_features

    customers = pd.read_parquet(built_workspace.layout.customers).sort_values("account_open_time")
    customer = customers.iloc[-1]  # the newest account
    opened = pd.Timestamp(customer["account_open_time"]).tz_convert("UTC")
    request = {"customer_id": int(customer["customer_id"]), "merchant_id": 1, "amount": 25.0,
               "merchant_country": "US", "channel": "online", "transaction_time": opened}  # fmt: skip
    store = open_feature_store(built_workspace)
    offline = historical_features(store, "fraud_detection_v1", pd.DataFrame([request])).iloc[0]
    online = lookup_online_features(store, "fraud_detection_v1", [{**request, "transaction_time": opened}])
    assert offline["credit_limit"] == customer["credit_limit"] == online["credit_limit"][0]
    assert offline["account_age_days"] == online["account_age_days"][0] == 0.0
