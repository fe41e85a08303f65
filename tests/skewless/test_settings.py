"""Settings and the profile-to-Feast-config mapping."""

from __future__ import annotations

from pathlib import Path

import pytest
from feast.repo_config import RepoConfig
from feast.repo_config import load_repo_config as feast_load_repo_config
from pydantic import ValidationError

from feature_repo.operations import load_repo_config
from skewless.errors import ConfigurationError
from skewless.settings import DeploymentMode, Profile, Settings
from tests.factories import PROJECT_ROOT


def test_profile_is_chosen_by_one_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().profile is Profile.EMBEDDED
    monkeypatch.setenv("SKEWLESS_PROFILE", "production")
    assert Settings().profile is Profile.PRODUCTION


def test_unknown_setting_and_redis_url_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        Settings(redis_connection="redis://localhost:6379")
    with pytest.raises(ValidationError):
        Settings(profiel="production")  # type: ignore[call-arg]


def test_embedded_profile_is_the_shipped_yaml_as_feast_reads_it() -> None:
    ours = load_repo_config(Settings(root_dir=PROJECT_ROOT))
    repo = PROJECT_ROOT / "feature_repo"
    feasts: RepoConfig = feast_load_repo_config(repo, repo / "feature_store.yaml")
    assert ours.online_store.type == feasts.online_store.type == "sqlite"
    assert ours.registry.path == feasts.registry.path
    assert (
        ours.offline_store.type
        == feasts.offline_store.type
        == ("feature_repo.operations.asof_store.AsofDuckDBOfflineStore")
    )


def test_production_profile_fills_servers_from_settings() -> None:
    settings = Settings(
        root_dir=PROJECT_ROOT,
        profile=Profile.PRODUCTION,
        redis_connection="10.0.0.5:6380,db=3",
        registry_url="postgresql+psycopg://feast@db:5432/feast",
    )
    config = load_repo_config(settings)
    assert config.online_store.type == "redis"
    # with the socket timeouts of online_store_timeout_s (a hung Redis fails a read in time)
    timeouts = "socket_timeout=2,socket_connect_timeout=2"
    assert config.online_store.connection_string == f"10.0.0.5:6380,db=3,{timeouts}"
    assert config.registry.registry_type == "sql"
    assert config.registry.path == "postgresql+psycopg://feast@db:5432/feast"
    assert config.online_store.redis_type == "redis"


def test_redis_cluster_is_one_setting_and_has_database_zero_only() -> None:
    nodes = "10.0.0.5:6379,10.0.0.6:6379,10.0.0.7:6379"
    settings = Settings(
        root_dir=PROJECT_ROOT, profile=Profile.PRODUCTION, redis_type="redis_cluster",
        redis_connection=f"{nodes},db=0,password=s3cret",
    )  # fmt: skip
    config = load_repo_config(settings)
    assert config.online_store.redis_type == "redis_cluster"
    # db= dropped (a cluster client refuses it), the rest kept, timeouts added
    assert config.online_store.connection_string == (
        f"{nodes},password=s3cret,socket_timeout=2,socket_connect_timeout=2"
    )
    with pytest.raises(ValidationError, match="database 0 only"):
        Settings(redis_type="redis_cluster", redis_connection=f"{nodes},db=2")
    with pytest.raises(ValidationError):
        Settings(redis_type="sentinel")


def test_missing_profile_yaml_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="feature store config not found"):
        load_repo_config(Settings(root_dir=tmp_path))


def test_a_blank_admin_token_disables_admin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKEWLESS_ADMIN_TOKEN", "")
    assert Settings().admin_token is None
    monkeypatch.setenv("SKEWLESS_ADMIN_TOKEN", "s3cret")
    token = Settings().admin_token
    assert token is not None and token.get_secret_value() == "s3cret"


def test_deployment_settings_are_validated() -> None:
    with pytest.raises(ValidationError):
        Settings(canary_share=1.5)
    with pytest.raises(ValidationError):
        Settings(deployment_mode="sideways")  # type: ignore[arg-type]
    assert Settings(deployment_mode="canary").deployment_mode is DeploymentMode.CANARY  # type: ignore[arg-type]
