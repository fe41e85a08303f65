"""docker-compose.yml brings the production profile up on an empty machine, names the servers
the way the code reaches them, and its configuration files pass the tools that will read them.

No Docker engine and no Compose v2 binary run in CI (Debian ships only Compose v1, which
refuses the top-level ``name:``). So the file is interpolated here as Compose does, with the
values of ``.env.example``, and validated against the Compose Specification's own JSON schema
(``docker/compose-spec/``); Prometheus' files go through ``promtool`` (config, rules and the
rules' unit tests), Alertmanager's through ``amtool``, the gateway's through ``nginx -t`` and a
real nginx in front of stand-in replicas found through a stand-in DNS. The servers themselves
are run directly on loopback by the Redis/PostgreSQL tests.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.factories import PROJECT_ROOT

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
SCHEMA = PROJECT_ROOT / "docker" / "compose-spec" / "compose-spec.json"
PROMETHEUS_DIR = PROJECT_ROOT / "docker" / "prometheus"
ALERTMANAGER_CONFIG = PROJECT_ROOT / "docker" / "alertmanager" / "alertmanager.yml"
NGINX_CONFIG = PROJECT_ROOT / "docker" / "nginx.conf"
RUNBOOK = PROJECT_ROOT / "docs" / "runbook.md"

SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD")
LOOPBACK_ONLY = ("redis", "postgres", "mlflow", "prometheus", "alertmanager", "grafana")
NEW_ALERTS = ("OnlineFeaturesMissing", "ServedLogDropping", "ServedLogBacklog", "RegistryUnreachable")


# --- Compose's variable interpolation, as the Compose Specification defines it -------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(ValueError):
    """A ``${VAR:?message}`` whose variable is unset or empty: compose refuses to start."""


def _interpolate_text(text: str, env: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        value, op, arg = env.get(name), match["op"] or "", match["arg"] or ""
        present = value is not None and (value != "" or not op.startswith(":"))
        if op.endswith("-"):
            return value if present and value is not None else arg
        if op.endswith("?"):
            if not present or value is None:
                raise MissingVariable(f"{name}: {arg}")
            return value
        if op.endswith("+"):
            return arg if present else ""
        return value or ""

    interpolated = _VARIABLE.sub(replace, text)
    assert "${" not in interpolated.replace("$${", ""), f"unparsed variable in {text!r}"
    return interpolated


def _interpolate(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return _interpolate_text(node, env)
    if isinstance(node, list):
        return [_interpolate(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolate(value, env) for key, value in node.items()}
    return node


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)


def _raw() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def _env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f".env.example: bad line {line!r}"
            values[name] = value
    return values


def _env() -> dict[str, str]:
    """``.env.example`` with the passwords a user sets (letters and digits, as it asks)."""
    return _env_example() | {name: secrets.token_hex(12) for name in SECRETS}


def _compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The compose model after interpolation, as ``docker compose config`` would show it."""
    resolved: dict[str, Any] = _interpolate(_raw(), _env() if env is None else env)
    return resolved


def _header() -> str:
    lines = COMPOSE.read_text().splitlines()
    return "\n".join(line for line in lines[: lines.index("services:")] if line.startswith("#"))


def _published(port: str | dict[str, Any]) -> tuple[str, str, str]:
    """(host address, host port, container port) of a ports entry; '' for all interfaces."""
    if isinstance(port, dict):
        return str(port.get("host_ip", "")), str(port.get("published", "")), str(port["target"])
    parts = str(port).rsplit(":", 2)
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return "", parts[0], parts[-1]


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """Bind mounts of a service, container path -> repository path."""
    return {
        target: source
        for source, target, *_ in (volume.split(":") for volume in service.get("volumes", []))
        if source.startswith(".")
    }


def _binary(name: str, package: str) -> str:
    """A system binary (nginx lives in /usr/sbin, which a user's PATH may leave out)."""
    import shutil

    from tests.servers import require_binary

    return shutil.which(name, path="/usr/sbin:/sbin") or require_binary(name, package)


def _run(command: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd, check=False)


# --- The compose file ----------------------------------------------------------------------------


def test_every_service_is_pinned_health_checked_and_restarts_unless_stopped() -> None:
    services = _compose()["services"]
    expected = {"redis", "postgres", "mlflow", "api", "gateway", "prometheus", "alertmanager", "grafana"}
    assert set(services) == expected
    for name, service in services.items():  # all of them are servers: none runs once and exits
        assert service.get("restart") == "unless-stopped", name
        assert service["healthcheck"]["test"], name
        if "image" in service:
            assert re.search(r":[\w.-]+$", service["image"]) and not service["image"].endswith(":latest"), (
                name
            )
        else:
            assert "build" in service, name


def test_only_the_gateway_listens_beyond_loopback() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        for port in service.get("ports", []):
            host, published, target = _published(port)
            if name == "gateway":
                assert (host, published, target) == ("", "8000", "8000")
            else:
                assert name in LOOPBACK_ONLY and host == "127.0.0.1", f"{name} publishes {port}"
    for name in ("redis", "postgres", "mlflow"):
        assert services[name]["ports"], name  # published, but on loopback
    assert "ports" not in services["api"]  # replicas cannot share one host port


def test_passwords_come_from_the_env_file_never_from_the_compose_file() -> None:
    raw = _raw()
    references = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?P<op>:?[-?+])?[^}]*\}")
    for service in raw["services"].values():
        environment = service.get("environment", {})
        for key, value in environment.items():
            if re.search(r"PASSWORD|TOKEN|SECRET|AUTH", key):
                assert references.fullmatch(str(value)), f"{key} is written in the file"
        command = [str(word) for word in service.get("command", [])]
        if "--requirepass" in command:
            assert references.fullmatch(command[command.index("--requirepass") + 1])
    for text in _strings(raw):  # URLs' user:password@ and Feast's password=…: only a reference
        masked = references.sub("<variable>", text)
        for password in re.findall(r"://[^/:@\s]+:([^@\s]*)@", masked) + re.findall(
            r"password=([^,\s]*)", masked
        ):
            assert password == "<variable>", f"a literal password in {text!r}"
    # Every reference to a secret refuses to start without it: no default password anywhere.
    text = COMPOSE.read_text()
    for match in references.finditer(text):
        if match["name"] in SECRETS:
            assert match["op"] == ":?", f"{match[0]} has a default"
    assert "skewless:skewless" not in text and "admin/admin" not in text
    # The filled copy stays out of git; the documented template is committed.
    ignored = _run(["git", "check-ignore", "--no-index", ".env", ".env.example"], cwd=PROJECT_ROOT)
    assert ignored.stdout.split() == [".env"], ignored.stdout + ignored.stderr


def test_every_variable_the_file_reads_is_documented_in_env_example() -> None:
    used = {
        match["braced"] or match["named"]
        for text in _strings(_raw())
        for match in _VARIABLE.finditer(text)
        if not match["escaped"]
    }
    documented = _env_example()
    assert used == set(documented), (
        f"undocumented: {used - set(documented)}, unused: {set(documented) - used}"
    )
    for name in SECRETS:
        assert documented[name] == "", f"{name} must be chosen by the user, not copied"
        assert name in _header(), f"the header does not name {name}"
    for step in ("cp .env.example .env", "docker compose up -d --build"):
        assert step in _header(), step


def test_an_unedited_copy_of_env_example_refuses_to_start() -> None:
    for name in SECRETS:
        env = _env() | {name: ""}
        with pytest.raises(MissingVariable, match=rf"^{name}: set {name} in \.env"):
            _compose(env)
    _compose()  # and with the three passwords set, every variable resolves


def test_the_file_is_valid_for_the_compose_specification() -> None:
    import jsonschema_rs

    validator = jsonschema_rs.validator_for(json.loads(SCHEMA.read_text()))
    compose = _compose()
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert not errors, errors
    # The schema does catch a mistake (a misspelt key), so a pass above means something.
    broken = json.loads(json.dumps(compose))
    broken["services"]["api"]["healthcheck"]["intervall"] = "10s"
    assert not validator.is_valid(broken)
    # What compose checks beyond the schema: references between services, volumes and files.
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert services[dependency]["healthcheck"]["test"], f"{name} waits on {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./docker"):
                assert (PROJECT_ROOT / source).exists(), f"{name} mounts {source}, which is missing"
            elif not source.startswith("."):
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
        if "build" in service:
            context = service["build"] if isinstance(service["build"], str) else service["build"]["context"]
            assert (PROJECT_ROOT / context / "Dockerfile").is_file(), name


def test_the_stack_comes_up_before_any_champion_exists() -> None:
    """A replica with no champion is live but not ready (tests/serving/test_reload.py): nothing may
    wait for its readiness, or nothing but the servers would ever start."""
    services = _compose()["services"]
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "/health/live" in api_check and "/health/ready" not in api_check
    waiting_on_api = {name for name, service in services.items() if "api" in service.get("depends_on", {})}
    assert waiting_on_api == {"gateway"}  # Prometheus finds replicas by DNS whenever they exist
    # Start order: every service can start once its dependencies have (no cycle, none missing).
    started: set[str] = set()
    while len(started) < len(services):
        ready = {
            n for n, s in services.items() if n not in started and set(s.get("depends_on", {})) <= started
        }
        assert ready, f"cannot start {set(services) - started}"
        started |= ready


def test_the_api_reaches_the_servers_the_way_settings_expect() -> None:
    from sqlalchemy.engine import make_url

    from skewless.settings import Settings

    env = _env()
    services = _compose(env)["services"]
    api = services["api"]["environment"]
    pg = services["postgres"]["environment"]
    assert api["SKEWLESS_PROFILE"] == "production"
    # Feast's "host:port,key=value" string (Feast splits on commas; the password is one key).
    host, *options = api["SKEWLESS_REDIS_CONNECTION"].split(",")
    assert host == "redis:6379"
    assert dict(option.split("=", 1) for option in options) == {"db": "0", "password": env["REDIS_PASSWORD"]}
    assert "--requirepass" in services["redis"]["command"]
    assert services["redis"]["command"][-1] == env["REDIS_PASSWORD"]
    assert services["redis"]["environment"]["REDISCLI_AUTH"] == env["REDIS_PASSWORD"]  # its health check
    registry = make_url(api["SKEWLESS_REGISTRY_URL"])
    assert (registry.drivername, registry.host, registry.port) == ("postgresql+psycopg", "postgres", 5432)
    assert (registry.username, registry.password, registry.database) == (
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        pg["POSTGRES_DB"],
    )
    assert pg["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]
    waits_for = {
        name for name, cond in services["api"]["depends_on"].items() if cond["condition"] == "service_healthy"
    }
    assert waits_for == {"redis", "postgres", "mlflow"}
    # The settings the compose file sets are real settings (a typo would be refused).
    settings = Settings(**{key.removeprefix("SKEWLESS_").lower(): value for key, value in api.items()})
    assert settings.admin_token is None  # admin stays disabled unless a token is set
    assert settings.mlflow_tracking_uri == "http://mlflow:5000"


def test_the_header_and_the_runbook_reach_the_same_servers_from_the_host() -> None:
    """The exports printed for a person are the API's own, through the loopback ports."""
    raw_api = _raw()["services"]["api"]["environment"]
    runbook = RUNBOOK.read_text()
    for key in ("SKEWLESS_REDIS_CONNECTION", "SKEWLESS_REGISTRY_URL"):
        from_host = re.sub(r"\$\{([A-Z_]+)[^}]*\}", r"$\1", raw_api[key])
        from_host = from_host.replace("redis:6379", "127.0.0.1:6379").replace(
            "@postgres:5432", "@127.0.0.1:5432"
        )
        assert f"{key}={from_host}" in _header(), key
        assert f"{key}={from_host}" in runbook, key
    assert "SKEWLESS_MLFLOW_TRACKING_URI=http://127.0.0.1:5000" in _header()
    assert "set -a; . ./.env; set +a" in _header() and "set -a; . ./.env; set +a" in runbook


def test_mlflow_is_built_with_its_driver_and_installs_nothing_when_it_starts() -> None:
    services = _compose()["services"]
    mlflow = services["mlflow"]
    assert mlflow["build"] == "./docker/mlflow" and "image" not in mlflow
    command = [str(word) for word in mlflow["command"]]
    assert command[:2] == ["mlflow", "server"] and "pip" not in " ".join(command)
    assert "sh" not in command[0]  # no shell wrapping a start-time install
    dockerfile = (PROJECT_ROOT / "docker" / "mlflow" / "Dockerfile").read_text()
    lock = (PROJECT_ROOT / "requirements.lock").read_text()
    [client] = re.findall(r"^mlflow==(\S+)$", lock, re.MULTILINE)
    assert f"\nFROM ghcr.io/mlflow/mlflow:v{client}\n" in dockerfile  # server and client agree
    assert re.search(r"^RUN pip install [^\n]*psycopg2-binary==\d+\.\d+\.\d+\b", dockerfile, re.MULTILINE)
    backend = mlflow["environment"]["MLFLOW_BACKEND_STORE_URI"]
    pg = services["postgres"]["environment"]
    assert backend == f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@postgres:5432/mlflow"
    assert mlflow["depends_on"]["postgres"]["condition"] == "service_healthy"
    init_file = PROJECT_ROOT / _mounts(services["postgres"])["/docker-entrypoint-initdb.d/10-mlflow.sql"]
    assert "CREATE DATABASE mlflow" in init_file.read_text()
    # MLflow refuses Host headers it does not know: the API's, and a person's on loopback, pass.
    allowed = mlflow["environment"]["MLFLOW_SERVER_ALLOWED_HOSTS"].split(",")
    tracking = services["api"]["environment"]["SKEWLESS_MLFLOW_TRACKING_URI"].removeprefix("http://")
    assert tracking in allowed and "127.0.0.1:*" in allowed and "*" not in allowed


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


# --- The gateway ---------------------------------------------------------------------------------


def test_the_gateway_resolves_the_replicas_again_while_it_runs(tmp_path: Path) -> None:
    services = _compose()["services"]
    api, gateway = services["api"], services["gateway"]
    assert api["deploy"]["replicas"] >= 2 and "8000" in api["expose"]
    assert _mounts(gateway)["/etc/nginx/conf.d/default.conf"] == "./docker/nginx.conf"
    nginx = NGINX_CONFIG.read_text()
    code = "\n".join(line.split("#")[0] for line in nginx.splitlines())
    # Docker's DNS, asked again every 10 s; the name is in a variable, so it is resolved per
    # request and not once at start (which a name in an upstream block would be).
    assert re.search(r"^resolver 127\.0\.0\.11 valid=10s\b", code, re.MULTILINE)
    [(variable, target)] = re.findall(r"set \$(\w+) (\S+);", code)
    assert target == "http://api:8000" and f"proxy_pass ${variable};" in code
    assert not re.search(r"^\s*upstream\b", code, re.MULTILINE) and "listen 8000;" in code
    assert "./data/monitoring:/app/data/monitoring:ro" in api["volumes"]  # gauges the API re-exports
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{ include {NGINX_CONFIG}; }}\n"
    )
    checked = _run([_binary("nginx", "nginx"), "-t", "-p", str(tmp_path), "-c", str(main)])
    assert checked.returncode == 0, checked.stderr


class _Dns:
    """A DNS server on loopback that answers A queries for ``api`` with the current replicas,
    as Docker's does on the compose network (one address per replica)."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind(("127.0.0.1", 0))
        self._socket.settimeout(0.1)
        self.port = int(self._socket.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                query, peer = self._socket.recvfrom(512)
            except TimeoutError:
                continue
            self._socket.sendto(self._answer(query), peer)

    def _answer(self, query: bytes) -> bytes:
        end, labels = 12, []
        while query[end]:
            labels.append(query[end + 1 : end + 1 + query[end]].decode().lower())
            end += 1 + query[end]
        question = query[12 : end + 5]
        (qtype,) = struct.unpack(">H", query[end + 1 : end + 3])
        known = labels == ["api"]
        answers = list(self.addresses) if known and qtype == 1 else []
        header = struct.pack(">2sHHHHH", query[:2], 0x8180 if known else 0x8183, 1, len(answers), 0, 0)
        records = b"".join(struct.pack(">HHHIH", 0xC00C, 1, 1, 1, 4) + socket.inet_aton(a) for a in answers)
        return header + question + records

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()


class _ReplicaHandler(BaseHTTPRequestHandler):
    server: _Replica

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.server.seen.append(f"{self.command} {self.path}")
        body = json.dumps({"replica": self.server.address, "status": self.server.status}).encode()
        self.send_response(self.server.status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 (http.server's naming)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


class _Replica(ThreadingHTTPServer):
    """A stand-in API replica answering ``status`` to everything (503: not ready yet)."""

    def __init__(self, address: str, port: int, status: int) -> None:
        self.address, self.status = address, status
        self.seen: list[str] = []
        super().__init__((address, port), _ReplicaHandler)


@contextmanager
def _replicas(statuses: list[int]) -> Iterator[tuple[int, list[_Replica]]]:
    """Stand-in replicas, one loopback address each and all on one port, as replicas are on the
    compose network. Yields the port and the replicas."""
    replicas: list[_Replica] = []
    for _ in range(20):
        network = f"127.{random.randint(16, 250)}.{random.randint(0, 250)}."
        try:
            for index, status in enumerate(statuses):
                port = int(replicas[0].server_address[1]) if replicas else 0
                replicas.append(_Replica(f"{network}{index + 2}", port, status))
            break
        except OSError:
            for replica in replicas:
                replica.server_close()
            replicas = []
    assert replicas, "no free loopback addresses for the replicas"
    for replica in replicas:
        threading.Thread(target=replica.serve_forever, daemon=True).start()
    try:
        yield int(replicas[0].server_address[1]), replicas
    finally:
        for replica in replicas:
            replica.shutdown()
            replica.server_close()


@contextmanager
def _gateway(tmp_path: Path, dns: _Dns, api_port: int) -> Iterator[str]:
    """Real nginx running docker/nginx.conf on loopback. Only what a compose network gives and a
    test machine does not is replaced: Docker's DNS (our ``_Dns``), the replicas' port, the
    listen address, and the 10 s cache (1 s here, to see a change quickly)."""
    from tests.servers import free_port

    port = free_port()
    tmp_path.mkdir()
    site = NGINX_CONFIG.read_text()
    for old, new in (
        ("resolver 127.0.0.11 valid=10s", f"resolver 127.0.0.1:{dns.port} valid=1s"),
        ("http://api:8000;", f"http://api:{api_port};"),
        ("listen 8000;", f"listen 127.0.0.1:{port};"),
    ):
        assert site.count(old) == 1, old
        site = site.replace(old, new)
    (tmp_path / "gateway.conf").write_text(site)
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\ndaemon off;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/gateway.conf; }}\n"
    )
    process = subprocess.Popen([_binary("nginx", "nginx"), "-p", str(tmp_path), "-c", str(main)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    tmp_path / "error.log"
                ).read_text()
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _call(url: str, method: str = "GET") -> tuple[int, str]:
    """(status, replica that answered) of one request through the gateway."""
    request = urllib.request.Request(url, data=b"{}" if method == "POST" else None, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), str(json.loads(response.read())["replica"])
    except urllib.error.HTTPError as e:
        with e:
            return int(e.code), str(json.loads(e.read()).get("replica", ""))


def _until(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def test_the_gateway_follows_the_replicas_and_passes_over_one_that_is_not_ready(tmp_path: Path) -> None:
    dns = _Dns()
    try:
        with _replicas([503, 503, 200, 200]) as (port, [waiting, also_waiting, ready, later]):
            # No replica ready (no champion yet): the gateway answers 503 itself, having tried both.
            dns.addresses = [waiting.address, also_waiting.address]
            with _gateway(tmp_path / "none-ready", dns, port) as url:
                assert _call(f"{url}/health/ready")[0] == 503
                assert _call(f"{url}/predict", "POST")[0] == 503
                assert waiting.seen and also_waiting.seen
            # One replica ready: every request reaches it, the other's 503 is passed over.
            dns.addresses = [waiting.address, ready.address]
            with _gateway(tmp_path / "one-ready", dns, port) as url:
                answers = [_call(f"{url}/predict", "POST") for _ in range(6)]
                answers += [_call(f"{url}/health/ready") for _ in range(4)]
                assert answers == [(200, ready.address)] * 10
                assert len(waiting.seen) > 2  # it was asked again, answered 503, and the request went on
                # A replica replaced under a new address gets the traffic without a reload.
                dns.addresses = [later.address]
                assert _until(lambda: _call(f"{url}/predict", "POST") == (200, later.address))
                assert {_call(f"{url}/predict", "POST") for _ in range(4)} == {(200, later.address)}
    finally:
        dns.close()


# --- Prometheus, Alertmanager and Grafana --------------------------------------------------------


def _runbook_anchors() -> set[str]:
    headings = re.findall(r"^#+ (.+)$", RUNBOOK.read_text(), re.MULTILINE)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}  # GitHub's slugs


def _rules() -> list[dict[str, Any]]:
    loaded = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    return [rule for group in loaded["groups"] for rule in group["rules"]]


def test_prometheus_config_and_alert_rules_are_valid_for_promtool(tmp_path: Path) -> None:
    services = _compose()["services"]
    mounts = _mounts(services["prometheus"])
    config_source = mounts["/etc/prometheus/prometheus.yml"]
    rules_source = mounts["/etc/prometheus/alerts.yml"]
    assert rules_source == "./docker/prometheus/alerts.yml"
    config = yaml.safe_load((PROJECT_ROOT / config_source).read_text())
    assert config["rule_files"] == ["/etc/prometheus/alerts.yml"]
    [job] = config["scrape_configs"]
    [discovery] = job["dns_sd_configs"]
    assert discovery["names"] == ["api"] and str(discovery["port"]) in services["api"]["expose"]
    # Firing alerts go to the compose service, on the port Alertmanager listens on.
    [alertmanagers] = config["alerting"]["alertmanagers"]
    [static] = alertmanagers["static_configs"]
    assert static["targets"] == ["alertmanager:9093"]
    assert [_published(p)[2] for p in services["alertmanager"]["ports"]] == ["9093"]
    assert services["prometheus"]["depends_on"]["alertmanager"]["condition"] == "service_started"
    # promtool resolves rule files from the config: point it at the repository's copy.
    local = tmp_path / "prometheus.yml"
    local.write_text(yaml.safe_dump(config | {"rule_files": [str(PROJECT_ROOT / rules_source)]}))
    promtool = _binary("promtool", "prometheus")
    for command in (["check", "config", str(local)], ["check", "rules", str(PROJECT_ROOT / rules_source)]):
        checked = _run([promtool, *command])
        assert checked.returncode == 0, checked.stdout + checked.stderr
    anchors = _runbook_anchors()
    for rule in _rules():
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "docs/runbook.md" and anchor in anchors, f"{rule['alert']}: no section '{anchor}'"
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]


def test_the_alert_rules_fire_when_they_should_and_only_then() -> None:
    """`promtool test rules` replays series through the rules: the new alerts fire at the
    threshold and duration the issue set, and stay silent below them."""
    rules = {rule["alert"]: rule for rule in _rules()}
    assert set(NEW_ALERTS) <= set(rules)
    assert rules["OnlineFeaturesMissing"]["expr"] == "max(skewless_missing_feature_share) > 0.2"
    assert rules["OnlineFeaturesMissing"]["for"] == "5m"
    assert rules["ServedLogDropping"]["expr"] == "increase(skewless_served_log_dropped_total[5m]) > 0"
    assert rules["ServedLogBacklog"]["expr"] == "skewless_served_log_buffered_rows > 0"
    assert rules["ServedLogBacklog"]["for"] == "10m"
    assert rules["RegistryUnreachable"]["expr"] == "increase(skewless_model_reload_errors_total[5m]) > 3"
    unit_tests = PROMETHEUS_DIR / "alerts.test.yml"
    cases = yaml.safe_load(unit_tests.read_text())
    assert cases["rule_files"] == ["alerts.yml"]
    tested = {
        (check["alertname"], bool(check["exp_alerts"]))
        for case in cases["tests"]
        for check in case["alert_rule_test"]
    }
    for alert in NEW_ALERTS:
        assert (alert, True) in tested, f"no case where {alert} fires"
    for alert in NEW_ALERTS[:3]:
        assert (alert, False) in tested, f"no case where {alert} stays silent"
    result = _run([_binary("promtool", "prometheus"), "test", "rules", unit_tests.name], cwd=PROMETHEUS_DIR)
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr
    runbook = RUNBOOK.read_text()
    missing = runbook.split("### Online features missing", 1)[1].split("\n### ", 1)[0]
    assert "redis-cli" in missing and "skewless materialize --full" in missing


def test_alertmanager_config_is_valid_for_amtool_and_routes_every_alert(tmp_path: Path) -> None:
    services = _compose()["services"]
    alertmanager = services["alertmanager"]
    assert alertmanager["image"].startswith("prom/alertmanager:v")
    assert (
        _mounts(alertmanager)["/etc/alertmanager/alertmanager.yml"]
        == "./docker/alertmanager/alertmanager.yml"
    )
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager["command"]
    amtool = _binary("amtool", "prometheus-alertmanager")
    checked = _run([amtool, "check-config", str(ALERTMANAGER_CONFIG)])
    assert checked.returncode == 0 and "SUCCESS" in checked.stdout, checked.stdout + checked.stderr
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    receivers = {receiver["name"] for receiver in config["receivers"]}
    for rule in _rules():
        routed = _run(
            [amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}",
             f"alertname={rule['alert']}", f"severity={rule['labels']['severity']}"]
        )  # fmt: skip
        assert routed.returncode == 0 and routed.stdout.strip() in receivers, routed.stdout + routed.stderr
    # The commented webhook example, once uncommented as the file says, is valid too.
    text = ALERTMANAGER_CONFIG.read_text()
    example = re.search(r"^ {4}# webhook_configs:\n(?: {4}#.*\n)+", text, re.MULTILINE)
    assert example, "no webhook example under the receiver"
    enabled = tmp_path / "alertmanager.yml"
    enabled.write_text(text.replace(example[0], re.sub(r"^( {4})# ", r"\1", example[0], flags=re.MULTILINE)))
    checked = _run([amtool, "check-config", str(enabled)])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    [receiver] = yaml.safe_load(enabled.read_text())["receivers"]
    assert receiver["webhook_configs"][0]["url"].startswith("https://")


def _aggregated(expression: str) -> bool:
    """Whether every metric in a PromQL expression sits inside an aggregation (sum, max, …)."""
    aggregation = re.compile(r"\b(sum|max|min|avg|count)\s*(?:(?:by|without)\s*\([^()]*\)\s*)?$")
    for match in re.finditer(r"\bskewless_[a-z0-9_]+", expression):
        depth, inside = 0, False
        for position in range(match.start() - 1, -1, -1):
            if expression[position] == ")":
                depth += 1
            elif expression[position] == "(":
                if depth == 0 and aggregation.search(expression[:position]):
                    inside = True
                    break
                depth = max(depth - 1, 0)
        if not inside:
            return False
    return True


def test_grafana_is_provisioned_with_prometheus_and_the_dashboard(tmp_path: Path) -> None:
    services = _compose()["services"]
    grafana = services["grafana"]
    mounts = _mounts(grafana)
    provisioning = PROJECT_ROOT / mounts["/etc/grafana/provisioning"]
    dashboards_source = mounts["/var/lib/grafana/dashboards"]
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    assert [_published(p)[2] for p in services["prometheus"]["ports"]] == ["9090"]
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
        "live performance",
        "model version",
        "missing online features",
    ):
        assert topic in titles, topic
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"] and panel["targets"], panel["title"]
    # One line per panel series, not per replica: every metric is aggregated across replicas.
    expressions = {
        f"{panel['title']} {target['refId']}": target["expr"]
        for panel in dashboard["panels"]
        for target in panel["targets"]
    }
    for where, expression in expressions.items():
        assert _aggregated(expression), f"{where}: one series per replica: {expression}"
    assert not _aggregated("skewless_performance_auc")  # the check does catch a bare metric
    assert not _aggregated("histogram_quantile(0.99, rate(skewless_request_duration_seconds_bucket[5m]))")
    assert _aggregated(
        "histogram_quantile(0.99, sum by (le) (rate(skewless_request_duration_seconds_bucket[5m])))"
    )
    # A model-version variable from the live metric, used by the score panels; annotations for model
    # changes (promotions, reloads) and canary rollbacks; a panel comparing champion and canary.
    [variable] = dashboard["templating"]["list"]
    assert variable["name"] == "model_version" and "skewless_prediction_score" in variable["definition"]
    assert sum("$model_version" in expression for expression in expressions.values()) >= 2
    annotations = {a["name"]: a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a}
    assert any("model_reloads" in e for e in annotations.values()), annotations
    assert any("canary_rollbacks" in e for e in annotations.values()), annotations
    assert "champion versus canary" in titles
    # Every panel and annotation query is PromQL that Prometheus accepts (the variable at its "All").
    queries = [*expressions.values(), *annotations.values()]
    recorded = [
        {"record": f"dashboard:panel_{i}", "expr": expr.replace("$model_version", ".*")}
        for i, expr in enumerate(queries)
    ]
    rules = tmp_path / "dashboard.rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    checked = _run([_binary("promtool", "prometheus"), "check", "rules", str(rules)])
    assert checked.returncode == 0, checked.stdout + checked.stderr
