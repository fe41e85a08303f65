"""Feast's Spark offline store over the feature repo's own parquet ``FileSource``s.

The spark profile reads the same feature tables, through the same definitions, as the
embedded and production profiles: each ``FileSource`` (a parquet path or glob) is handed to
Feast's ``SparkOfflineStore`` as the ``SparkSource`` of the same path, timestamp, created
column and field mapping, and everything else is Feast's own: the point-in-time join
(``get_historical_features``) and the reads that materialization pulls (``spark.engine`` calls
``pull_latest_from_table_or_query`` through this store). Its job is wrapped in ``on_demand.py``'s
``OnDemandRetrievalJob``: ``to_arrow`` runs the on-demand views on the driver after the join, as
Feast does (Feast issue 5475), but only on the inputs a function reads, in batches;
``to_spark_df`` runs them on the executors, per partition (how training sets and batch scoring's
features are built: ``historical.write_historical_features``). Nothing in ``definitions.py``
names an engine. Chosen in ``feature_store.spark.yaml`` by class path.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from feast import FeatureView, FileSource
from feast.data_source import DataSource
from feast.infra.offline_stores.contrib.spark_offline_store.spark import (
    SparkOfflineStore,
    SparkOfflineStoreConfig,
)
from feast.infra.offline_stores.contrib.spark_offline_store.spark_source import SparkSource
from feast.infra.offline_stores.offline_store import RetrievalJob
from feast.infra.registry.base_registry import BaseRegistry
from feast.repo_config import RepoConfig
from pydantic import PositiveInt, StrictStr

from feature_repo.operations.on_demand import OnDemandRetrievalJob

__all__ = ["SparkFileOfflineStore", "SparkFileOfflineStoreConfig", "spark_source_of"]


class SparkFileOfflineStoreConfig(SparkOfflineStoreConfig):  # type: ignore[misc]  # Feast is untyped
    """``offline_store: type: feature_repo.operations.spark_store.SparkFileOfflineStore``."""

    type: StrictStr = "feature_repo.operations.spark_store.SparkFileOfflineStore"
    # Rows per call of a python-mode on-demand view's function on the driver (to_arrow); on the
    # executors (to_spark_df) a call takes one of Spark's Arrow batches (10,000 rows by default).
    transform_batch_rows: PositiveInt = 100_000


def spark_source_of(source: DataSource) -> DataSource:
    """The ``SparkSource`` reading what a parquet ``FileSource`` reads (other sources unchanged)."""
    if not isinstance(source, FileSource):
        return source
    return SparkSource(
        name=source.name,
        path=source.path,
        file_format="parquet",
        timestamp_field=source.timestamp_field,
        created_timestamp_column=source.created_timestamp_column,
        field_mapping=source.field_mapping,
        description=source.description,
        tags=source.tags,
        owner=source.owner,
    )


def _on_spark(view: FeatureView) -> FeatureView:
    if not isinstance(view.batch_source, FileSource):
        return view
    moved = copy.copy(view)
    moved.batch_source = spark_source_of(view.batch_source)
    return moved


class SparkFileOfflineStore(SparkOfflineStore):  # type: ignore[misc]  # Feast is untyped
    """Feast's Spark offline store, taking the repo's parquet ``FileSource``s as ``SparkSource``s."""

    @staticmethod
    def get_historical_features(
        config: RepoConfig,
        feature_views: list[FeatureView],
        feature_refs: list[str],
        entity_df: Any,
        registry: BaseRegistry,
        project: str,
        full_feature_names: bool = False,
        **kwargs: Any,
    ) -> RetrievalJob:
        job = SparkOfflineStore.get_historical_features(
            config, [_on_spark(view) for view in feature_views], feature_refs, entity_df, registry,
            project, full_feature_names, **kwargs,
        )  # fmt: skip
        return OnDemandRetrievalJob(job, config.offline_store.transform_batch_rows)

    @staticmethod
    def pull_latest_from_table_or_query(
        config: RepoConfig,
        data_source: DataSource,
        join_key_columns: list[str],
        feature_name_columns: list[str],
        timestamp_field: str,
        created_timestamp_column: str | None,
        start_date: datetime,
        end_date: datetime,
    ) -> RetrievalJob:
        return SparkOfflineStore.pull_latest_from_table_or_query(
            config, spark_source_of(data_source), join_key_columns, feature_name_columns,
            timestamp_field, created_timestamp_column, start_date, end_date,
        )  # fmt: skip

    @staticmethod
    def pull_all_from_table_or_query(
        config: RepoConfig,
        data_source: DataSource,
        join_key_columns: list[str],
        feature_name_columns: list[str],
        timestamp_field: str,
        created_timestamp_column: str | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> RetrievalJob:
        return SparkOfflineStore.pull_all_from_table_or_query(
            config, spark_source_of(data_source), join_key_columns, feature_name_columns,
            timestamp_field, created_timestamp_column, start_date, end_date,
        )  # fmt: skip
