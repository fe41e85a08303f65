"""docker-compose.yml names the production profile's servers the way the code reaches them.

No Docker engine runs in CI, so the file's structure and references are checked here and
the same servers are run directly on loopback by the Redis/PostgreSQL tests.
"""

from __future__ import annotations

from typing import Any

import yaml

from tests.factories import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def test_production_services_are_present_with_health_checks() -> None:
    services = _compose()["services"]
    assert {"redis", "postgres", "mlflow"} <= set(services)
    for name in ("redis", "postgres", "mlflow"):
        assert services[name]["healthcheck"]["test"], name
        assert ":" in services[name]["image"] and not services[name]["image"].endswith(":latest"), name


def test_ports_match_the_production_settings_documented_in_the_file() -> None:
    services = _compose()["services"]
    assert "6379:6379" in services["redis"]["ports"]
    assert "5432:5432" in services["postgres"]["ports"]
    assert "5000:5000" in services["mlflow"]["ports"]
    text = COMPOSE.read_text()
    env = services["postgres"]["environment"]
    url = f"postgresql+psycopg://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@127.0.0.1:5432/{env['POSTGRES_DB']}"
    assert f"SKEWLESS_REGISTRY_URL={url}" in text


def test_mlflow_uses_postgres_and_waits_for_it() -> None:
    services = _compose()["services"]
    mlflow = services["mlflow"]
    assert mlflow["depends_on"]["postgres"]["condition"] == "service_healthy"
    command = " ".join(mlflow["command"])
    assert "--backend-store-uri postgresql://" in command and "@postgres:5432/mlflow" in command
    init_mount = next(v for v in services["postgres"]["volumes"] if "docker-entrypoint-initdb.d" in v)
    init_file = PROJECT_ROOT / init_mount.split(":")[0]
    assert "CREATE DATABASE mlflow" in init_file.read_text()


def test_api_service_reaches_the_servers_the_way_settings_expect() -> None:
    services = _compose()["services"]
    api = services["api"]
    env = api["environment"]
    assert env["SKEWLESS_PROFILE"] == "production"
    assert env["SKEWLESS_REDIS_CONNECTION"].startswith("redis:6379,db=")  # Feast's host:port,db=N form
    pg = services["postgres"]["environment"]
    assert env["SKEWLESS_REGISTRY_URL"].endswith(f"@postgres:5432/{pg['POSTGRES_DB']}")
    assert env["SKEWLESS_MLFLOW_TRACKING_URI"] == "http://mlflow:5000"
    assert {name for name, cond in api["depends_on"].items() if cond["condition"] == "service_healthy"} == {
        "redis",
        "postgres",
        "mlflow",
    }
    assert "/health/ready" in " ".join(api["healthcheck"]["test"])
    # The settings the compose file sets are real settings (a typo would be refused), with
    # ${VAR:-default} interpolated as compose does when nothing is exported.
    import re

    from skewless.settings import Settings

    values = {k: re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(v)) for k, v in env.items()}
    settings = Settings(**{k.removeprefix("SKEWLESS_").lower(): v for k, v in values.items()})
    assert settings.admin_token is None  # admin stays disabled unless a token is exported


def test_dockerfile_runs_the_api_as_a_non_root_user_with_a_health_check() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "\nUSER skewless" in dockerfile and "useradd" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/health/live" in dockerfile
    assert 'CMD ["skewless", "serve", "--host", "0.0.0.0", "--port", "8000"]' in dockerfile
    for package in ("skewless", "simulation", "feature_repo", "training", "serving", "monitoring"):
        assert f"COPY {package}/ {package}/" in dockerfile


def test_named_volumes_are_declared() -> None:
    compose = _compose()
    used = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if not volume.startswith(".")
    }
    assert used <= set(compose["volumes"])
