"""Real servers for tests: Redis, PostgreSQL, MLflow (from ``lifecycle.local_stack``), Prometheus,
Chromium and a webhook receiver, all on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from lifecycle import local_stack
from lifecycle.local_stack import free_port, mlflow_command, start_redis_server, wait_until_answering

__all__ = [
    "PrometheusServer",
    "RedisServer",
    "WebhookReceiver",
    "free_port",
    "mlflow_ui",
    "postgres_database",
    "prometheus_scraping",
    "redis_for_tests",
    "require_binary",
    "screenshot_in_chromium",
    "start_redis_server",
    "webhook_receiver",
]


@dataclass(frozen=True)
class RedisServer:
    """Where a test Redis listens, and how to reach it in Feast's form."""

    host: str
    port: int
    db: int
    process: subprocess.Popen[bytes] | None

    @property
    def connection_string(self) -> str:
        return f"{self.host}:{self.port},db={self.db}"

    def client(self) -> redis.Redis:
        return redis.Redis(host=self.host, port=self.port, db=self.db)


@contextmanager
def redis_for_tests() -> Iterator[RedisServer]:
    """Our own redis-server when the binary exists; never a silent skip.

    Order: a private redis-server on a free port; else SKEWLESS_TEST_REDIS (host:port);
    else db 15 of a local Redis on 6379 (only our own keys are touched). With none of
    these the test fails with the fix.
    """
    if shutil.which("redis-server"):
        port = free_port()
        process = start_redis_server(port)
        try:
            yield RedisServer("127.0.0.1", port, 0, process)
        finally:
            process.terminate()
            process.wait(timeout=10)
        return
    host, _, port_text = os.environ.get("SKEWLESS_TEST_REDIS", "127.0.0.1:6379").partition(":")
    server = RedisServer(host, int(port_text or 6379), 15, None)
    try:
        server.client().ping()
    except redis.exceptions.ConnectionError as e:
        raise RuntimeError(
            "Redis tests need a Redis server: install redis-server (apt-get install redis-server) "
            "or set SKEWLESS_TEST_REDIS=host:port"
        ) from e
    yield server


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards (SKEWLESS_TEST_POSTGRES names the
    server, default postgresql://postgres@127.0.0.1:5432/postgres)."""
    admin = os.environ.get("SKEWLESS_TEST_POSTGRES", local_stack.DEFAULT_POSTGRES)
    with local_stack.postgres_database(admin) as url:
        yield url


@contextmanager
def mlflow_ui(command: str) -> Iterator[str]:
    """``mlflow ui …`` as the main job prints it for a person to run, on a free loopback port."""
    words = command.split("(")[0].split()
    assert words[:2] == ["mlflow", "ui"], command
    with mlflow_command(words[1:]) as url:
        yield url


def require_binary(name: str, package: str | None = None) -> str:
    """The path of a system binary the test drives; fails in CI, skips elsewhere, when missing."""
    import pytest

    path = shutil.which(name)
    if path is None:
        hint = f"{name} is not installed (scripts/system-deps.sh installs {package or name})"
        if os.environ.get("CI"):
            pytest.fail(f"{hint}; CI needs it")
        pytest.skip(hint)
    return path


@contextmanager
def full_filesystem(folder: Path, size_kb: int = 256) -> Iterator[Path]:
    """A small tmpfs mounted at ``folder`` and filled up; yields the filler file (delete it to free
    the space). Needs root to mount: fails in CI, skips elsewhere, without it."""
    import pytest

    if os.geteuid() != 0 or shutil.which("mount") is None:
        hint = "mounting a tmpfs needs root"
        if os.environ.get("CI"):
            pytest.fail(f"{hint}; CI runs as root")
        pytest.skip(hint)
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(folder)], check=True)
    filler = folder / "filler"
    try:
        descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(descriptor, b"\0" * 65_536)
        except OSError:
            pass  # the disk is full: what we wanted
        finally:
            os.close(descriptor)
        yield filler
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def screenshot_in_chromium(page: Path | str, shot: Path, size: str = "1280,2000") -> float:
    """Render ``page`` (a file, or a URL) in headless Chromium as a person would see it; returns the
    share of coloured pixels in the screenshot (near 0 for a blank or unstyled page)."""
    import matplotlib.image as image

    browser = require_binary("chromium")
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--virtual-time-budget=5000", f"--screenshot={shot}", f"--window-size={size}",
         page.as_uri() if isinstance(page, Path) else page],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert shot.exists() and shot.stat().st_size > 20_000, f"no screenshot of {page}"
    pixels = image.imread(str(shot))
    return float((abs(pixels[..., 0] - pixels[..., 2]) > 0.15).mean())


@dataclass(frozen=True)
class PrometheusServer:
    """A real Prometheus on loopback: its URL and an instant query."""

    url: str

    def query(self, expression: str) -> list[dict[str, object]]:
        import json
        import urllib.parse
        import urllib.request

        address = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expression})}"
        with urllib.request.urlopen(address, timeout=5) as response:
            answer = json.loads(response.read())
        assert answer["status"] == "success", answer
        result: list[dict[str, object]] = answer["data"]["result"]
        return result

    def wait_for(self, expression: str, timeout_s: float = 30.0) -> list[dict[str, object]]:
        """Query until the expression returns a sample (Prometheus scrapes every second)."""
        deadline = time.monotonic() + timeout_s
        while True:
            result = self.query(expression)
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.5)


@contextmanager
def prometheus_scraping(target: str, job: str = "skewless-api") -> Iterator[PrometheusServer]:
    """Debian's Prometheus on a free loopback port, scraping ``target`` (host:port) every second."""

    binary = require_binary("prometheus")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="skewless-prometheus-")
    config = os.path.join(folder, "prometheus.yml")
    with open(config, "w") as handle:
        handle.write(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            f"scrape_configs:\n  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
        )
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={folder}/data",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(f"{url}/-/ready", process, 60, "prometheus")
        yield PrometheusServer(url)
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class WebhookReceiver:
    """A loopback HTTP endpoint that records every JSON body POSTed to it."""

    url: str
    bodies: list[object]


@contextmanager
def webhook_receiver(status: int = 200) -> Iterator[WebhookReceiver]:
    """Serve a webhook on a free loopback port, answering ``status`` to every POST."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    bodies: list[object] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("content-length", "0"))
            bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(status)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WebhookReceiver(f"http://127.0.0.1:{server.server_address[1]}/alerts", bodies)
    finally:
        server.shutdown()
        server.server_close()


class PausableProxy:
    """A TCP proxy on loopback to ``target``: ``pause()`` makes it hang (connections are accepted and
    held, nothing is forwarded), as a server that stopped answering does; ``resume()`` ends that."""

    def __init__(self, target_host: str, target_port: int) -> None:
        import threading

        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.running = threading.Event()
        self.running.set()
        self._open = True
        threading.Thread(target=self._accept, daemon=True).start()

    def pause(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    def close(self) -> None:
        self._open = False
        self.running.set()
        self.listener.close()

    def _accept(self) -> None:
        import threading

        while self._open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        import select

        self.running.wait()
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        peers = {client: upstream, upstream: client}
        try:
            while self._open:
                readable, _, _ = select.select(list(peers), [], [], 0.1)
                for sock in readable:
                    self.running.wait()  # paused: hold the bytes, answer nothing
                    data = sock.recv(65_536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except OSError:
            return
        finally:
            client.close()
            upstream.close()
