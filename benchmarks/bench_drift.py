"""Drift of two tables: ``skewless drift`` against Evidently's DataDriftPreset, on the same files.

The script writes a reference table and two current tables as parquet (``--rows`` each,
23 mixed columns): one with planted changes of material size (a mean shift of 0.35 sd, a
scale x1.5, a null rate from 0 to 10%, a new category in 3% of rows, a category mix moved)
and one drawn afresh from the reference's own distributions (no change at all). Each tool
judges both in a fresh process; the script prints, per tool, the changes caught, the
false columns on the no-change copy, seconds and peak memory.

Evidently runs in a virtualenv this script makes (``benchmarks/results/evidently-venv``),
never a project dependency, with its default preset settings.

    python benchmarks/bench_drift.py                 # 1,000,000 rows
    python benchmarks/bench_drift.py --rows 200000   # quicker

Targets for ours at 1M rows: <= 5 s and <= 1 GB, every planted change caught, no false
column.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import venv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.measure import measure

EVIDENTLY = ["evidently==0.7.23", "pandas<3", "pyarrow"]  # Evidently 0.7 does not import under pandas 3
VENV = Path(__file__).resolve().parent / "results" / "evidently-venv"
PLANTED = {
    "amount": "drift",  # mean shift of 0.35 sd
    "latency_ms": "drift",  # scale x1.5
    "balance": "null",  # null rate 0 -> 10%
    "channel": "unseen",  # a new category in 3% of rows
    "device": "drift",  # category mix moved
}


def _columns(rng: np.random.Generator, rows: int) -> pd.DataFrame:
    """23 columns: 15 numeric of several shapes, 8 categorical."""
    data: dict[str, Any] = {
        "amount": rng.normal(100, 20, rows),
        "latency_ms": rng.normal(50, 10, rows),
        "balance": rng.lognormal(7, 1, rows),
        "age": rng.integers(18, 90, rows).astype(np.float64),
        "score_a": rng.beta(2, 5, rows),
        "score_b": rng.exponential(3, rows),
        "items": rng.poisson(3, rows).astype(np.float64),
        "ratio": rng.uniform(0, 1, rows),
        "tenure_days": rng.gamma(2, 200, rows),
        "distance_km": rng.lognormal(2, 1.2, rows),
        "discount": rng.choice([0.0, 0.05, 0.1, 0.2], rows, p=[0.7, 0.15, 0.1, 0.05]),
        "temperature": rng.normal(15, 8, rows),
        "clicks": rng.negative_binomial(3, 0.3, rows).astype(np.float64),
        "rating": rng.integers(1, 6, rows).astype(np.float64),
        "weight": rng.normal(70, 12, rows),
        "channel": rng.choice(["web", "app", "pos", "phone"], rows, p=[0.4, 0.3, 0.2, 0.1]),
        "device": rng.choice(["ios", "android", "desktop"], rows, p=[0.3, 0.3, 0.4]),
        "country": rng.choice([f"C{i:02d}" for i in range(30)], rows),
        "plan": rng.choice(["free", "basic", "pro"], rows, p=[0.6, 0.3, 0.1]),
        "segment": rng.choice(list("ABCDEFG"), rows),
        "currency": rng.choice(["EUR", "USD", "GBP"], rows, p=[0.5, 0.35, 0.15]),
        "weekday": rng.choice(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], rows),
        "verified": rng.choice(["yes", "no"], rows, p=[0.8, 0.2]),
    }
    return pd.DataFrame(data)


def prepare(folder: str, rows: int, seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    reference, changed, unchanged = _columns(rng, rows), _columns(rng, rows), _columns(rng, rows)
    changed["amount"] += 0.35 * 20
    changed["latency_ms"] = 50 + (changed["latency_ms"] - 50) * 1.5
    changed.loc[rng.random(rows) < 0.10, "balance"] = np.nan
    changed.loc[rng.random(rows) < 0.03, "channel"] = "kiosk"
    changed["device"] = rng.choice(["ios", "android", "desktop"], rows, p=[0.45, 0.35, 0.2])
    for name, frame in (("reference", reference), ("changed", changed), ("unchanged", unchanged)):
        frame.to_parquet(Path(folder) / f"{name}.parquet")
    return {"columns": reference.shape[1]}


def ours(folder: str, current: str) -> dict[str, Any]:
    from monitoring.datasets import compare_datasets

    result = compare_datasets(Path(folder) / "reference.parquet", Path(folder) / f"{current}.parquet")
    return {"flagged": {f.name: f.status for f in result.drift.features if f.flagged}}


EVIDENTLY_RUN = """
import json, resource, sys, time
started = time.perf_counter()
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
reference = pd.read_parquet(sys.argv[1])
current = pd.read_parquet(sys.argv[2])
snapshot = Report([DataDriftPreset()]).run(current_data=current, reference_data=reference)
flagged = {}
for metric in snapshot.dict()["metrics"]:
    config = metric["config"]
    if config.get("type", "").endswith("ValueDrift"):
        value, threshold = metric["value"], config["threshold"]
        p_value = "p_value" in config["method"].lower()
        if (value < threshold) if p_value else (value >= threshold):
            flagged[config["column"]] = "drift"
print(json.dumps({"flagged": flagged, "seconds": time.perf_counter() - started,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def evidently_python() -> Path:
    """The throwaway virtualenv's python, made on first use."""
    python = VENV / "bin" / "python"
    marker = VENV / ".installed"
    if not marker.exists() or marker.read_text() != " ".join(EVIDENTLY):
        print(f"making {VENV} with {' '.join(EVIDENTLY)} (first run: a minute or two)", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *EVIDENTLY], check=True)
        marker.write_text(" ".join(EVIDENTLY))
    return python


def evidently(folder: str, current: str) -> dict[str, Any]:
    command = [str(evidently_python()), "-c", EVIDENTLY_RUN, f"{folder}/reference.parquet",
               f"{folder}/{current}.parquet"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=3_600)
    if done.returncode != 0:
        raise RuntimeError(f"Evidently failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _score(flagged: dict[str, str]) -> tuple[int, list[str]]:
    caught = sum(1 for name in PLANTED if name in flagged)
    return caught, sorted(set(flagged) - set(PLANTED))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in each of the three tables")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    evidently_python()
    with tempfile.TemporaryDirectory(prefix="skewless-bench-drift-") as folder:
        columns = measure(prepare, folder, args.rows, args.seed)["columns"]
        print(f"{args.rows:,} rows x {columns} columns per table; {len(PLANTED)} planted changes\n")
        runners = (("skewless drift", lambda f, c: measure(ours, f, c)), ("Evidently", evidently))
        results = {
            (tool, current): runner(folder, current)
            for tool, runner in runners
            for current in ("changed", "unchanged")
        }
    print(f"{'':34}{'caught':>8}{'false cols':>11}{'seconds':>9}{'peak MiB':>10}")
    for (tool, current), figures in results.items():
        caught, false = _score(figures["flagged"])
        found = f"{caught}/{len(PLANTED)}" if current == "changed" else "–"
        unexpected = len(false) if current == "changed" else len(figures["flagged"])
        print(f"{tool + ' (' + current + ')':34}{found:>8}{unexpected:>11}{figures['seconds']:>9.1f}"
              f"{figures['peak_mib']:>10.0f}")  # fmt: skip
        if current == "changed":
            missed = [name for name in PLANTED if name not in figures["flagged"]]
            print(f"{'':4}missed: {', '.join(missed) or 'none'}; false: {', '.join(false) or 'none'}")
        else:
            print(f"{'':4}flagged on the no-change copy: {', '.join(figures['flagged']) or 'none'}")
    mine, theirs = results[("skewless drift", "changed")], results[("Evidently", "changed")]
    print(
        f"\nratios (Evidently / ours, changed table): time {theirs['seconds'] / mine['seconds']:.1f}x, "
        f"memory {theirs['peak_mib'] / mine['peak_mib']:.1f}x; targets for ours: <= 5 s, <= 1024 MiB"
    )


if __name__ == "__main__":
    main()
