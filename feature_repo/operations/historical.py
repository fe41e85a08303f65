"""Point-in-time feature retrieval for given requests: training sets and the skew check."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

import numpy as np
import pandas as pd
from feast import FeatureStore

from feature_repo.operations.services import get_feature_service, service_inputs
from skewless.contract import EVENT_TIMESTAMP

__all__ = ["ONE_MICROSECOND", "historical_features"]

ONE_MICROSECOND = timedelta(microseconds=1)


def historical_features(
    store: FeatureStore, service: str, requests: pd.DataFrame, columns: Collection[str] | None = None
) -> pd.DataFrame:
    """The features of ``service`` for each request, as the online store held them when it arrived.

    Args:
        store: the feature store.
        service: feature service name.
        requests: one row per request with the entity keys, the request fields and
            ``transaction_time`` (UTC); other columns are carried through.
        columns: the columns of Feast's answer to keep besides the requests' own (the service's
            features, and the feature views' other columns the on-demand views read); all if None.

    Returns:
        ``requests`` joined with the service's features, in the requests' order (a fresh
        index), with the exact
        ``transaction_time`` kept. Each row asks for the state as of one microsecond
        before its transaction, which is what the online store holds when that
        transaction arrives. The request-time transforms see ``transaction_time``
        to the whole second, as Feast's online path carries it (found by the
        training-serving parity test).
    """
    exact = requests["transaction_time"]
    # Feast is handed only the columns it reads; the others join the answer by row afterwards
    # rather than making the round trip through its store (a copy of each in Arrow and in pandas).
    inputs = service_inputs(store, service) - {"transaction_time"}
    entity_df = requests[[name for name in requests.columns if name in inputs]].assign(
        **{EVENT_TIMESTAMP: exact - ONE_MICROSECOND, "transaction_time": exact.dt.floor("s")},
        _row=range(len(requests)),
    )
    table = store.get_historical_features(
        entity_df=entity_df, features=get_feature_service(store, service)
    ).to_arrow()  # as to_df, but Arrow's buffers are freed as pandas takes each column over
    kept = {*entity_df.columns, *(columns if columns is not None else table.column_names)}
    del entity_df
    if columns is not None:  # dropped in Arrow, before pandas makes Python objects of them
        table = table.select([name for name in table.column_names if name in kept])
    joined = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    rows = joined["_row"].to_numpy()
    if len(rows) and (np.diff(rows) < 0).any():  # Spark's store answers in any order: back to the requests'
        joined = joined.iloc[np.argsort(rows, kind="stable")].reset_index(drop=True)
        rows = joined["_row"].to_numpy()
    carried = [name for name in requests.columns if name not in joined.columns and name != EVENT_TIMESTAMP]
    for name in carried:
        joined[name] = requests[name].iloc[rows].array
    for name in joined.columns:
        # Spark's store answers UTC times without their zone (its session runs in UTC) and in
        # nanoseconds; DuckDB's in the feature tables' microseconds with the zone. The requests'
        # own columns come back as they went in.
        if isinstance(joined[name].dtype, np.dtypes.DateTime64DType):
            joined[name] = joined[name].dt.tz_localize("UTC").astype("datetime64[us, UTC]")
        if name in requests.columns and isinstance(requests[name].dtype, pd.DatetimeTZDtype):
            joined[name] = joined[name].astype(requests[name].dtype)
    # .array keeps the column's own unit and time zone (to_numpy would drop the zone).
    joined["transaction_time"] = exact.iloc[rows].array
    result: pd.DataFrame = joined.drop(columns="_row")
    return result
