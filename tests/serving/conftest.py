"""The API under test: in this process where the process boundary is not the subject, a real
``skewless serve`` process where it is (SIGTERM, faults of the servers it talks to)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from serving.app import create_app
from serving.runner import serve_in_background
from skewless.settings import Settings
from tests.servers import free_port
from tests.worlds import TrainedWorld


@dataclass
class LiveApi:
    """A running API: its base URL, and its process when it runs in one of its own."""

    url: str
    process: subprocess.Popen[bytes] | None = None


@contextmanager
def api_in_process(settings: Settings, **overrides: Any) -> Iterator[LiveApi]:
    """The app on a uvicorn server in a thread of this process, with ``overrides`` of the settings."""
    configured = Settings(**(settings.model_dump() | overrides))  # validated, as from the environment
    with serve_in_background(create_app(configured)) as url:
        yield LiveApi(url)


def start_api(settings: Settings, output: Path | None = None, *args: str, **env: str) -> LiveApi:
    """`skewless serve` as a real process on a free loopback port, once ready (what it prints to
    ``output``, if given: the start-up line on stderr, uvicorn's access log on stdout)."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
    environment["SKEWLESS_READY_REQUIRES_FRESH_STORE"] = str(settings.ready_requires_fresh_store).lower()
    environment.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "lifecycle.cli", "--root-dir", str(settings.root_dir), "--profile",
         settings.profile.value, "serve", "--port", str(port), *args],
        env=environment,
        stdout=output.open("wb") if output is not None else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if output is not None else subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health/live", timeout=2):
                return LiveApi(url, process)
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the API did not start") from None
            time.sleep(0.3)


def stop_api(api: LiveApi) -> int:
    assert api.process is not None
    api.process.send_signal(signal.SIGTERM)
    return api.process.wait(timeout=30)


@pytest.fixture(scope="module")
def served(trained_world: TrainedWorld, tmp_path_factory: pytest.TempPathFactory) -> TrainedWorld:
    """This module's own copy of the trained world: the API serves into its log and registry."""
    return trained_world.copy(tmp_path_factory.mktemp("served") / "ws")


@pytest.fixture(scope="module")
def api(served: TrainedWorld) -> Iterator[LiveApi]:
    with api_in_process(
        served.settings, log_flush_seconds=0.2, max_batch_size=50, reload_interval_s=0
    ) as live:
        yield live


def served_log(settings: Settings) -> pd.DataFrame:
    files = sorted(Path(settings.layout.served_log_dir).rglob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()
