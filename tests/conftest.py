"""Shared fixtures: a clean environment, isolated workspaces, worlds built once, real servers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import timedelta
from itertools import count
from pathlib import Path

import pytest

from feature_repo.operations import (
    apply_feature_repo,
    materialize_features,
    open_feature_store,
    open_profile_spark_session,
)
from feature_repo.pipeline import build_features
from lifecycle.local_stack import DEFAULT_POSTGRES, local_production_stack
from lifecycle.redis_cluster import local_redis_cluster
from simulation import simulate
from skewless.settings import Settings
from tests.factories import make_workspace, tiny_config
from tests.scheduling import SharedWorldScheduling, longest_first
from tests.servers import RedisServer, postgres_database, redis_for_tests
from tests.worlds import (
    QUIET,
    ProductionWorld,
    ScenarioWorld,
    SparkWorld,
    TrainedWorld,
    build_production_world,
    build_scenario_world,
    build_spark_world,
    build_trained_world,
)

__all__ = ["QUIET"]


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SKEWLESS_* or FEAST_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("SKEWLESS_", "FEAST_")):
            monkeypatch.delenv(name)


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    """An empty embedded-profile workspace of this test's own."""
    return make_workspace(tmp_path / "ws")


@pytest.fixture(scope="session")
def built_workspace(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A tiny world simulated, featurized, applied and materialized (embedded profile).

    Shared by read-only tests; tests that change data make their own workspace.
    """
    settings = make_workspace(tmp_path_factory.mktemp("built") / "ws")
    config = tiny_config()
    simulate(config, settings.layout, QUIET)
    build_features(settings.layout, QUIET)
    apply_feature_repo(settings)
    store = open_feature_store(settings)
    end = config.to_datetime(config.end)
    materialize_features(store, end=end, start=end - timedelta(days=3_650))
    return settings


@pytest.fixture(scope="session")
def trained_world(tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    """Ninety simulated days, champion v1, the online store as of the parity row: read, never changed."""
    return build_trained_world(tmp_path_factory.mktemp("trained") / "ws")


@pytest.fixture
def trained_copy(trained_world: TrainedWorld, tmp_path: Path) -> TrainedWorld:
    """A copy of the trained world for a test that changes it (trains, promotes, serves, materializes)."""
    return trained_world.copy(tmp_path / "ws")


@pytest.fixture(scope="session")
def scenario_world(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], ScenarioWorld]:
    """``scenario_world(name)``: the scenario's world, built once per session and never changed."""
    built: dict[str, ScenarioWorld] = {}

    def get(scenario: str) -> ScenarioWorld:
        if scenario not in built:
            built[scenario] = build_scenario_world(tmp_path_factory.mktemp(scenario) / "ws", scenario, 11)
        return built[scenario]

    return get


@pytest.fixture
def scenario_copy(
    scenario_world: Callable[[str], ScenarioWorld], tmp_path: Path
) -> Callable[[str], ScenarioWorld]:
    """``scenario_copy(name)``: a copy of the scenario's world for a test that changes it."""
    numbers = count()

    def get(scenario: str) -> ScenarioWorld:
        return scenario_world(scenario).copy(tmp_path / f"{scenario}-{next(numbers)}")

    return get


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    with redis_for_tests() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def production_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionWorld]:
    """The trained world on Redis, PostgreSQL and an MLflow server (one stack for the session)."""
    root = tmp_path_factory.mktemp("production")
    admin = os.environ.get("SKEWLESS_TEST_POSTGRES", DEFAULT_POSTGRES)
    with local_production_stack(root, admin) as stack:
        world = build_production_world(root / "ws", stack, root / "mlflow-artifacts")
        try:
            yield world
        finally:
            for process in world.restarted:
                process.terminate()
                process.wait(timeout=10)


@pytest.fixture(scope="session")
def spark_world(
    tmp_path_factory: pytest.TempPathFactory, trained_world: TrainedWorld
) -> Iterator[SparkWorld]:
    """The trained world again on the spark profile (Spark local[2], a 3-primary Redis Cluster,
    PostgreSQL and an MLflow server), loaded up to the embedded world's parity moment."""
    root = tmp_path_factory.mktemp("spark")
    admin = os.environ.get("SKEWLESS_TEST_POSTGRES", DEFAULT_POSTGRES)
    end = trained_world.parity_row["transaction_time"].to_pydatetime() - timedelta(microseconds=1)
    with local_production_stack(root, admin) as stack, local_redis_cluster(primaries=3) as cluster:
        world = build_spark_world(root / "ws", stack, cluster, end)
        try:
            yield world
        finally:
            open_profile_spark_session(world.settings).stop()  # the running session: its JVM ends


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest units of work first (see tests/scheduling.py)."""
    longest_first(items)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> SharedWorldScheduling:
    """Workers take whole modules, and the modules sharing a world together (tests/scheduling.py)."""
    return SharedWorldScheduling(config, log)
