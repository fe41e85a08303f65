"""What the online store holds: how many entities, and how fresh its newest rows are.

Readiness needs more than "the store answers": a Redis restarted empty answers every
read with nothing, and every answer then goes out with most features missing. This
counts the entities stored (Redis ``DBSIZE``; rows of the SQLite tables) and finds the
newest event time per feature view (Redis: the ``_ts:<view>`` stamps of a random
sample of keys; SQLite: ``max(event_ts)``), so that an empty or stale store can be told
apart from a healthy one. A Redis Cluster is read primary by primary: one primary restarted
empty leaves a third of the customers without features while the others look healthy, so the
primaries holding nothing are counted too.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
from feast import FeatureStore
from feast.infra.online_stores.redis import RedisType

from feature_repo.operations.online import ONLINE_STORE_ERRORS, online_store_error
from skewless.errors import OnlineStoreError

__all__ = ["OnlineStoreState", "online_store_state"]

SAMPLE_KEYS = 64


@dataclass(frozen=True)
class OnlineStoreState:
    """Entities stored, and the newest event time found per feature view."""

    entities: int
    newest: dict[str, datetime] = field(default_factory=dict)
    primaries: int = 1  # Redis Cluster: its primaries (1 for one server or SQLite)
    empty_primaries: int = 0  # Redis Cluster: primaries holding no entities

    def stale_views(self, ttls: dict[str, timedelta], now: datetime) -> list[str]:
        """Views whose newest row found is older than their TTL at ``now`` (or none was found)."""
        return sorted(
            view
            for view, ttl in ttls.items()
            if ttl and (view not in self.newest or self.newest[view] < now - ttl)
        )


def online_store_state(store: FeatureStore, timeout_s: float = 1.0) -> OnlineStoreState:
    """Count the entities of ``store``'s online store and find its newest rows.

    Raises:
        OnlineStoreError: the online store cannot be read.
    """
    config = store.config.online_store
    kind = getattr(config, "type", "sqlite")
    try:
        if kind == "redis" and config.redis_type == RedisType.redis_cluster:
            return _redis_cluster_state(str(config.connection_string), timeout_s)
        if kind == "redis":
            return _redis_state(str(config.connection_string), timeout_s)
        if kind == "sqlite":
            path = Path(str(config.path))
            if not path.is_absolute():
                path = Path(store.repo_path) / path
            return _sqlite_state(path, store.config.project, timeout_s)
    except ONLINE_STORE_ERRORS as e:
        raise online_store_error(e) from e
    raise OnlineStoreError(f"online store type {kind!r}: entity count not supported")


def _redis_state(connection_string: str, timeout_s: float) -> OnlineStoreState:
    from feast.infra.online_stores.redis import RedisOnlineStore

    nodes, params = RedisOnlineStore._parse_connection_string(connection_string)
    params = {k: v for k, v in params.items() if k in ("db", "password", "username", "ssl")}
    client = redis.Redis(
        host=nodes[0]["host"], port=int(nodes[0]["port"]), socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s, **params,
    )  # fmt: skip
    try:
        entities, newest = _node_state(client)
        return OnlineStoreState(entities, newest)
    finally:
        client.close()


def _redis_cluster_state(connection_string: str, timeout_s: float) -> OnlineStoreState:
    from feast.infra.online_stores.redis import RedisOnlineStore
    from redis.cluster import ClusterNode, RedisCluster

    nodes, params = RedisOnlineStore._parse_connection_string(connection_string)
    params = {k: v for k, v in params.items() if k in ("password", "username", "ssl")}
    cluster: RedisCluster[bytes] = RedisCluster(
        startup_nodes=[ClusterNode(node["host"], int(node["port"])) for node in nodes],
        socket_timeout=timeout_s, socket_connect_timeout=timeout_s, **params,
    )  # fmt: skip
    try:
        entities, empty = 0, 0
        newest: dict[str, datetime] = {}
        primaries = cluster.get_primaries()
        for primary in primaries:
            node = cluster.get_redis_connection(primary)
            count, node_newest = _node_state(node)
            entities, empty = entities + count, empty + (count == 0)
            for view, when in node_newest.items():
                if view not in newest or when > newest[view]:
                    newest[view] = when
        return OnlineStoreState(entities, newest, len(primaries), empty)
    finally:
        cluster.close()


def _node_state(client: redis.Redis[bytes]) -> tuple[int, dict[str, datetime]]:
    """Keys held by one Redis server, and the newest ``_ts:<view>`` stamps of a random sample."""
    from google.protobuf.timestamp_pb2 import Timestamp

    entities = int(client.dbsize())
    newest: dict[str, datetime] = {}
    if entities:
        pipe = client.pipeline(transaction=False)
        for _ in range(min(SAMPLE_KEYS, entities)):
            pipe.randomkey()
        keys = {key for key in pipe.execute() if key is not None}
        for key in keys:
            pipe.hgetall(key)
        for fields in pipe.execute():
            for name, value in fields.items():
                if name.startswith(b"_ts:"):
                    stamp = Timestamp()
                    stamp.ParseFromString(value)
                    view, when = name[4:].decode(), stamp.ToDatetime(tzinfo=UTC)
                    if view not in newest or when > newest[view]:
                        newest[view] = when
    return entities, newest


def _sqlite_state(path: Path, project: str, timeout_s: float) -> OnlineStoreState:
    if not path.is_file():
        return OnlineStoreState(0)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout_s) as connection:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name.startswith(f"{project}_")
        ]
        entities, newest = 0, {}
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            count, latest = connection.execute(
                f"SELECT count(DISTINCT entity_key), max(event_ts) FROM {quoted}"  # noqa: S608 (names from sqlite_master)
            ).fetchone()
            entities = max(entities, int(count))
            if latest is not None:
                newest[table.removeprefix(f"{project}_")] = _moment(latest)
    return OnlineStoreState(entities, newest)


def _moment(value: object) -> datetime:
    """SQLite's ``event_ts``: epoch seconds (Feast 0.67) or an ISO text (older stores)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    when = datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=UTC)
