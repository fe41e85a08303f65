"""Feast's DuckDB offline store with point-in-time joins as DuckDB ``ASOF`` joins.

Feast's own DuckDB store answers ``get_historical_features`` by joining every entity row
to every earlier row of each feature view and keeping the newest (ibis: an inequality join,
then a window over the matches). On 1.4 million labelled rows (scale 10) the training-set
build took 186.7 s and 15.7 GiB through it (``benchmarks/bench_training.py``) and 41.5 s and
2.7 GiB through this store (``benchmarks/bench_scale.py``, the same machine and day). It keeps
Feast's semantics and answers with one ``ASOF LEFT JOIN`` per feature view:

- a feature row counts for an entity row when it has the same join keys and its event time
  is at or before the entity row's (``ASOF ... e.ts >= f.ts`` picks the newest such row);
- among rows with the same keys and event time, the newest ``created`` one wins (rows are
  deduplicated by keys and event time first, as Feast's ``deduplicate`` orders them);
- a row older than the view's TTL at the entity row's time is no match (features null);
- field mappings, join-key maps of projections and ``full_feature_names`` are honoured.

The on-demand views then run as Feast's ``RetrievalJob.to_arrow`` runs them, on the inputs
they read, in batches of ``transform_batch_rows`` rows (``on_demand.py``: equal answers, a
fraction of the time and memory).

It falls back to Feast's own join for what it does not cover: an entity SQL query instead of a
DataFrame, ``filter_by_created_timestamp``, or a source that is not a parquet ``FileSource``.
Materialization and every other call are Feast's DuckDB store's. Chosen in
``feature_store.yaml`` by class path (``offline_store: type:``); its results are tested equal to
Feast's store (``tests/feature_repo/test_asof_store.py``).
"""

from __future__ import annotations

import functools
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from feast import FeatureView, FileSource, OnDemandFeatureView
from feast.infra.offline_stores import offline_utils
from feast.infra.offline_stores.duckdb import DuckDBOfflineStore, DuckDBOfflineStoreConfig
from feast.infra.offline_stores.offline_store import RetrievalJob, RetrievalMetadata
from feast.infra.registry.base_registry import BaseRegistry
from feast.repo_config import RepoConfig
from pydantic import PositiveInt, StrictStr

from feature_repo.operations.on_demand import OnDemandRetrievalJob

__all__ = ["AsofDuckDBOfflineStore", "AsofDuckDBOfflineStoreConfig"]

logger = logging.getLogger("skewless.feature_repo")

_ROW = "__asof_row"
_ENTITY_ROWS = f'SELECT * FROM entity_rows ORDER BY "{_ROW}"'


class AsofDuckDBOfflineStoreConfig(DuckDBOfflineStoreConfig):  # type: ignore[misc]  # Feast is untyped
    """``offline_store: type: feature_repo.operations.asof_store.AsofDuckDBOfflineStore``."""

    type: StrictStr = "feature_repo.operations.asof_store.AsofDuckDBOfflineStore"
    # Rows per call of a python-mode on-demand view's function: bounds the Python objects alive at once.
    transform_batch_rows: PositiveInt = 100_000
    # DuckDB's memory for each join (its caches give way, its sorts spill to a temporary folder): half
    # a GB kept a training-set build at scale 10 (1.4M rows) under 2 GB in all at no cost in time. A
    # join that cannot fit in it (64 MB at scale 10) runs again without it, with a warning.
    join_memory_limit: StrictStr = "500MB"


class AsofRetrievalJob(RetrievalJob):  # type: ignore[misc]  # Feast is untyped
    """The joined table, computed when asked for; the store hands it out wrapped in
    ``OnDemandRetrievalJob``, which runs the on-demand views (Feast's base class would too)."""

    def __init__(
        self,
        query: Callable[[], pa.Table],
        on_demand_feature_views: list[OnDemandFeatureView],
        full_feature_names: bool,
        metadata: RetrievalMetadata,
    ) -> None:
        self._query = query
        self._on_demand_feature_views = on_demand_feature_views
        self._full_feature_names = full_feature_names
        self._metadata = metadata

    def _to_arrow_internal(self, timeout: int | None = None) -> pa.Table:
        return self._query()

    def _to_df_internal(self, timeout: int | None = None) -> pd.DataFrame:
        frame: pd.DataFrame = self._query().to_pandas(timestamp_as_object=False)
        return frame

    @property
    def full_feature_names(self) -> bool:
        return self._full_feature_names

    @property
    def on_demand_feature_views(self) -> list[OnDemandFeatureView]:
        return self._on_demand_feature_views

    @property
    def metadata(self) -> RetrievalMetadata | None:
        return self._metadata

    def persist(self, storage: Any, allow_overwrite: bool = False, timeout: int | None = None) -> None:
        raise NotImplementedError("saved datasets are not supported by the ASOF store; use to_df()")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _fetch(connection: duckdb.DuckDBPyConnection, sql: str, memory_limit: str, default: str) -> pa.Table:
    """The query's answer within ``memory_limit``, else (with a warning) within DuckDB's ``default``."""
    try:
        return connection.execute(sql).to_arrow_table()
    except duckdb.OutOfMemoryException:
        logger.warning(
            "point-in-time join: a query needs more than join_memory_limit (%s); running it and "
            "the rest without the limit (raise join_memory_limit in feature_store.yaml to skip this)",
            memory_limit,
        )  # fmt: skip
        connection.execute(f"SET memory_limit = {_literal(default)}")
        return connection.execute(sql).to_arrow_table()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _parquet_source(view: FeatureView) -> FileSource | None:
    source = view.batch_source
    if not isinstance(source, FileSource):
        return None
    path = source.path
    return source if path.endswith(".parquet") or "*" in path else None


class AsofDuckDBOfflineStore(DuckDBOfflineStore):  # type: ignore[misc]  # Feast is untyped
    """Feast's DuckDB offline store, whose ``get_historical_features`` is a chain of ASOF joins."""

    @staticmethod
    def get_historical_features(
        config: RepoConfig,
        feature_views: list[FeatureView],
        feature_refs: list[str],
        entity_df: pd.DataFrame | str,
        registry: BaseRegistry,
        project: str,
        full_feature_names: bool = False,
        filter_by_created_timestamp: bool = False,
    ) -> RetrievalJob:
        sources = [_parquet_source(view) for view in feature_views]
        if not isinstance(entity_df, pd.DataFrame) or filter_by_created_timestamp or None in sources:
            return DuckDBOfflineStore.get_historical_features(
                config, feature_views, feature_refs, entity_df, registry, project,
                full_feature_names, filter_by_created_timestamp,
            )  # fmt: skip
        entity_schema = dict(zip(entity_df.columns, entity_df.dtypes, strict=True))
        event_timestamp = offline_utils.infer_event_timestamp_from_entity_df(entity_schema)
        times = pd.to_datetime(entity_df[event_timestamp], utc=True)
        entities = entity_df.assign(**{event_timestamp: times, _ROW: range(len(entity_df))})
        repo_path = str(config.repo_path)
        queries = _asof_queries(feature_views, feature_refs, event_timestamp, full_feature_names, repo_path)

        memory_limit = config.offline_store.join_memory_limit

        def query() -> pa.Table:
            spill_folder = tempfile.TemporaryDirectory(prefix="skewless-asof-")
            with spill_folder as spill, duckdb.connect() as connection:
                connection.execute("SET TimeZone = 'UTC'")
                default = str(connection.execute("SELECT current_setting('memory_limit')").fetchone()[0])
                connection.execute(f"SET memory_limit = {_literal(memory_limit)}")
                connection.execute(f"SET temp_directory = {_literal(spill)}")
                connection.register("entity_rows", entities)
                fetch = functools.partial(_fetch, connection, memory_limit=memory_limit, default=default)
                parts = [fetch(_ENTITY_ROWS)]
                for view in queries:
                    # Deduplicating costs a window over every row; most tables need none.
                    duplicated = fetch(view.has_duplicates).column(0)[0].as_py()
                    parts.append(fetch(view.deduplicated if duplicated else view.joined))
            table = pa.Table.from_arrays(
                [column for part in parts for column in part.columns],
                names=[name for part in parts for name in part.column_names],
            )  # each part in entity-row order
            return table.drop_columns([_ROW])

        on_demand = OnDemandFeatureView.get_requested_odfvs(feature_refs, project, registry)
        metadata = RetrievalMetadata(
            features=feature_refs,
            keys=list(set(entity_df.columns) - {event_timestamp}),
            min_event_timestamp=times.min().to_pydatetime(),
            max_event_timestamp=times.max().to_pydatetime(),
        )
        views = [view for view in on_demand if view.mode != "substrait"]
        job = AsofRetrievalJob(query, views, full_feature_names, metadata)
        return OnDemandRetrievalJob(job, config.offline_store.transform_batch_rows)


@dataclass(frozen=True)
class _ViewQuery:
    """One view's features for every entity row, in entity-row order."""

    joined: str  # its rows as they are
    deduplicated: str  # the newest `created` of rows with the same keys and event time
    has_duplicates: str  # whether any keys and event time repeat (then `deduplicated` is needed)


def _asof_queries(
    feature_views: list[FeatureView],
    feature_refs: list[str],
    event_timestamp: str,
    full_feature_names: bool,
    repo_path: str,
) -> list[_ViewQuery]:
    """One query per view: its requested features (its rows deduplicated by keys and event time
    where they repeat) ASOF-joined to the entity rows' keys and times, in entity-row order.

    Joining each view to the narrow keys-and-time rows, not chaining the joins in one query
    (where each join sorts the rows with every feature joined before it), and skipping the
    deduplicating window where no keys and time repeat, took the join at scale 10 from 8.6-10 s
    and a 4.6 GiB peak to 5.9-6.7 s and 2.8 GiB (the process, 1.5 GiB of it the entity rows)."""
    queries = []
    when = f"e.{_quoted(event_timestamp)}"
    for index, view in enumerate(feature_views):
        source = view.batch_source
        if not isinstance(source, FileSource):  # the caller sent other sources to Feast's own join
            raise TypeError(f"{view.name}: the ASOF join reads parquet FileSources only")
        prefix = view.projection.name_to_use()
        wanted = [ref.split(":", 1)[1] for ref in feature_refs if ref.startswith(f"{prefix}:")]
        if not wanted:
            continue
        to_source = {feature: column for column, feature in source.field_mapping.items()}
        key_map = view.projection.join_key_map or {e.name: e.name for e in view.entity_columns}
        key_columns = {key: to_source.get(key, key) for key in key_map}
        stamp, created = source.timestamp_field, source.created_timestamp_column
        alias, time_column = f"v{index}", f"__t{index}"
        columns = [f"{_quoted(column)} AS {_quoted(key)}" for key, column in key_columns.items()]
        columns.append(f"CAST({_quoted(stamp)} AS TIMESTAMPTZ) AS {time_column}")
        columns += [f"{_quoted(to_source.get(f, f))} AS {_quoted(f)}" for f in wanted]
        keys = ", ".join(_quoted(column) for column in [*key_columns.values(), stamp])
        path = _literal(FileSource.get_uri_for_file_path(repo_path, source.path))  # relative: to the repo
        rows = f"read_parquet({path}, union_by_name = true)"
        plain = f"WITH {alias} AS (SELECT {', '.join(columns)} FROM {rows})"
        newest, repeats = plain, "FALSE"  # without a created column, Feast breaks no ties either
        if created:
            order = f"PARTITION BY {keys} ORDER BY {_quoted(created)} DESC"
            newest = f"{plain[:-1]} QUALIFY row_number() OVER ({order}) = 1)"
            repeats = f"EXISTS (SELECT 1 FROM {rows} GROUP BY {keys} HAVING count(*) > 1)"
        conditions = [f"e.{_quoted(entity)} = {alias}.{_quoted(key)}" for key, entity in key_map.items()]
        narrow_columns = dict.fromkeys([*key_map.values(), event_timestamp, _ROW])
        narrow = ", ".join(_quoted(name) for name in narrow_columns)
        join = f"ASOF LEFT JOIN {alias} ON {' AND '.join(conditions)} AND {when} >= {alias}.{time_column}"
        selects = []
        ttl = view.ttl if isinstance(view.ttl, timedelta) and view.ttl > timedelta(0) else None
        name_prefix = view.projection.name_alias or view.name
        for feature in wanted:
            value = f"{alias}.{_quoted(feature)}"
            if ttl is not None:
                cutoff = f"{when} - to_microseconds({ttl // timedelta(microseconds=1)})"
                value = f"CASE WHEN {alias}.{time_column} >= {cutoff} THEN {value} END"
            output = f"{name_prefix}__{feature}" if full_feature_names else feature
            selects.append(f"{value} AS {_quoted(output)}")
        body = f" SELECT {', '.join(selects)} FROM (SELECT {narrow} FROM entity_rows) e {join} "
        body += f"ORDER BY e.{_quoted(_ROW)}"
        queries.append(_ViewQuery(plain + body, newest + body, has_duplicates=f"SELECT {repeats}"))
    return queries
