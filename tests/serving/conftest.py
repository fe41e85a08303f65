"""A served workspace: world, trained champion, online store as of a parity transaction, live API."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from feature_repo.operations import apply_feature_repo, materialize_features, open_feature_store
from feature_repo.pipeline import build_features
from simulation import simulate
from skewless.settings import Settings
from tests.conftest import QUIET
from tests.factories import make_workspace, training_world_config
from tests.servers import free_port
from training.config import TrainingConfig
from training.job import TrainingOutcome, train_and_register
from training.registry import promote


@dataclass(frozen=True)
class ServedWorkspace:
    settings: Settings
    outcome: TrainingOutcome
    parity_row: pd.Series  # a holdout transaction; the online store holds the state just before it


@dataclass
class LiveApi:
    url: str
    process: subprocess.Popen[bytes]


def start_api(settings: Settings, **env: str) -> LiveApi:
    """`skewless serve` as a real process on a free loopback port, once ready."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
    environment.update(env)
    process = subprocess.Popen(
        [sys.executable, "-m", "skewless.cli", "--root-dir", str(settings.root_dir), "--profile",
         settings.profile.value, "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
    api.process.send_signal(signal.SIGTERM)
    return api.process.wait(timeout=30)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> ServedWorkspace:
    settings = make_workspace(tmp_path_factory.mktemp("served") / "ws")
    simulate(training_world_config(), settings.layout, QUIET)
    build_features(settings.layout, QUIET)
    apply_feature_repo(settings)
    config = TrainingConfig()
    outcome = train_and_register(settings, config, QUIET)
    assert promote(settings, config, QUIET).passed
    frame = pd.read_parquet(outcome.dataset_path)
    holdout = frame[(frame["split"] == "holdout") & frame["last_txn_time"].notna()]
    parity_row = holdout.iloc[len(holdout) // 2]
    # Feast's materialize includes rows stamped exactly at `end`; training asks for the
    # state strictly before the transaction, so the store is loaded up to t - 1 µs.
    end = parity_row["transaction_time"].to_pydatetime() - timedelta(microseconds=1)
    materialize_features(open_feature_store(settings), end=end, start=end - timedelta(days=3_650))
    return ServedWorkspace(settings, outcome, parity_row)


@pytest.fixture(scope="session")
def api(served: ServedWorkspace) -> Iterator[LiveApi]:
    live = start_api(served.settings, SKEWLESS_LOG_FLUSH_SECONDS="0.2", SKEWLESS_MAX_BATCH_SIZE="50")
    yield live
    stop_api(live)


def served_log(settings: Settings) -> pd.DataFrame:
    files = sorted(Path(settings.layout.served_log_dir).rglob("*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True) if files else pd.DataFrame()
