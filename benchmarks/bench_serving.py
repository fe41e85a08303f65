"""Load test of the prediction API against `feast serve`, measured in the same run.

Both servers run on the production profile against the same private Redis, the
same Feast SQL registry (PostgreSQL) and the same feature service, with the same
number of uvicorn workers and no access log. `wrk` (one thread, N connections, fixed duration) sends
the same transactions to each, one after the other:

- ours: `POST /predict`: online features + on-demand transforms + the model + the
  served-feature log + JSON; measured twice, with concurrent requests gathered into one
  scoring call (the default) and one at a time (SKEWLESS_GATHER_MAX_ROWS=1);
- peer: `feast serve`'s `POST /get-online-features` of the same feature service: the
  features alone (started with a large --max-requests, so no worker restarts).

It then measures `POST /predict/batch` of 100 rows from one connection.

    python benchmarks/bench_serving.py                       # scale 0.3, 1 worker, 4 connections
    python benchmarks/bench_serving.py --workers 2 --duration 20

Targets on 2 cores: /predict throughput >= 3x feast serve's, /predict p99 <= 10 ms at
4 connections, /predict/batch of 100 rows p50 <= 20 ms. wrk shares the
two cores with the server, for both servers alike. Needs `wrk` and `redis-server`
(apt-get install wrk redis-server) and PostgreSQL at 127.0.0.1:5432 (or
SKEWLESS_TEST_POSTGRES).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

LUA = """
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = (i %% #bodies) + 1
  return wrk.format(nil, "%(path)s", nil, bodies[i])
end
"""
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
PEER = "feast serve /get-online-features"
ONE_AT_A_TIME = "skewless /predict (one at a time)"
GATHERED = "skewless /predict (concurrent gathered)"
BATCH = "skewless /predict/batch (100 rows, 1 conn)"


def prepare(root: Path, scale: float, env: dict[str, str]) -> Any:
    """Simulate, build, apply, materialize up to now, train and promote a champion."""
    from feature_repo.operations import apply_feature_repo, materialize_features, open_feature_store
    from feature_repo.pipeline import build_features
    from lifecycle.workspace import create_workspace
    from simulation import SimulationConfig, simulate
    from simulation.config import today_utc
    from skewless.modes import Profile
    from skewless.progress import Progress
    from skewless.registry import MlflowModelRegistry
    from training.config import TrainingConfig
    from training.job import train_and_register
    from training.registry import promote

    settings = create_workspace(
        root,
        profile=Profile.PRODUCTION,
        redis_connection=env["SKEWLESS_REDIS_CONNECTION"],
        registry_url=env["SKEWLESS_REGISTRY_URL"],
        mlflow_tracking_uri=env["SKEWLESS_MLFLOW_TRACKING_URI"],
    )
    registry = MlflowModelRegistry.from_settings(settings)
    progress = Progress()
    simulate(SimulationConfig.ending(today_utc(), scale=scale), settings.layout, progress)
    build_features(settings.layout, progress)
    with progress.step("feast apply (production)"):
        apply_feature_repo(settings)
    now = datetime.now(UTC)
    with progress.step("materialize to Redis"):
        materialize_features(open_feature_store(settings), end=now, start=now - timedelta(days=3_650))
    config = TrainingConfig()
    train_and_register(settings, registry, config, progress)
    if not promote(registry, config, progress).passed:
        sys.exit("error: the trained model did not pass the gate; nothing to serve")
    return settings


def request_bodies(settings: Any, count: int) -> tuple[list[str], list[str], str]:
    """The same transactions as /predict bodies, as feast serve bodies, and one batch of 100."""
    import pandas as pd

    from serving.replay import request_body

    frame = pd.read_parquet(settings.layout.transactions).tail(count)
    now = datetime.now(UTC)
    ours = [request_body(row, at=now) for row in frame.to_dict("records")]
    peer = [
        {
            "feature_service": "fraud_detection_v1",
            "entities": {
                key: [int(now.timestamp()) if key == "transaction_time" else body[key]] for key in body
            },
        }
        for body in ours
    ]
    batch = {"transactions": ours[:100]}
    return [json.dumps(b) for b in ours], [json.dumps(b) for b in peer], json.dumps(batch)


def start_server(command: list[str], env: dict[str, str], url: str, probe: str) -> subprocess.Popen[bytes]:
    """Start a server and wait until ``probe`` answers 200 (its output goes to a temporary file)."""
    output = tempfile.NamedTemporaryFile(prefix="skewless-bench-server-", suffix=".log", delete=False)
    process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}{probe}", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = Path(output.name).read_text(errors="replace")[-3000:]
            sys.exit(f"error: {' '.join(command[:3])} did not start on {url}; its output ended:\n{tail}")
        time.sleep(0.3)


def check_answers(url: str, path: str, body: str) -> None:
    request = urllib.request.Request(
        f"{url}{path}", data=body.encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            sys.exit(f"error: {url}{path} answered {response.status}")


def run_wrk(url: str, path: str, bodies: list[str], connections: int, seconds: float) -> dict[str, float]:
    """wrk with one thread and ``connections`` connections; requests/s, p50 and p99 in ms."""
    folder = Path(tempfile.mkdtemp(prefix="skewless-wrk-"))
    (folder / "bodies.txt").write_text("\n".join(bodies) + "\n", encoding="utf-8")
    script = folder / "post.lua"
    script.write_text(LUA % {"bodies": folder / "bodies.txt", "path": path}, encoding="utf-8")
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    shutil.rmtree(folder, ignore_errors=True)

    def latency(percent: str) -> float:
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no {percent}% latency in wrk output:\n{output}")
        return float(match.group(1)) * UNITS[match.group(2)]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if rps is None or total is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")
    return {
        "rps": float(rps.group(1)),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests": int(total.group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=0.3, help="size of the simulated world")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, the same for both")
    parser.add_argument("--connections", type=int, default=4, help="concurrent wrk connections")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    args = parser.parse_args()
    from skewless.third_party import prepare_third_party

    prepare_third_party()
    for binary in ("wrk", "redis-server"):
        if shutil.which(binary) is None:
            sys.exit(f"error: the benchmark needs {binary} on PATH (apt-get install {binary})")

    from lifecycle.local_stack import local_production_stack

    workdir = Path(tempfile.mkdtemp(prefix="skewless-bench-serving-"))
    try:
        with local_production_stack(workdir) as stack:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
            env |= stack.environment() | {
                "SKEWLESS_RELOAD_INTERVAL_S": "0",
                "SKEWLESS_READY_REQUIRES_FRESH_STORE": "false",
            }
            settings = prepare(workdir / "ws", args.scale, env)
            ours_bodies, peer_bodies, batch_body = request_bodies(settings, 500)
            results = measure_both(settings, env, args, ours_bodies, peer_bodies, batch_body)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report(results, args)


def measure_both(
    settings: Any,
    env: dict[str, str],
    args: argparse.Namespace,
    ours_bodies: list[str],
    peer_bodies: list[str],
    batch_body: str,
) -> dict[str, dict[str, float]]:
    from lifecycle.local_stack import free_port

    python = sys.executable
    feast = str(Path(python).with_name("feast"))
    results: dict[str, dict[str, float]] = {}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    repo = settings.feature_repo_dir
    # Feast's MLflow integration (enabled in the yaml, auto-logging off) reads this tracking store.
    peer_env = env | {"MLFLOW_TRACKING_URI": env["SKEWLESS_MLFLOW_TRACKING_URI"]}
    peer = start_server(
        [feast, "-c", str(repo), "-f", str(repo / "feature_store.production.yaml"), "serve",
         "-h", "127.0.0.1", "-p", str(port), "--workers", str(args.workers), "--no-access-log",
         "--max-requests", "1000000000", "--registry_ttl_sec", "3600"],
        peer_env, url, "/health",
    )  # fmt: skip
    try:
        check_answers(url, "/get-online-features", peer_bodies[0])
        run_wrk(url, "/get-online-features", peer_bodies, args.connections, 2)  # warm-up
        results[PEER] = run_wrk(url, "/get-online-features", peer_bodies, args.connections, args.duration)
    finally:
        peer.terminate()
        peer.wait(timeout=30)
    for gather_max_rows, name in ((1, ONE_AT_A_TIME), (None, GATHERED)):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        gather = {} if gather_max_rows is None else {"SKEWLESS_GATHER_MAX_ROWS": str(gather_max_rows)}
        ours = start_server(
            [python, "-m", "lifecycle.cli", "--root-dir", str(settings.root_dir), "serve", "--port",
             str(port), "--workers", str(args.workers), "--no-access-log"],
            env | gather, url, "/health/ready",
        )  # fmt: skip
        try:
            check_answers(url, "/predict", ours_bodies[0])
            run_wrk(url, "/predict", ours_bodies, args.connections, 2)  # warm-up
            results[name] = run_wrk(url, "/predict", ours_bodies, args.connections, args.duration)
            if gather_max_rows is None:
                results[BATCH] = run_wrk(url, "/predict/batch", [batch_body], 1, args.duration)
        finally:
            ours.terminate()
            ours.wait(timeout=30)
    return results


def report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    print(f"\nworkers {args.workers}, wrk 1 thread, {args.connections} connections, {args.duration:g} s each")
    print(f"{'':<44} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7}")
    for name, r in results.items():
        print(
            f"{name:<44} {r['rps']:>9,.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['requests']:>9,} {r['errors']:>7,}"
        )
    peer, alone, ours = results[PEER], results[ONE_AT_A_TIME], results[GATHERED]
    batch = results[BATCH]
    print(f"\nthroughput ratio /predict : feast serve = {ours['rps'] / peer['rps']:.2f}  (target >= 3.00)")
    print(f"  one at a time : feast serve = {alone['rps'] / peer['rps']:.2f}")
    print(f"/predict p99 {ours['p99_ms']:.2f} ms at {args.connections} connections  (target <= 10 ms)")
    p99, p50 = batch["p99_ms"], batch["p50_ms"]
    print(f"/predict/batch of 100 rows p50 {p50:.2f} ms, p99 {p99:.2f} ms  (target p50 <= 20 ms)")


if __name__ == "__main__":
    main()
