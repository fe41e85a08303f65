"""A monitoring report over a large served-feature log, against the obvious pandas + scipy way.

A world is simulated at ``--world-scale``, a champion trained, and thirty days of its
traffic written to the served log in the API's format (features from
``get_historical_features``); the rows are then repeated, a second apart, until the
log holds ``--rows`` rows. Each stage runs in a fresh process, so its peak memory
is its own:

- ours: ``monitoring.job.run_report`` over the whole log: DuckDB bins every feature
  against the reference in one pass (with 30 daily sub-windows), then drift,
  performance, the JSON + HTML report and the gauges; measured without and with the
  200-request skew check, whose cost does not grow with the log (importing Feast,
  then one ``get_historical_features`` call);
- peer: pandas reads every feature column of the log, and scipy's ``ks_2samp``
  compares each numeric feature with the training rows (what a hand-rolled job
  does; it reads the training data, which ours never does).

    python benchmarks/bench_monitoring.py                  # 1,000,000 rows
    python benchmarks/bench_monitoring.py --rows 200000

Targets on 2 cores: under 10 s and under 1 GB peak for 1M rows.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.measure import measure

START, END = date(2026, 1, 1), date(2026, 4, 1)
SERVED_FROM, SERVED_TO = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def prepare(root: str, scale: float, rows: int) -> dict[str, Any]:
    import pandas as pd

    from feature_repo.operations import apply_feature_repo
    from feature_repo.pipeline import build_features
    from lifecycle.backfill import backfill_rows, write_backfill
    from lifecycle.workspace import create_workspace
    from simulation import SimulationConfig, simulate
    from skewless.progress import Progress
    from skewless.registry import CHAMPION, MlflowModelRegistry
    from training.config import TrainingConfig
    from training.job import train_and_register
    from training.registry import promote

    quiet = Progress(quiet=True)
    settings = create_workspace(Path(root))
    registry = MlflowModelRegistry.from_settings(settings)
    simulate(SimulationConfig(start=START, end=END, scale=scale, seed=5), settings.layout, quiet)
    build_features(settings.layout, quiet)
    apply_feature_repo(settings)
    train_and_register(settings, registry, TrainingConfig(), quiet)
    promote(registry, TrainingConfig(), quiet)
    history = backfill_rows(settings, registry, SERVED_FROM, SERVED_TO)
    copies = -(-rows // len(history))
    frames = []
    for copy in range(copies):
        shifted = history.assign(served_at=history["served_at"] + pd.Timedelta(seconds=copy))
        frames.append(shifted.assign(request_id=shifted["request_id"] + f"-{copy}"))
    log = pd.concat(frames, ignore_index=True).iloc[:rows]
    write_backfill(settings, log, [registry.load(CHAMPION)])
    return {"rows": len(log), "features": int(log.shape[1])}


def ours(root: str, skew: bool) -> dict[str, Any]:
    from monitoring.config import MonitoringConfig
    from monitoring.job import run_report
    from skewless.progress import Progress
    from skewless.registry import MlflowModelRegistry
    from skewless.settings import Settings

    settings = Settings(root_dir=Path(root))
    registry = MlflowModelRegistry.from_settings(settings)
    outcome = run_report(
        settings, registry, MonitoringConfig(), SERVED_FROM, SERVED_TO + timedelta(minutes=1),
        Progress(quiet=True), every=timedelta(days=1), skew=skew,
    )  # fmt: skip
    return {"verdict": outcome.report.verdict, "served_rows": outcome.report.drift.rows}


def peer(root: str) -> dict[str, Any]:
    import pandas as pd
    from scipy.stats import ks_2samp

    from monitoring.reference import NumericReference, load_model_reference
    from skewless.registry import MlflowModelRegistry
    from skewless.settings import Settings

    settings = Settings(root_dir=Path(root))
    reference = load_model_reference(MlflowModelRegistry.from_settings(settings), "champion")
    numeric = [name for name, ref in reference.features.items() if isinstance(ref, NumericReference)]
    served = pd.read_parquet(settings.layout.served_log_dir, columns=list(reference.features))
    training = pd.concat(pd.read_parquet(p) for p in settings.layout.training_sets_dir.glob("*.parquet"))
    statistics = {
        name: ks_2samp(training[name].dropna(), served[name].dropna()).statistic for name in numeric
    }
    return {"served_rows": len(served), "features_tested": len(statistics)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--world-scale", type=float, default=0.3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = str(Path(folder) / "ws")
        prepared = measure(prepare, root, args.world_scale, args.rows)
        print(
            f"prepared {prepared['rows']:,} logged rows ({prepared['features']} columns) "
            f"in {prepared['seconds']:.0f} s"
        )
        mine, skewed, theirs = measure(ours, root, False), measure(ours, root, True), measure(peer, root)
    print(f"{'':36}{'seconds':>10}{'peak MiB':>10}")
    for label, figures in (
        ("monitor report (ours)", mine),
        ("ours + 200-request skew check", skewed),
        ("pandas + scipy ks_2samp", theirs),
    ):
        verdict = f"   verdict {figures['verdict']}" if "verdict" in figures else ""
        print(f"{label:36}{figures['seconds']:>10.1f}{figures['peak_mib']:>10.0f}{verdict}")
    print(
        f"ratios (peer / ours): time {theirs['seconds'] / mine['seconds']:.2f}x, "
        f"memory {theirs['peak_mib'] / mine['peak_mib']:.2f}x; targets: < 10 s and < 1024 MiB for 1M rows"
    )


if __name__ == "__main__":
    main()
