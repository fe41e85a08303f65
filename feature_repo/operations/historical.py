"""Point-in-time feature retrieval for given requests: training sets and the skew check."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from feast import FeatureStore

from feature_repo.operations.config import offline_spark_properties
from feature_repo.operations.services import get_feature_service, service_inputs
from skewless.contract import EVENT_TIMESTAMP
from skewless.errors import ConfigurationError, InputError

__all__ = [
    "ONE_MICROSECOND",
    "WrittenFeatures",
    "historical_features",
    "runs_on_spark",
    "write_historical_features",
]

ONE_MICROSECOND = timedelta(microseconds=1)
_ROW = "__skewless_row"  # each request's position, through the store and back


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
        index), with the exact ``transaction_time`` kept. Each row asks for the state as of
        one microsecond before its transaction, which is what the online store holds when
        that transaction arrives. The request-time transforms see ``transaction_time``
        to the whole second, as Feast's online path carries it (found by the
        training-serving parity test).
    """
    entity_df = _entity_rows(store, service, requests)
    job = store.get_historical_features(entity_df=entity_df, features=get_feature_service(store, service))
    return _answer(job.to_arrow, requests, [*entity_df.columns], columns)


def runs_on_spark(store: FeatureStore) -> bool:
    """Whether the store's offline store is Spark's (the spark profile)."""
    return bool(offline_spark_properties(store.config.offline_store))


@dataclass(frozen=True, eq=False)
class WrittenFeatures:
    """Point-in-time features the executors wrote as parquet partitioned by ``partition_by``, read
    back by the driver a partition at a time (or whole): each read is what ``historical_features``
    returns for those requests."""

    folder: Path
    partition_by: str
    requests: pd.DataFrame
    entity_columns: list[str]
    columns: Collection[str] | None

    def values(self) -> list[str]:
        """The partitions' values, sorted (as the executors wrote them: strings)."""
        return sorted(self._folders)

    @cached_property
    def _folders(self) -> dict[str, Path]:
        """Each partition's folder by its value (Spark escapes some characters in the name as %XX)."""
        prefix = f"{self.partition_by}="
        return {unquote(p.name[len(prefix) :]): p for p in self.folder.iterdir() if p.name.startswith(prefix)}

    def read(self, value: str | None = None) -> pd.DataFrame:
        """The requests of partition ``value`` (all if None) with their features, in their order."""

        def fetch() -> pa.Table:  # the partition's values as written, not as Arrow would guess them
            if value is None:
                schema = pa.schema([pa.field(self.partition_by, pa.string())])
                return pq.read_table(self.folder, partitioning=ds.partitioning(schema, flavor="hive"))
            folder = self._folders.get(value)
            if folder is None:
                raise InputError(f"no partition {self.partition_by}={value} in {self.folder}")
            table = pq.read_table(folder)
            return table.append_column(
                self.partition_by, pa.repeat(pa.scalar(value, pa.string()), len(table))
            )

        return _answer(fetch, self.requests, self.entity_columns, self.columns)


def write_historical_features(
    store: FeatureStore,
    service: str,
    requests: pd.DataFrame,
    folder: Path,
    partition_by: str,
    columns: Collection[str] | None = None,
    written_requests: Collection[str] | None = None,
) -> WrittenFeatures:
    """``historical_features`` on Spark's offline store, the answer joined, given its on-demand
    features and written as parquet by the executors: the driver never collects the joined set nor
    runs the on-demand views (Feast's Spark store would do both: Feast issue 5475), and reads back
    what it needs a partition at a time.

    Args:
        store: the feature store (the spark profile's).
        service: feature service name.
        requests: as for ``historical_features``.
        folder: where the executors write (storage the driver and the executors share), partitioned
            by ``partition_by``, with the requests' position in ``__skewless_row``.
        partition_by: a string column of ``requests`` without nulls (the training set's split, the
            scored transactions' day).
        columns: as for ``historical_features``.
        written_requests: the requests' columns written beside the features (all if None; always
            those Feast reads and ``partition_by``); the others join each partition by row when read.

    Raises:
        ConfigurationError: the store's offline store is not Spark's.
        InputError: no requests, or ``partition_by`` missing, with nulls or empty values, or
            starting with ``_`` or ``.`` (Arrow's folder reading skips such folders).
    """
    if not runs_on_spark(store):
        raise ConfigurationError("write_historical_features needs the spark profile's offline store")
    if requests.empty:
        raise InputError("no requests to retrieve features for")
    if partition_by.startswith(("_", ".")):
        raise InputError(f"cannot partition by '{partition_by}': Arrow skips folders named _… or .…")
    if partition_by not in requests.columns or (requests[partition_by].fillna("") == "").any():
        raise InputError(
            f"the requests need a '{partition_by}' column without missing or empty values to partition by"
        )
    from pyspark.sql import functions

    also = [partition_by, *(requests.columns if written_requests is None else written_requests)]
    entity_df = _entity_rows(store, service, requests, also=also)
    entity_columns = [*entity_df.columns]
    job = store.get_historical_features(entity_df=entity_df, features=get_feature_service(store, service))
    del entity_df
    joined = job.to_spark_df()
    joined = joined.select(_kept(joined.columns, entity_columns, columns)).withColumn(
        "transaction_time", functions.col(EVENT_TIMESTAMP) + functions.expr("INTERVAL 1 MICROSECOND")
    )  # the exact time again (the on-demand views saw it to the second)
    joined.write.mode("overwrite").partitionBy(partition_by).parquet(str(folder))
    return WrittenFeatures(folder, partition_by, requests, entity_columns, columns)


def _entity_rows(
    store: FeatureStore, service: str, requests: pd.DataFrame, also: Collection[str] = ()
) -> pd.DataFrame:
    """The entity rows Feast is handed: only the requests' columns it reads (and ``also``), each
    as of one microsecond before its transaction, its ``transaction_time`` to the whole second (as
    Feast's online path carries it) and its position (``__skewless_row``). The requests' other
    columns join the answer by row afterwards, not making the round trip through the store.

    Raises:
        InputError: a request column is named ``__skewless_row``.
    """
    if _ROW in requests.columns:
        raise InputError(f"the requests may not have a column named {_ROW} (its position goes there)")
    exact = requests["transaction_time"]
    inputs = (service_inputs(store, service) | set(also)) - {"transaction_time"}
    times = {EVENT_TIMESTAMP: exact - ONE_MICROSECOND, "transaction_time": exact.dt.floor("s")}
    positions = np.arange(len(requests))  # not the index: the requests' own may be anything
    return requests[[name for name in requests.columns if name in inputs]].assign(
        **times, **{_ROW: positions}
    )


def _kept(answered: list[str], entity_columns: list[str], columns: Collection[str] | None) -> list[str]:
    """The answer's columns to keep, in its order: the entity rows' and ``columns`` (all if None)."""
    return [name for name in answered if columns is None or name in entity_columns or name in columns]


def _answer(
    fetch: Callable[[], pa.Table],
    requests: pd.DataFrame,
    entity_columns: list[str],
    columns: Collection[str] | None,
) -> pd.DataFrame:
    """Feast's answer as ``fetch`` gives it (the entity columns and ``columns``) as pandas in the
    requests' order, with the requests' other columns attached as they are and their exact
    ``transaction_time``. Only this function holds the Arrow table, so its buffers are freed as
    pandas takes each column over.

    Raises:
        InputError: a request column Feast was not handed has the name of one Feast answers.
    """
    table = fetch()
    carried = [name for name in requests.columns if name not in entity_columns and name != EVENT_TIMESTAMP]
    clash = sorted(set(carried) & set(table.column_names))
    if clash:
        raise InputError(f"the requests' columns {clash} have the names of retrieved features: rename them")
    table = table.select(_kept(table.column_names, entity_columns, columns))  # before pandas converts
    rows = table[_ROW].to_numpy()
    if len(rows) and (np.diff(rows) < 0).any():  # Spark's store answers in any order: back to the requests'
        order = np.argsort(rows, kind="stable")
        table, rows = table.take(order), rows[order]  # in Arrow: lighter than pandas' Python strings
    joined = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    for name in joined.columns:
        # Spark's store answers UTC times without their zone (its session runs in UTC) and in
        # nanoseconds; DuckDB's in the feature tables' microseconds with the zone. The requests'
        # columns Feast was handed come back as they went in (through Spark's parquet too).
        if isinstance(joined[name].dtype, np.dtypes.DateTime64DType):
            joined[name] = joined[name].dt.tz_localize("UTC").astype("datetime64[us, UTC]")
        if name in entity_columns and name in requests.columns and joined[name].dtype != requests[name].dtype:
            joined[name] = joined[name].astype(requests[name].dtype)
    for name in carried:
        joined[name] = requests[name].iloc[rows].array
    # .array keeps the column's own unit and time zone (to_numpy would drop the zone).
    joined["transaction_time"] = requests["transaction_time"].iloc[rows].array
    result: pd.DataFrame = joined.drop(columns=_ROW)
    return result
