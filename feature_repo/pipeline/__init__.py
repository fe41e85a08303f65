"""The feature pipeline: DuckDB SQL turning raw transactions into feature tables."""

from __future__ import annotations

from feature_repo.pipeline.build import FeatureBuildSummary, build_features

__all__ = ["FeatureBuildSummary", "build_features"]
