"""Operations on the feature repo: load its config per profile, apply, materialize, push, look up."""

from __future__ import annotations

from feature_repo.operations.apply import ApplySummary, apply_feature_repo
from feature_repo.operations.config import load_repo_config, open_feature_store, open_profile_spark_session
from feature_repo.operations.historical import (
    ONE_MICROSECOND,
    WrittenFeatures,
    historical_features,
    runs_on_spark,
    write_historical_features,
)
from feature_repo.operations.materialize import MaterializeSummary, longest_ttl, materialize_features
from feature_repo.operations.online import OnlineFeatures, read_online_features
from feature_repo.operations.online_state import OnlineStoreState, online_store_state
from feature_repo.operations.push import push_online
from feature_repo.operations.service_reader import (
    ServiceRead,
    ServiceReader,
    is_missing,
    lookup_online_features,
)
from feature_repo.operations.services import (
    feature_entities,
    feature_refs,
    feature_service_schema,
    get_feature_service,
)

__all__ = [
    "ONE_MICROSECOND",
    "ApplySummary",
    "MaterializeSummary",
    "OnlineFeatures",
    "OnlineStoreState",
    "apply_feature_repo",
    "feature_entities",
    "feature_refs",
    "feature_service_schema",
    "get_feature_service",
    "historical_features",
    "load_repo_config",
    "longest_ttl",
    "lookup_online_features",
    "materialize_features",
    "online_store_state",
    "open_feature_store",
    "open_profile_spark_session",
    "push_online",
    "read_online_features",
    "runs_on_spark",
    "ServiceRead",
    "ServiceReader",
    "is_missing",
    "WrittenFeatures",
    "write_historical_features",
]
