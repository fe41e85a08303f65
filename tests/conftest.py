"""Shared fixtures: a clean environment, isolated workspaces and real servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from feature_repo.operations import apply_feature_repo, materialize_features, open_feature_store
from feature_repo.pipeline import build_features
from simulation import simulate
from skewless.progress import Progress
from skewless.settings import Settings
from tests.factories import make_workspace, tiny_config
from tests.servers import RedisServer, postgres_database, redis_for_tests

QUIET = Progress(quiet=True)


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
def redis_server() -> Iterator[RedisServer]:
    with redis_for_tests() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url
