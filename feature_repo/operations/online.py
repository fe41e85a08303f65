"""Online lookup of a feature service: the call the prediction API will make."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import redis
from feast import FeatureStore

from feature_repo.operations.services import get_feature_service
from skewless.errors import OnlineStoreError

__all__ = ["ONLINE_STORE_ERRORS", "lookup_online_features"]

# What a failing SQLite or Redis online store raises underneath Feast.
ONLINE_STORE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.RedisError,
    sqlite3.Error,
    ConnectionError,
    OSError,
)


def lookup_online_features(
    store: FeatureStore, service_name: str, rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """Return the feature service's values for ``rows`` (entity keys + request fields).

    Args:
        store: the feature store.
        service_name: feature service to read (e.g. ``fraud_detection_v1``).
        rows: one mapping per transaction with join keys and request fields.

    Returns:
        Column name -> list of values, one per row, join keys included.

    Raises:
        FeatureRepoError: the service is not registered (run apply first).
        OnlineStoreError: the online store cannot be read.
    """
    service = get_feature_service(store, service_name)
    try:
        response = store.get_online_features(features=service, entity_rows=[dict(row) for row in rows])
    except ONLINE_STORE_ERRORS as e:
        raise OnlineStoreError(f"online store unavailable: {type(e).__name__}: {e}") from e
    result: dict[str, list[Any]] = response.to_dict()
    return result
