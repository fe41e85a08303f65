"""Benchmark each profile's offline stages as the data grows: seconds and peak memory per stage.

For each scale (1 = about 450k transactions over 90 days) one world is simulated, then each
profile runs its own stages on a copy of it, every stage in a process of its own:

- embedded: the feature build in DuckDB, ``feast apply``, the training set through our ASOF
  offline store, LightGBM on one machine, batch scoring of the last week's transactions
  (``skewless score``) with that model, materialization into SQLite;
- spark: the same SQL on Spark (local[2] here; a cluster by SKEWLESS_SPARK_MASTER), ``feast
  apply`` (the registry on a fresh PostgreSQL database), the training set through Feast's Spark
  offline store (joined, given its on-demand features and written by the executors), LightGBM on
  Dask (two local workers), batch scoring with the features from the executors, materialization
  by Feast's Spark engine into Redis (a private redis-server).

Batch scoring uses the fit stage's model, so it runs only where the fit did.

Peak memory is the stage's Python process and, separately, all its descendants together (Spark's
JVM and Python workers, Dask's workers), sampled; a stage that dies (out of memory) is reported
and the profile's later stages at that scale skipped. The spark profile's training set (and so
its fit) is not started where its driver would need more memory than the machine has (by a
line through the measured scales 10 and 30): the line says so and what it would need.

    python -m benchmarks.bench_scale                      # scales 1, 10 and 30
    python -m benchmarks.bench_scale --scale 1 --profile embedded
    python -m benchmarks.bench_scale --scale 10 --legit-sample-rate 0.1   # the sampled training set
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.measure import measure

PROFILES = ("embedded", "spark")
SCORED_DAYS = 7  # batch scoring: the last week's transactions


def _settings(root: str, profile: str, extra: dict[str, Any]) -> Any:
    from skewless.settings import Settings

    return Settings(root_dir=root, profile=profile, **extra)


def stage_simulate(root: str, scale: float) -> dict[str, Any]:
    import pyarrow.parquet as pq

    from simulation import SimulationConfig, simulate
    from simulation.config import today_utc
    from skewless.progress import Progress

    settings = _settings(root, "embedded", {})
    simulate(SimulationConfig.ending(today_utc(), scale=scale), settings.layout, Progress(quiet=True))
    return {"rows": pq.ParquetFile(settings.layout.transactions).metadata.num_rows}


def stage_features(root: str, profile: str, extra: dict[str, Any]) -> dict[str, Any]:
    from feature_repo.operations import open_profile_spark_session
    from feature_repo.pipeline import build_features, build_features_on_spark
    from skewless.progress import Progress

    settings = _settings(root, profile, extra)
    if profile == "spark":
        spark = open_profile_spark_session(settings)
        summary = build_features_on_spark(settings.layout, Progress(quiet=True), spark)
        spark.stop()
    else:
        summary = build_features(settings.layout, Progress(quiet=True))
    return {"rows": sum(summary.rows.values())}


def stage_apply(root: str, profile: str, extra: dict[str, Any]) -> dict[str, Any]:
    from feature_repo.operations import apply_feature_repo

    apply_feature_repo(_settings(root, profile, extra))
    return {"rows": 0}


def stage_training_set(root: str, profile: str, extra: dict[str, Any], rate: float) -> dict[str, Any]:
    from feature_repo.operations import open_feature_store, open_profile_spark_session
    from skewless.progress import Progress
    from training.config import TrainingConfig
    from training.dataset import build_training_set

    settings = _settings(root, profile, extra)  # the repo applied by the stage before
    spark = open_profile_spark_session(settings) if profile == "spark" else None
    ts = build_training_set(
        open_feature_store(settings),
        settings.layout,
        TrainingConfig(legit_sample_rate=rate),
        Progress(quiet=True),
    )
    if spark is not None:
        spark.stop()
    return {"rows": len(ts.frame), "path": str(ts.path)}


def stage_fit(root: str, profile: str, extra: dict[str, Any], path: str) -> dict[str, Any]:
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from feature_repo.operations import feature_service_schema, open_feature_store
    from training.config import TrainingConfig
    from training.dataset import LABEL, TrainingSet
    from training.model import predict, train_model

    settings = _settings(root, profile, extra)  # the service's schema, from the profile's registry
    features, categorical = feature_service_schema(open_feature_store(settings), "fraud_detection_v1")
    frame = pd.read_parquet(path)
    ts = TrainingSet(
        frame, features, categorical, "fraud_detection_v1", "", Path(path), pd.Timestamp.now(tz="UTC")
    )
    config = TrainingConfig(dask_min_rows=1 if profile == "spark" else 10**12)
    model = train_model(ts, config)
    holdout = ts.split("holdout")
    auc = float(roc_auc_score(holdout[LABEL], predict(model.booster, model.encoding, holdout)))
    model.booster.save_model(Path(root) / "bench-model.txt")  # for the batch-scoring stage
    (Path(root) / "bench-encoding.json").write_text(json.dumps(model.encoding.to_dict()))
    return {"rows": len(ts.split("train")), "auc": auc}


def stage_score(root: str, profile: str, extra: dict[str, Any], days: int) -> dict[str, Any]:
    """``skewless score`` of the last ``days`` days' transactions with the fitted model (registered
    in an in-memory registry: the stage measures the features and the scoring, not MLflow)."""
    from datetime import UTC, datetime

    import lightgbm as lgb
    import pandas as pd

    from feature_repo.operations import open_profile_spark_session
    from skewless.model_input import FeatureEncoding
    from skewless.progress import Progress
    from skewless.raw_data import read_manifest
    from skewless.registry import InMemoryModelRegistry, ModelMetadata, TrainingData
    from training.batch_scoring import score_transactions
    from training.config import TrainingConfig

    settings = _settings(root, profile, extra)
    spark = open_profile_spark_session(settings) if profile == "spark" else None
    since = pd.Timestamp(read_manifest(settings.layout).end, tz="UTC") - pd.Timedelta(days=days)
    transactions = pd.read_parquet(settings.layout.transactions, filters=[("transaction_time", ">=", since)])
    now = datetime.now(UTC)
    metadata = ModelMetadata(
        model_name="fraud_detection", feature_service=TrainingConfig().feature_service,
        encoding=FeatureEncoding.from_dict(json.loads((Path(root) / "bench-encoding.json").read_text())),
        decision_threshold=0.5, review_cost=1.0, training_data=TrainingData("", "", now, now, now),
    )  # fmt: skip
    registry = InMemoryModelRegistry()
    booster = lgb.Booster(model_file=str(Path(root) / "bench-model.txt"))
    version = registry.add_version(booster, metadata)
    out = Path(root) / "bench-scores"
    scored = score_transactions(settings, registry, transactions, version, out, Progress(quiet=True))
    shutil.rmtree(out)
    if spark is not None:
        spark.stop()
    return {"rows": scored.rows}


def stage_materialize(root: str, profile: str, extra: dict[str, Any]) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from feature_repo.operations import (
        materialize_features,
        online_store_state,
        open_feature_store,
        open_profile_spark_session,
    )

    settings = _settings(root, profile, extra)
    spark = open_profile_spark_session(settings) if profile == "spark" else None
    store = open_feature_store(settings)
    end = datetime.now(UTC)
    materialize_features(store, end=end, start=end - timedelta(days=3_650))
    if spark is not None:
        spark.stop()
    entities = online_store_state(store).entities  # in the online store
    redis_mib = 0.0
    if profile == "spark":  # what a Redis shard must hold per entity
        import redis

        host, _, rest = settings.redis_connection.partition(":")
        redis_mib = redis.Redis(host=host, port=int(rest.split(",")[0])).info("memory")["used_memory"] / 2**20
    return {"rows": entities, "redis_mib": redis_mib}


def _spark_driver_gib(transactions: int) -> float:
    """Memory the spark profile's training set takes on this machine (the driver's Python, and
    the JVM and Python workers of Spark in local mode), a third of the transactions labelled: a
    line through the two points measured on 2026-12-02 (10.1 GiB at 1.41 million labelled rows,
    22.2 GiB at 4.23 million; the JVM's part follows the heap this script gives it, so this is
    an estimate to decide whether to try, not a bound)."""
    return 4.05 + 4.29 * transactions / 3 / 1e6


def _run_profile(
    scale: float,
    profile: str,
    raw: Path,
    workdir: Path,
    extra: dict[str, Any],
    transactions: int,
    rate: float,
) -> None:
    import psutil

    from lifecycle.workspace import create_workspace
    from skewless.modes import Profile

    root = create_workspace(workdir / profile, Profile(profile), **extra).root_dir
    shutil.copytree(raw, root / "data" / "raw")
    if "error" in _report(scale, profile, "features", stage_features, str(root), profile, extra):
        return
    machine_gib = psutil.virtual_memory().total / 2**30
    kept = 1 / 3 + 2 / 3 * rate  # about two thirds of the set is the train split's legitimate rows
    needed_gib = _spark_driver_gib(round(transactions * kept)) if profile == "spark" else 0.0
    _report(scale, profile, "apply", stage_apply, str(root), profile, extra)
    if needed_gib > machine_gib:  # it would be killed after many minutes: say so instead
        for name in ("training set", "fit (Dask)"):
            print(f"{scale:>5g}  {profile:<9} {name:<16} not run: needs about {needed_gib:.0f} GiB, "
                  f"this machine has {machine_gib:.0f}")  # fmt: skip
    else:
        built = _report(scale, profile, "training set", stage_training_set, str(root), profile, extra, rate)
        if "error" in built:
            return
        fit = _report(scale, profile, "fit" + (" (Dask)" if profile == "spark" else ""), stage_fit,
                      str(root), profile, extra, built["path"])  # fmt: skip
        if "auc" in fit:
            print(f"{scale:>5g}  {profile:<9} holdout AUC {fit['auc']:.4f}")
            _report(scale, profile, f"score {SCORED_DAYS} days", stage_score, str(root), profile, extra,
                    SCORED_DAYS)  # fmt: skip
    loaded = _report(scale, profile, "materialize", stage_materialize, str(root), profile, extra)
    if loaded.get("redis_mib"):
        per_entity = loaded["redis_mib"] * 2**20 / max(1, loaded["rows"])
        redis_mib = loaded["redis_mib"]
        print(f"{scale:>5g}  {profile:<9} Redis {redis_mib:,.0f} MiB, {per_entity:,.0f} bytes an entity")


def _report(scale: float, profile: str, name: str, stage: Any, *args: Any) -> dict[str, Any]:
    try:
        result = measure(stage, *args)
    except RuntimeError as e:  # the stage's process died (out of memory, most likely)
        print(f"{scale:>5g}  {profile:<9} {name:<16} failed: {e}")
        return {"error": str(e)}
    print(
        f"{scale:>5g}  {profile:<9} {name:<16} {result['seconds']:>8.1f} {result['rows']:>11,} "
        f"{result['peak_mib']:>9,.0f} {result['child_peak_mib']:>9,.0f}",
        flush=True,
    )
    return result


def run(scale: float, profiles: list[str], rate: float = 1.0) -> None:
    from contextlib import ExitStack

    from lifecycle.local_stack import postgres_database, redis_server

    workdir = Path(tempfile.mkdtemp(prefix=f"skewless-scale-bench-{scale:g}-"))
    try:
        (workdir / "world").mkdir()
        from lifecycle.workspace import create_workspace

        world = create_workspace(workdir / "world").root_dir
        simulated = _report(scale, "both", "simulate", stage_simulate, str(world), scale)
        if "error" in simulated:
            return
        for profile in profiles:
            with ExitStack() as servers:
                extra: dict[str, Any] = {}
                if profile == "spark":
                    port = servers.enter_context(redis_server())
                    # The driver holds the collected training set: 4 GB per million rows, up to 16 GB.
                    memory = f"{min(16, max(4, round(4 * scale * 0.15)))}g"
                    extra = {"redis_connection": f"127.0.0.1:{port},db=0",
                             "registry_url": servers.enter_context(postgres_database()),
                             "spark_conf": {"spark.driver.memory": memory}}  # fmt: skip
                _run_profile(scale, profile, world / "data" / "raw", workdir, extra, simulated["rows"], rate)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, action="append", help="repeatable; default 1, 10 and 30")
    parser.add_argument("--profile", choices=PROFILES, action="append", help="repeatable; default both")
    parser.add_argument(
        "--legit-sample-rate", type=float, default=1.0,
        help="share of the train split's legitimate rows kept (TrainingConfig.legit_sample_rate)",
    )  # fmt: skip
    args = parser.parse_args()
    header = f"{'scale':>5}  {'profile':<9} {'stage':<16} {'seconds':>8} {'rows':>11} {'peak MiB':>9}"
    print(f"{header} {'child MiB':>9}")
    for scale in args.scale or [1.0, 10.0, 30.0]:
        run(scale, args.profile or list(PROFILES), args.legit_sample_rate)


if __name__ == "__main__":
    main()
