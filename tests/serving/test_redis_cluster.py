"""The production profile on a Redis Cluster (``redis_type: redis_cluster``): three primaries of
``redis-server`` on loopback, loaded by the same materialization, read by the same API.

Parity: the features read back and the API's answers equal those of one Redis loaded by the same
materialization (a private redis-server of this module's: the production world's own Redis is
stopped and emptied by its fault tests), for the same transactions. Faults: one primary killed
under the API turns it not ready and /predict answers 503, as with a single Redis; the primary
back empty keeps it not ready (a third of the customers would get no features) until the
runbook's restore.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from feature_repo.operations import materialize_features, open_feature_store, read_online_features
from lifecycle.local_stack import redis_server
from lifecycle.redis_cluster import LocalRedisCluster, local_redis_cluster
from serving.replay import request_body
from skewless.settings import RedisType, Settings
from tests.serving.client import call
from tests.serving.conftest import LiveApi, start_api, stop_api
from tests.worlds import ProductionWorld

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROWS = 40  # holdout transactions compared


@dataclass(frozen=True)
class ClusterWorld:
    world: ProductionWorld
    cluster: LocalRedisCluster
    settings: Settings  # on the cluster
    single: Settings  # on one private Redis, loaded the same way

    def environment(self) -> dict[str, str]:
        return self.world.stack.environment() | {
            "SKEWLESS_REDIS_TYPE": "redis_cluster",
            "SKEWLESS_REDIS_CONNECTION": self.cluster.connection_string,
        }

    def single_environment(self) -> dict[str, str]:
        return self.world.stack.environment() | {"SKEWLESS_REDIS_CONNECTION": self.single.redis_connection}


@pytest.fixture(scope="module")
def cluster_world(production_world: ProductionWorld) -> Iterator[ClusterWorld]:
    with local_redis_cluster(primaries=3) as cluster, redis_server() as port:
        settings = production_world.settings.model_copy(
            update={"redis_type": RedisType.REDIS_CLUSTER, "redis_connection": cluster.connection_string}
        )
        single = production_world.settings.model_copy(update={"redis_connection": f"127.0.0.1:{port},db=0"})
        end = production_world.parity_row["transaction_time"].to_pydatetime()
        for target in (settings, single):
            materialize_features(open_feature_store(target), end=end, start=end - timedelta(days=3_650))
        yield ClusterWorld(production_world, cluster, settings, single)


def _bodies(world: ProductionWorld) -> list[dict[str, object]]:
    holdout = world.outcome.training_set.split("holdout").tail(ROWS)
    return [request_body(row) for _, row in holdout.iterrows()]


def _answers(api: LiveApi, bodies: list[dict[str, object]]) -> list[dict[str, object]]:
    status, body = call(api, "POST", "/predict/batch", {"transactions": bodies})
    assert status == 200, body
    return [{k: v for k, v in p.items() if k != "request_id"} for p in body["predictions"]]


def _wait_for(api: LiveApi, online_store: str, timeout: float = 20.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while (ready := call(api, "GET", "/health/ready")[1])["online_store"] != online_store:
        assert time.monotonic() < deadline, ready
        time.sleep(0.3)
    return dict(ready)


def test_cluster_serves_the_same_features_and_answers_as_one_redis(cluster_world: ClusterWorld) -> None:
    world = cluster_world.world
    service = world.outcome.training_set.feature_service
    rows = [
        b | {"transaction_time": datetime.fromisoformat(str(b["transaction_time"]))} for b in _bodies(world)
    ]
    single = read_online_features(open_feature_store(cluster_world.single), service, rows)
    clustered = read_online_features(open_feature_store(cluster_world.settings), service, rows)
    assert clustered.values == single.values and clustered.statuses == single.statuses
    present = sum(v is not None for column in clustered.values.values() for v in column)
    assert present > 0.5 * ROWS * len(clustered.values)  # real features, not two empty answers
    # The keys really are spread over the three primaries.
    clients = [cluster_world.cluster.client(i) for i in range(3)]
    held = [client.dbsize() for client in clients]
    for client in clients:
        client.close()
    assert all(count > 0 for count in held), held

    bodies = _bodies(world)
    one_redis = start_api(cluster_world.single, **cluster_world.single_environment())
    cluster = start_api(cluster_world.settings, **cluster_world.environment())
    try:
        assert _wait_for(cluster, "reachable")["status"] == "ok"
        expected, answered = _answers(one_redis, bodies), _answers(cluster, bodies)
        assert answered == expected
        assert sum(not a["missing_features"] for a in answered) > ROWS // 2
    finally:
        stop_api(one_redis)
        stop_api(cluster)


def test_a_primary_killed_degrades_then_recovers_after_restore(cluster_world: ClusterWorld) -> None:
    world, cluster = cluster_world.world, cluster_world.cluster
    bodies = _bodies(world)
    api = start_api(cluster_world.settings, **cluster_world.environment())
    try:
        before = _answers(api, bodies)
        errors_before = _counter(api, "skewless_online_store_errors_total")
        cluster.stop_primary(1)
        ready = _wait_for(api, "unreachable")
        assert str(cluster.ports[1]) not in str(ready["detail"])  # no address to callers
        status, body = call(api, "POST", "/predict", bodies[0])
        assert status == 503 and "online store unavailable" in body["detail"], body
        # Back, empty: reachable, but a third of the keys are gone and readiness says so.
        cluster.start_primary(1)
        ready = _wait_for(api, "empty")
        assert "1 of the Redis Cluster's 3 primaries" in str(ready["detail"]), ready
        assert "skewless materialize --full" in str(ready["detail"])
        assert _counter(api, "skewless_online_store_errors_total") > errors_before
        _restore(cluster_world)
        assert _wait_for(api, "reachable")["status"] == "ok"
        assert _answers(api, bodies) == before
    finally:
        stop_api(api)


def _counter(api: LiveApi, name: str) -> float:
    status, text = call(api, "GET", "/metrics")
    assert status == 200
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(f"{name} ")]
    return values[0] if values else 0.0


def _restore(cluster_world: ClusterWorld) -> None:
    """The runbook's restore, as an operator runs it against the cluster."""
    end = cluster_world.world.parity_row["transaction_time"].strftime("%Y-%m-%dT%H:%M:%S")
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
    result = subprocess.run(
        [sys.executable, "-m", "lifecycle.cli", "--root-dir", str(cluster_world.settings.root_dir),
         "materialize", "--full", "--end", end],
        env=environment | cluster_world.environment(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
