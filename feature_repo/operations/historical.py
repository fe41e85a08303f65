"""Point-in-time feature retrieval for given requests: training sets and the skew check."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
from feast import FeatureStore

from feature_repo.operations.services import get_feature_service
from skewless.contract import EVENT_TIMESTAMP

__all__ = ["ONE_MICROSECOND", "historical_features"]

ONE_MICROSECOND = timedelta(microseconds=1)


def historical_features(store: FeatureStore, service: str, requests: pd.DataFrame) -> pd.DataFrame:
    """The features of ``service`` for each request, as the online store held them when it arrived.

    Args:
        store: the feature store.
        service: feature service name.
        requests: one row per request with the entity keys, the request fields and
            ``transaction_time`` (UTC); other columns are carried through.

    Returns:
        ``requests`` joined with the service's features, in any order, with the exact
        ``transaction_time`` kept. Each row asks for the state as of one microsecond
        before its transaction, which is what the online store holds when that
        transaction arrives. The request-time transforms see ``transaction_time``
        to the whole second, as Feast's online path carries it (found by the
        training-serving parity test).
    """
    exact = requests["transaction_time"]
    entity_df = requests.assign(
        **{EVENT_TIMESTAMP: exact - ONE_MICROSECOND, "transaction_time": exact.dt.floor("s")},
        _row=range(len(requests)),
    )
    joined = store.get_historical_features(
        entity_df=entity_df, features=get_feature_service(store, service)
    ).to_df()
    for name in joined.columns:
        # Spark's store answers UTC times without their zone (its session runs in UTC) and in
        # nanoseconds; DuckDB's in the feature tables' microseconds with the zone. The requests'
        # own columns come back as they went in.
        if isinstance(joined[name].dtype, np.dtypes.DateTime64DType):
            joined[name] = joined[name].dt.tz_localize("UTC").astype("datetime64[us, UTC]")
        if name in requests.columns and isinstance(requests[name].dtype, pd.DatetimeTZDtype):
            joined[name] = joined[name].astype(requests[name].dtype)
    # .array keeps the column's own unit and time zone (to_numpy would drop the zone).
    joined["transaction_time"] = exact.reset_index(drop=True).iloc[joined["_row"].to_numpy()].array
    result: pd.DataFrame = joined.drop(columns="_row")
    return result
