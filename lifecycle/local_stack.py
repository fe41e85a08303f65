"""The production profile's servers, run directly on loopback (what ``docker compose up`` starts).

A private ``redis-server`` on a free port (diskless), fresh PostgreSQL databases (one for
Feast's SQL registry, one for MLflow's backend) and a real MLflow tracking server. The
tests, the benchmarks and a person trying the production profile without Docker all
bring them up through :func:`local_production_stack`; everything started is stopped,
and every database dropped, when the block ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from skewless.errors import ConfigurationError

__all__ = [
    "DEFAULT_POSTGRES",
    "LocalStack",
    "free_port",
    "local_production_stack",
    "mlflow_server",
    "postgres_database",
    "redis_server",
    "start_redis_server",
    "wait_until_answering",
]

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_redis(port: int, process: subprocess.Popen[bytes], timeout_s: float = 10.0) -> None:
    import redis

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if redis.Redis(port=port, socket_timeout=0.5).ping():
                return
        except redis.exceptions.ConnectionError:
            time.sleep(0.05)
    raise ConfigurationError(f"redis-server on port {port} did not answer within {timeout_s:.0f} s")


def start_redis_server(
    port: int | None = None, workdir: Path | None = None, options: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """Start a private, diskless redis-server on loopback (the caller stops it); ``options`` are more
    ``--name value`` arguments (a cluster node's, say) and ``workdir`` its folder (a fresh one when
    none is given).

    Raises:
        ConfigurationError: ``redis-server`` is not installed or does not start.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise ConfigurationError("redis-server is not installed: apt-get install redis-server")
    port = port or free_port()
    folder = str(workdir) if workdir else tempfile.mkdtemp(prefix="skewless-redis-")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", folder, *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for_redis(port, process)
    except ConfigurationError:
        process.kill()
        raise
    return process


@contextmanager
def redis_server(port: int | None = None) -> Iterator[int]:
    """A private redis-server for the block; yields its port."""
    port = port or free_port()
    process = start_redis_server(port)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def postgres_database(admin_url: str = DEFAULT_POSTGRES) -> Iterator[str]:
    """A fresh PostgreSQL database for the block, dropped afterwards; yields its SQLAlchemy URL.

    Raises:
        ConfigurationError: no PostgreSQL answers at ``admin_url`` (with CREATE DATABASE rights).
    """
    import psycopg

    name = f"skewless_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as e:
        raise ConfigurationError(f"PostgreSQL is needed at {admin_url}: start it, or name another") from e
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_until_answering(url: str, process: subprocess.Popen[bytes], timeout_s: float, name: str) -> None:
    """Poll ``url`` until it answers 200.

    Raises:
        ConfigurationError: ``process`` exited, or the time ran out.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise ConfigurationError(f"{name} did not start: {url} never answered")
        time.sleep(0.3)


@contextmanager
def mlflow_command(arguments: list[str], timeout_s: float = 180.0) -> Iterator[str]:
    """``mlflow <arguments>`` (``server`` or ``ui``) on a free loopback port; yields its URL."""
    port = free_port()
    mlflow_cli = str(Path(sys.executable).with_name("mlflow"))
    process = subprocess.Popen(
        [mlflow_cli, *arguments, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{url}/health", process, timeout_s, f"mlflow {arguments[0]}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def mlflow_server(backend_url: str, artifacts: Path) -> Iterator[str]:
    """A real MLflow tracking server on ``backend_url`` (PostgreSQL, as in compose); yields its URL."""
    arguments = ["server", "--workers", "1", "--backend-store-uri", backend_url]
    with mlflow_command([*arguments, "--artifacts-destination", str(artifacts)]) as url:
        yield url


@dataclass(frozen=True)
class LocalStack:
    """Where the production profile's servers listen."""

    redis_port: int
    registry_url: str  # Feast's SQL registry (SQLAlchemy URL)
    mlflow_tracking_uri: str

    @property
    def redis_connection(self) -> str:
        """Feast's form of the Redis address (``host:port,db=N``, not a URL)."""
        return f"127.0.0.1:{self.redis_port},db=0"

    def settings(self) -> dict[str, str]:
        """The settings that point the production profile here (``Settings(**stack.settings())``)."""
        return {
            "redis_connection": self.redis_connection,
            "redis_type": "redis",
            "registry_url": self.registry_url,
            "mlflow_tracking_uri": self.mlflow_tracking_uri,
        }

    def environment(self) -> dict[str, str]:
        """The same as ``SKEWLESS_*`` variables, for a ``skewless`` process."""
        return {"SKEWLESS_PROFILE": "production"} | {
            f"SKEWLESS_{key.upper()}": value for key, value in self.settings().items()
        }


@contextmanager
def local_production_stack(folder: Path, postgres_admin_url: str = DEFAULT_POSTGRES) -> Iterator[LocalStack]:
    """Redis, two PostgreSQL databases and an MLflow server (artifacts under ``folder``) for the block.

    Raises:
        ConfigurationError: redis-server is missing, or PostgreSQL does not answer.
    """
    with ExitStack() as stack:
        port = stack.enter_context(redis_server())
        registry_url = stack.enter_context(postgres_database(postgres_admin_url))
        mlflow_db = stack.enter_context(postgres_database(postgres_admin_url))
        tracking_uri = stack.enter_context(mlflow_server(mlflow_db, folder / "mlflow-artifacts"))
        yield LocalStack(port, registry_url, tracking_uri)
