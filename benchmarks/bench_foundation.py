"""Benchmark the foundation stages: simulate, feature build, apply + materialize to Redis.

Each stage runs in a child process so its peak memory (max RSS) is its own. The
materialize stage is compared with a peer measured in the same run: writing the same
number of entity rows to the same Redis with raw redis-py pipelines (a floor: no
offline read, no Feast serialization).

    python benchmarks/bench_foundation.py                 # default scale
    python benchmarks/bench_foundation.py --scale 1 --scale 10

Targets at scale 1 on 2 cores: simulate < 30 s, feature build < 60 s,
materialize >= 50k feature rows/s into Redis. Feast 0.67 materializes by reading every
feature-table row in the window and writing the latest per entity, so both rates are
printed: feature-table rows processed per second and entity rows written per second.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.measure import measure


def stage_simulate(root: str, scale: float) -> dict[str, Any]:
    from simulation import SimulationConfig, simulate
    from simulation.config import today_utc
    from skewless.progress import Progress
    from skewless.settings import Settings

    summary = simulate(
        SimulationConfig.ending(today_utc(), scale=scale),
        Settings(root_dir=root).layout,
        Progress(quiet=True),
    )
    return {"rows": summary.transactions}


def stage_build(root: str) -> dict[str, Any]:
    from feature_repo.pipeline import build_features
    from skewless.progress import Progress
    from skewless.settings import Settings

    summary = build_features(Settings(root_dir=root).layout, Progress(quiet=True))
    return {"rows": sum(summary.rows.values())}


def stage_apply_materialize(root: str, redis: str, registry: str) -> dict[str, Any]:
    import pandas as pd

    from feature_repo.operations import apply_feature_repo, materialize_features, open_feature_store
    from simulation import SimulationConfig
    from simulation.config import today_utc
    from skewless.settings import Profile, Settings

    settings = Settings(
        root_dir=root, profile=Profile.PRODUCTION, redis_connection=redis, registry_url=registry
    )
    started = time.perf_counter()
    apply_feature_repo(settings)
    apply_s = time.perf_counter() - started
    end = SimulationConfig.to_datetime(today_utc())
    summary = materialize_features(open_feature_store(settings), end=end, start=end - timedelta(days=3_650))
    layout = settings.layout
    feature_rows = sum(
        len(pd.read_parquet(path, columns=[column]))
        for path, column in (
            (layout.feature_table_dir("customer_activity"), "customer_id"),
            (layout.feature_table_file("customer_profile"), "customer_id"),
            (layout.feature_table_dir("merchant_stats"), "merchant_id"),
        )
    )
    entity_rows = (
        pd.read_parquet(layout.feature_table_dir("customer_activity"), columns=["customer_id"])[
            "customer_id"
        ].nunique()
        + len(pd.read_parquet(layout.feature_table_file("customer_profile"), columns=["customer_id"]))
        + pd.read_parquet(layout.feature_table_dir("merchant_stats"), columns=["merchant_id"])[
            "merchant_id"
        ].nunique()
    )
    return {
        "rows": int(feature_rows),
        "entity_rows": int(entity_rows),
        "apply_s": apply_s,
        "materialize_s": summary.seconds,
    }


def stage_redis_peer(redis: str, rows: int) -> dict[str, Any]:
    """Raw redis-py: the same number of hashes of 11 float fields, pipelined 500 at a time."""
    import struct

    import redis as redis_py

    host, _, rest = redis.partition(":")
    port, _, db = rest.partition(",db=")
    client = redis_py.Redis(host=host, port=int(port), db=int(db or 0))
    value = struct.pack("<d", 1.5)
    fields = {f"f{i}": value for i in range(11)}
    pipe = client.pipeline(transaction=False)
    for i in range(rows):
        pipe.hset(f"peer:{i}", mapping=fields)
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()
    return {"rows": rows}


def run(scale: float) -> list[tuple[str, dict[str, Any]]]:
    from lifecycle.local_stack import postgres_database, redis_server
    from lifecycle.workspace import create_workspace

    if not shutil.which("redis-server"):
        sys.exit("error: the benchmark needs redis-server on PATH (apt-get install redis-server)")
    workdir = Path(tempfile.mkdtemp(prefix=f"skewless-bench-{scale:g}-"))
    root = str(create_workspace(workdir / "ws").root_dir)
    try:
        with redis_server() as port, postgres_database() as registry:
            redis = f"127.0.0.1:{port},db=0"
            results = [("simulate", measure(stage_simulate, root, scale))]
            results.append(("feature build", measure(stage_build, root)))
            materialized = measure(stage_apply_materialize, root, redis, registry)
            results.append(("apply + materialize (Redis)", materialized))
            peer = measure(stage_redis_peer, redis, materialized["entity_rows"])
            results.append(("peer: raw redis-py writes", peer))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, action="append", help="repeatable; default 1")
    scales = parser.parse_args().scale or [1.0]
    print(f"{'scale':>5}  {'stage':<30} {'seconds':>8} {'rows':>11} {'rows/s':>10} {'peak MiB':>9}")
    for scale in scales:
        results = run(scale)
        for name, r in results:
            seconds = r.get("materialize_s", r["seconds"])
            print(
                f"{scale:>5g}  {name:<30} {seconds:>8.2f} {r['rows']:>11,} "
                f"{r['rows'] / seconds:>10,.0f} {r['peak_mib']:>9,.0f}"
            )
        by_name = dict(results)
        feast = by_name["apply + materialize (Redis)"]
        peer = by_name["peer: raw redis-py writes"]
        feast_entity_rate = feast["entity_rows"] / feast["materialize_s"]
        peer_rate = peer["rows"] / peer["seconds"]
        feature_rate = feast["rows"] / feast["materialize_s"]
        print(f"{scale:>5g}  apply {feast['apply_s']:.2f} s")
        print(f"{scale:>5g}  materialize read {feast['rows']:,} feature-table rows ({feature_rate:,.0f}/s)")
        entities = feast["entity_rows"]
        print(f"{scale:>5g}  materialize wrote {entities:,} entity rows ({feast_entity_rate:,.0f}/s)")
        print(f"{scale:>5g}  entity write rate / raw redis-py rate = {feast_entity_rate / peer_rate:.2f}")


if __name__ == "__main__":
    main()
