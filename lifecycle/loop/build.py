"""Everything before the first replayed day: the world, its features, the store, the first champion.

A rerun starts clean, so two runs never mix: the previous run's served log, reports,
deployment events and online store are moved to ``data/previous-run/``, and the
registered model loses its aliases and deployment tag (its versions and MLflow runs
stay, so the MLflow UI shows every run's history).
"""

from __future__ import annotations

import contextlib
import io
import shutil
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd

from feature_repo.operations import (
    apply_feature_repo,
    longest_ttl,
    lookup_online_features,
    materialize_features,
    open_feature_store,
)
from feature_repo.pipeline import build_features
from lifecycle.loop.config import LoopConfig, Start
from simulation import SimulationConfig, simulate
from skewless.contract import CUSTOMER_KEY, FEATURE_SERVICE_V1, MERCHANT_KEY
from skewless.layout import DataLayout
from skewless.progress import Progress
from skewless.registry import MlflowModelRegistry
from skewless.settings import Settings
from training.config import TrainingConfig
from training.job import train_and_register
from training.registry import promote

__all__ = ["MOVED_ASIDE", "build_start", "midnight", "move_previous_run", "sample_request"]

MOVED_ASIDE = ("served", "labels", "monitoring", "deployments", "locks", "online_store.db", "loop")


def midnight(day: date) -> datetime:
    """The first moment of ``day`` (UTC)."""
    return datetime.combine(day, time.min, UTC)


def move_previous_run(layout: DataLayout) -> list[str]:
    """Move the last run's state aside so that this run starts clean; returns what moved."""
    target = layout.root / "previous-run"
    present = [name for name in MOVED_ASIDE if (layout.root / name).exists()]
    if present:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in present:
            shutil.move(str(layout.root / name), str(target / name))
    return present


def sample_request(transactions: pd.DataFrame, day: date) -> dict[str, Any]:
    """The first transaction of ``day``: what the API is asked first when the replay begins."""
    start = pd.Timestamp(day, tz=UTC)
    first = transactions[transactions["transaction_time"] >= start].sort_values("transaction_time").iloc[0]
    return {
        CUSTOMER_KEY: int(first[CUSTOMER_KEY]),
        MERCHANT_KEY: int(first[MERCHANT_KEY]),
        "amount": float(first["amount"]),
        "merchant_country": str(first["merchant_country"]),
        "channel": str(first["channel"]),
        "transaction_time": first["transaction_time"].to_pydatetime(),
    }


def build_start(
    settings: Settings,
    registry: MlflowModelRegistry,
    config: LoopConfig,
    first: date,
    end: date,
    progress: Progress,
) -> Start:
    """Simulate, build the features, apply, materialize up to the replay, train and promote."""
    layout = settings.layout
    world = SimulationConfig(
        start=first - timedelta(days=config.history_days), end=end, scale=config.scale, seed=config.seed,
        scenario=config.scenario, drift_start=first + timedelta(days=config.drift_after_days),
    )  # fmt: skip
    simulation = simulate(world, layout, progress)
    features = build_features(layout, progress)
    with progress.step(f"feast apply ({settings.profile})"):
        applied = apply_feature_repo(settings)
    store = open_feature_store(settings)
    cutoff = midnight(first)
    with progress.step(f"materialize up to the replay's first day {first}"):
        with contextlib.redirect_stdout(io.StringIO()):  # Feast prints a line per view
            materialize_features(store, end=cutoff, start=cutoff - longest_ttl(store))
    request = sample_request(pd.read_parquet(layout.transactions), first)
    with progress.step(f"one online lookup of '{FEATURE_SERVICE_V1}'"):
        values = lookup_online_features(store, FEATURE_SERVICE_V1, [request])
    training = TrainingConfig(cutoff=cutoff)
    trained = train_and_register(settings, registry, training, progress)
    promotion = promote(registry, training, progress)
    online = {name: column[0] for name, column in values.items()}
    return Start(simulation, features, applied, request, online, trained, promotion)
