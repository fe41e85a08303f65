"""A Redis Cluster of ``redis-server`` processes on loopback: what the production and spark
profiles' ``redis_type: redis_cluster`` reads and writes, run without Docker (tests, benchmarks,
a person trying the cluster layout on one machine).

Each primary keeps its cluster state (``nodes.conf``) in its own folder, so a primary that is
stopped and started again on its port rejoins with its hash slots, holding nothing (diskless, as
the compose Redis): what a crashed shard looks like.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from lifecycle.local_stack import start_redis_server
from skewless.errors import ConfigurationError

__all__ = ["LocalRedisCluster", "local_redis_cluster"]

# A short node timeout, so a stopped primary is noticed (and the cluster marked failing) in about a
# second rather than Redis' default 15.
NODE_TIMEOUT_MS = 1_000


@dataclass
class LocalRedisCluster:
    """A running cluster: its primaries' ports and processes, and their folders."""

    ports: list[int]
    folder: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def connection_string(self) -> str:
        """Feast's form: every primary's ``host:port`` (one is enough for the client to find the rest)."""
        return ",".join(f"127.0.0.1:{port}" for port in self.ports)

    def stop_primary(self, index: int) -> None:
        """Kill one primary (no clean shutdown): its slots become unreachable."""
        process = self.processes[index]
        process.kill()
        process.wait(timeout=10)

    def start_primary(self, index: int, timeout_s: float = 30.0) -> None:
        """Start a stopped primary again on its port; it rejoins with its slots, empty."""
        self.processes[index] = _start_node(self.ports[index], self.folder / str(self.ports[index]))
        wait_until_cluster_ok(self.ports, timeout_s)

    def client(self, index: int) -> redis.Redis[bytes]:
        """A plain client of one primary (what it holds, not the cluster's view)."""
        return redis.Redis(port=self.ports[index], socket_timeout=2)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


def _free_node_port() -> int:
    """A loopback port for a cluster node: at most 55535, with the bus port (+10000) free as well."""
    for _ in range(200):
        port = random.randint(20_000, 45_000)  # noqa: S311 (a port, not a secret)
        try:
            for candidate in (port, port + 10_000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port
    raise ConfigurationError("no free loopback port pair for a Redis Cluster node")


def _start_node(port: int, folder: Path) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    options = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
               "--cluster-node-timeout", str(NODE_TIMEOUT_MS)]  # fmt: skip
    return start_redis_server(port, folder, options)


def wait_until_cluster_ok(ports: list[int], timeout_s: float = 30.0) -> None:
    """Wait until every node reports ``cluster_state:ok``.

    Raises:
        ConfigurationError: the cluster is not whole within ``timeout_s``.
    """
    deadline, states = time.monotonic() + timeout_s, {}
    while time.monotonic() < deadline:
        for port in ports:
            try:
                info = redis.Redis(port=port, socket_timeout=1).cluster("info")  # parsed into a dict
                states[port] = str(info.get("cluster_state")) == "ok"
            except redis.exceptions.RedisError:
                states[port] = False
        if all(states.values()):
            return
        time.sleep(0.1)
    failing = [port for port, ok in states.items() if not ok]
    raise ConfigurationError(f"Redis Cluster not ok within {timeout_s:.0f} s on ports {failing}")


@contextmanager
def local_redis_cluster(primaries: int = 3, timeout_s: float = 30.0) -> Iterator[LocalRedisCluster]:
    """A ``primaries``-node Redis Cluster (no replicas) on free loopback ports for the block.

    Raises:
        ConfigurationError: ``redis-server`` or ``redis-cli`` is missing, or the cluster does not form.
    """
    cli = shutil.which("redis-cli")
    if cli is None:
        raise ConfigurationError("redis-cli is not installed: apt-get install redis-tools")
    if primaries < 3:
        raise ConfigurationError("a Redis Cluster needs at least 3 primaries")
    cluster = LocalRedisCluster(
        [_free_node_port() for _ in range(primaries)], Path(tempfile.mkdtemp(prefix="skewless-cluster-"))
    )
    try:
        for port in cluster.ports:
            cluster.processes.append(_start_node(port, cluster.folder / str(port)))
        nodes = [f"127.0.0.1:{port}" for port in cluster.ports]
        created = subprocess.run(
            [cli, "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True, text=True, timeout=timeout_s, check=False,
        )  # fmt: skip
        if created.returncode != 0:
            raise ConfigurationError(
                f"redis-cli --cluster create failed: {created.stdout[-500:]}{created.stderr[-500:]}"
            )
        wait_until_cluster_ok(cluster.ports, timeout_s)
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.folder, ignore_errors=True)
