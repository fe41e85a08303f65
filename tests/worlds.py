"""The simulated worlds the suite shares: each built once per session, copied where a test changes it.

- :func:`build_trained_world`: ninety days, features, the registry, champion v1, and the
  online store as of a holdout transaction (the parity row). Training, serving and the
  day replay read it.
- :func:`build_scenario_world`: a drift scenario (the change on 12 March), a champion
  that never saw it, and a served-feature log backfilled over the change. Monitoring
  and the scheduled jobs read it.
- :func:`build_production_world`: the trained world on the production profile's servers.

A test that writes to a world (trains, promotes, sets a deployment, serves into its
log, materializes) takes a copy (``lifecycle.workspace.copy_workspace``), so the shared
one stays as built whatever order the tests run in.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd

from feature_repo.operations import (
    apply_feature_repo,
    materialize_features,
    open_feature_store,
    open_profile_spark_session,
)
from feature_repo.pipeline import build_features, build_features_on_spark
from lifecycle.backfill import backfill_rows, write_backfill
from lifecycle.local_stack import LocalStack, start_redis_server
from lifecycle.redis_cluster import LocalRedisCluster
from lifecycle.workspace import copy_workspace
from monitoring.reference import ModelReference, load_model_reference
from simulation import SimulationConfig, simulate
from skewless.modes import Profile
from skewless.progress import Progress
from skewless.registry import CHAMPION, MlflowModelRegistry
from skewless.settings import Settings
from tests.factories import make_workspace, training_world_config
from training.config import TrainingConfig
from training.dataset import TrainingSet
from training.job import TrainingOutcome, train_and_register
from training.registry import promote

QUIET = Progress(quiet=True)


@dataclass(frozen=True)
class TrainedWorld:
    """A trained, promoted and materialized workspace."""

    settings: Settings
    registry: MlflowModelRegistry
    config: TrainingConfig
    outcome: TrainingOutcome
    parity_row: pd.Series  # a holdout transaction; the online store holds the state just before it

    @property
    def training_set(self) -> TrainingSet:
        return self.outcome.training_set

    def copy(self, root: Path) -> TrainedWorld:
        """The same world in a workspace of its own."""
        settings = copy_workspace(self.settings, root)
        return replace(self, settings=settings, registry=MlflowModelRegistry.from_settings(settings))


def _champion_of(
    settings: Settings, world: SimulationConfig, training: TrainingConfig
) -> tuple[MlflowModelRegistry, TrainingOutcome]:
    """Simulate ``world``, build the features, apply, train and promote the first champion."""
    simulate(world, settings.layout, QUIET)
    build_features(settings.layout, QUIET)
    apply_feature_repo(settings)
    registry = MlflowModelRegistry.from_settings(settings)
    outcome = train_and_register(settings, registry, training, QUIET)
    assert promote(registry, training, QUIET).passed
    return registry, outcome


def build_trained_world(root: Path) -> TrainedWorld:
    settings = make_workspace(root)
    config = TrainingConfig()
    registry, outcome = _champion_of(settings, training_world_config(), config)
    holdout = outcome.training_set.split("holdout")
    holdout = holdout[holdout["last_txn_time"].notna()]
    parity_row = holdout.iloc[len(holdout) // 2]
    # Feast's materialize includes rows stamped exactly at `end`; training asks for the
    # state strictly before the transaction, so the store is loaded up to t - 1 µs.
    end = parity_row["transaction_time"].to_pydatetime() - timedelta(microseconds=1)
    materialize_features(open_feature_store(settings), end=end, start=end - timedelta(days=3_650))
    return TrainedWorld(settings, registry, config, outcome, parity_row)


@dataclass(frozen=True)
class SparkWorld:
    """The training world of ``TrainedWorld`` on the spark profile: features built on Spark, the
    training set through Feast's Spark offline store, materialized by Feast's Spark engine into a
    Redis Cluster; Feast's registry and MLflow on the local production stack."""

    settings: Settings
    registry: MlflowModelRegistry
    outcome: TrainingOutcome
    stack: LocalStack
    cluster: LocalRedisCluster

    def environment(self) -> dict[str, str]:
        """``SKEWLESS_*`` variables that point a ``skewless`` process at this world."""
        return self.stack.environment() | {
            "SKEWLESS_PROFILE": "spark",
            "SKEWLESS_REDIS_TYPE": "redis_cluster",
            "SKEWLESS_REDIS_CONNECTION": self.cluster.connection_string,
        }


def build_spark_world(root: Path, stack: LocalStack, cluster: LocalRedisCluster, end: datetime) -> SparkWorld:
    """The spark world, loaded into the online store up to ``end`` (the embedded world's parity)."""
    settings = make_workspace(
        root, profile=Profile.SPARK, **(stack.settings() | {"redis_type": "redis_cluster",
        "redis_connection": cluster.connection_string}),
    )  # fmt: skip
    spark = open_profile_spark_session(settings)
    simulate(training_world_config(), settings.layout, QUIET)
    build_features_on_spark(settings.layout, QUIET, spark)
    apply_feature_repo(settings)
    registry = MlflowModelRegistry.from_settings(settings)
    outcome = train_and_register(settings, registry, TrainingConfig(), QUIET)
    assert promote(registry, TrainingConfig(), QUIET).passed
    materialize_features(open_feature_store(settings), end=end, start=end - timedelta(days=3_650))
    return SparkWorld(settings, registry, outcome, stack, cluster)


# Scenario worlds: 120 days at a tenth of the default size. The scenario starts on day 70
# (12 March); the champion is trained with a cut-off on day 90 (1 April), so it learns from
# days 30-50 and never sees the change. The served log covers days 60-90 (2 March to
# 1 April) with all labels known by day 120 (1 May); on `none` it runs to day 120, which
# gives sixty daily windows to count false alarms on.
WORLD_START, WORLD_END = date(2026, 1, 1), date(2026, 5, 1)
DRIFT_START = datetime(2026, 3, 12, tzinfo=UTC)
SERVED_FROM, SERVED_TO = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
NONE_SERVED_TO = datetime(2026, 5, 1, tzinfo=UTC)
CHAMPION_CUTOFF = datetime(2026, 4, 1, tzinfo=UTC)
LABELS_ALL_KNOWN = datetime(2026, 5, 1, tzinfo=UTC)
RETRAIN_AT = datetime(2026, 5, 31, tzinfo=UTC)


@dataclass(frozen=True)
class ScenarioWorld:
    settings: Settings
    registry: MlflowModelRegistry
    reference: ModelReference
    scenario: str
    seed: int

    def copy(self, root: Path) -> ScenarioWorld:
        """The same world in a workspace of its own."""
        settings = copy_workspace(self.settings, root)
        return replace(self, settings=settings, registry=MlflowModelRegistry.from_settings(settings))


def build_scenario_world(root: Path, scenario: str, seed: int) -> ScenarioWorld:
    settings = make_workspace(root)
    config = SimulationConfig(
        start=WORLD_START,
        # The concept world runs a month longer, so that a retrained model has a month of
        # matured post-change data to learn from and be judged on.
        end=RETRAIN_AT.date() if scenario == "concept" else WORLD_END,
        scale=0.1,
        seed=seed,
        scenario=scenario,
        drift_start=DRIFT_START.date(),
    )
    registry, _ = _champion_of(settings, config, TrainingConfig(cutoff=CHAMPION_CUTOFF))
    served_to = NONE_SERVED_TO if scenario == "none" else SERVED_TO
    rows = backfill_rows(settings, registry, SERVED_FROM, served_to)
    write_backfill(settings, rows, [registry.load(CHAMPION)])
    reference = load_model_reference(registry, CHAMPION)
    return ScenarioWorld(settings, registry, reference, scenario, seed)


@dataclass
class ProductionWorld:
    """The trained world on the production profile: Redis, Feast's registry and MLflow's backend on
    PostgreSQL, an MLflow tracking server, all on loopback (``lifecycle.local_stack``)."""

    settings: Settings
    registry: MlflowModelRegistry
    outcome: TrainingOutcome
    parity_row: pd.Series
    stack: LocalStack
    stack_artifacts: Path  # where the MLflow server keeps artifacts
    restarted: list[subprocess.Popen[bytes]]

    def stop_redis(self) -> None:
        """Stop the online store under whoever reads it (a fault test)."""
        import redis

        try:
            redis.Redis(port=self.stack.redis_port).shutdown(nosave=True)
        except redis.exceptions.ConnectionError:
            pass  # already down

    def start_redis(self) -> None:
        """Start the online store again, empty (it keeps nothing on disk, as in compose)."""
        self.restarted.append(start_redis_server(self.stack.redis_port))


def build_production_world(root: Path, stack: LocalStack, artifacts: Path) -> ProductionWorld:
    settings = make_workspace(root, profile=Profile.PRODUCTION, **stack.settings())
    registry, outcome = _champion_of(settings, training_world_config(), TrainingConfig())
    row = outcome.training_set.split("holdout").iloc[-1]
    end = row["transaction_time"].to_pydatetime()
    materialize_features(open_feature_store(settings), end=end, start=end - timedelta(days=3_650))
    return ProductionWorld(settings, registry, outcome, row, stack, artifacts, [])
