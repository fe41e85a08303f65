"""The feature pipeline: SQL turning raw transactions into feature tables, run by DuckDB
(``build_features``) or transpiled and run by Spark (``build_features_on_spark``)."""

from __future__ import annotations

from feature_repo.pipeline.build import FeatureBuildSummary, build_features
from feature_repo.pipeline.spark_build import build_features_on_spark

__all__ = ["FeatureBuildSummary", "build_features", "build_features_on_spark"]
