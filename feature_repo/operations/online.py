"""Online reads of a feature service through Feast, with statuses and event times (the TTL rule is
``service_reader``'s)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from feast import FeatureService, FeatureStore
from feast.protos.feast.serving.ServingService_pb2 import FieldStatus
from feast.type_map import feast_value_type_to_python_type

from feature_repo.operations.services import get_feature_service
from skewless.errors import OnlineStoreError, OnlineStoreTimeoutError

__all__ = ["ONLINE_STORE_ERRORS", "OnlineFeatures", "online_store_error", "read_online_features"]

# What a failing SQLite or Redis online store raises underneath Feast.
ONLINE_STORE_ERRORS: tuple[type[BaseException], ...] = (
    redis.exceptions.RedisError,
    redis.exceptions.RedisClusterException,  # a cluster with no node reachable, or a slot uncovered
    sqlite3.Error,
    ConnectionError,
    OSError,
)


# Scalar kinds whose proto value is already the Python value; every other kind
# (timestamps, lists, maps, decimals, ...) goes through Feast's own converter.
_PLAIN_KINDS = frozenset(
    {"int32_val", "int64_val", "float_val", "double_val", "string_val", "bool_val", "bytes_val"}
)
_ABSENT = (FieldStatus.NOT_FOUND, FieldStatus.NULL_VALUE)


def _python_values(values: Any) -> list[Any]:
    """Python values of one response column, as Feast's ``to_dict`` gives them, only faster."""
    column: list[Any] = []
    for value in values:
        kind = value.WhichOneof("val")
        if kind is None:
            column.append(None)
        elif kind in _PLAIN_KINDS:
            column.append(getattr(value, kind))
        else:
            column.append(feast_value_type_to_python_type(value))
    return column


@dataclass(frozen=True)
class OnlineFeatures:
    """Values, Feast statuses (``FieldStatus`` codes: PRESENT, NOT_FOUND, ...) and the event
    time of the stored row (epoch seconds, 0 when none) per column."""

    values: dict[str, list[Any]]
    statuses: dict[str, list[int]]
    event_seconds: dict[str, list[float]]

    def missing(self, row: int, names: Sequence[str]) -> list[str]:
        """Features of ``row`` that are absent (never written, or null)."""
        return [n for n in names if self.statuses[n][row] in _ABSENT or self.values[n][row] is None]

    def status_names(self, name: str) -> list[str]:
        """Feast's status names of one column (for people and logs)."""
        return [FieldStatus.Name(status) for status in self.statuses[name]]


def online_store_error(error: BaseException) -> OnlineStoreError:
    """Our error for a failing online store: the full reason for logs and the CLI, only its kind for
    an HTTP caller (Redis' messages name its host and port)."""
    if isinstance(error, redis.exceptions.TimeoutError | TimeoutError):
        return OnlineStoreTimeoutError(
            f"online store unavailable: no answer in time ({error})", "online store unavailable: timed out"
        )
    return OnlineStoreError(
        f"online store unavailable: {type(error).__name__}: {error}",
        f"online store unavailable ({type(error).__name__})",
    )


def read_online_features(
    store: FeatureStore, service: FeatureService | str | list[str], rows: Sequence[Mapping[str, Any]]
) -> OnlineFeatures:
    """Read the feature service for ``rows`` (entity keys + request fields), with statuses.

    ``service`` is a feature service, its name, or a list of ``view:feature``
    references. Pass the ``FeatureService`` object when calling repeatedly: Feast
    caches its request plan per service object, so a fresh object per call (a name)
    costs about ten times more (10 ms against under 1 ms per lookup).

    Raises:
        FeatureRepoError: the service is not registered (run apply first).
        OnlineStoreError: the online store cannot be read.
    """
    if isinstance(service, str):
        service = get_feature_service(store, service)
    try:
        response = store.get_online_features(features=service, entity_rows=[dict(row) for row in rows])
    except ONLINE_STORE_ERRORS as e:
        raise online_store_error(e) from e
    names = list(response.proto.metadata.feature_names.val)
    values: dict[str, list[Any]] = {}
    statuses: dict[str, list[int]] = {}
    event_seconds: dict[str, list[float]] = {}
    for name, result in zip(names, response.proto.results, strict=True):
        values[name] = _python_values(result.values)
        statuses[name] = list(result.statuses)
        event_seconds[name] = [t.seconds + t.nanos / 1e9 for t in result.event_timestamps]
    return OnlineFeatures(values=values, statuses=statuses, event_seconds=event_seconds)
