"""docker-compose.yml names the production profile's servers the way the code reaches them.

No Docker engine runs in CI, so the file's structure and references are checked here and
the same servers are run directly on loopback by the Redis/PostgreSQL tests.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
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
    import tomllib

    # Every package the project installs is copied into the image (the CLI lives in lifecycle/).
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    packages = [name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    assert "lifecycle" in packages and len(packages) == 7
    for package in packages:
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


def test_every_file_the_services_mount_is_in_the_repository() -> None:
    for name, service in _compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./docker"):
                assert (PROJECT_ROOT / source).exists(), f"{name} mounts {source}, which is missing"


def test_the_api_runs_as_replicas_behind_the_gateway() -> None:
    services = _compose()["services"]
    api, gateway = services["api"], services["gateway"]
    assert api["deploy"]["replicas"] >= 2
    assert "ports" not in api and "8000" in api["expose"]  # replicas cannot share one host port
    assert "8000:8000" in gateway["ports"] and gateway["depends_on"]["api"]["condition"] == "service_healthy"
    nginx = (PROJECT_ROOT / "docker" / "nginx.conf").read_text()
    assert "server api:8000;" in nginx and "listen 8000;" in nginx
    # The API reads the monitoring gauges it re-exports from the folder the reports write.
    assert "./data/monitoring:/app/data/monitoring:ro" in api["volumes"]


def _promtool() -> str:
    from tests.servers import require_binary

    return require_binary("promtool", "prometheus")


def test_prometheus_config_and_alert_rules_are_valid_for_promtool(tmp_path: Path) -> None:
    services = _compose()["services"]
    mounts = dict(
        volume.split(":")[:2] for volume in services["prometheus"]["volumes"] if volume.startswith(".")
    )
    config_source = next(src for src, target in mounts.items() if target == "/etc/prometheus/prometheus.yml")
    rules_source = next(src for src, target in mounts.items() if target == "/etc/prometheus/alerts.yml")
    config = yaml.safe_load((PROJECT_ROOT / config_source).read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    [job] = config["scrape_configs"]
    [discovery] = job["dns_sd_configs"]
    assert discovery["names"] == ["api"] and str(discovery["port"]) in services["api"]["expose"]
    # promtool resolves rule files from the config: point it at the repository's copy.
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config | {"rule_files": [str(PROJECT_ROOT / rules_source)]}))
    for command in (["check", "config", str(local)], ["check", "rules", str(PROJECT_ROOT / rules_source)]):
        checked = subprocess.run([_promtool(), *command], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = yaml.safe_load((PROJECT_ROOT / rules_source).read_text())
    headings = re.findall(r"^#+ (.+)$", (PROJECT_ROOT / "docs" / "runbook.md").read_text(), re.MULTILINE)
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}  # GitHub's slugs
    for group in rules["groups"]:
        for rule in group["rules"]:
            page, anchor = rule["annotations"]["runbook"].split("#")
            assert page == "docs/runbook.md" and anchor in anchors, f"{rule['alert']}: no section '{anchor}'"


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard() -> None:
    services = _compose()["services"]
    grafana = services["grafana"]
    mounts = dict(volume.split(":")[:2] for volume in grafana["volumes"] if volume.startswith("."))
    provisioning = PROJECT_ROOT / next(s for s, t in mounts.items() if t == "/etc/grafana/provisioning")
    dashboards_source = next(s for s, t in mounts.items() if t == "/var/lib/grafana/dashboards")
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090" and "9090:9090" in services["prometheus"]["ports"]
    [provider] = yaml.safe_load((provisioning / "dashboards" / "skewless.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (PROJECT_ROOT / dashboards_source / Path(home).name).exists()
    dashboard = json.loads((PROJECT_ROOT / dashboards_source / "skewless.json").read_text())
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for topic in (
        "request rate",
        "latency p50 and p99",
        "error rate",
        "score distribution",
        "drift",
        "model version",
    ):
        assert topic in titles, topic
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"] and panel["targets"], panel["title"]
