"""Readiness that tells the truth (stale and emptied online stores, and the runbook's restore),
/health/live while a maximal batch is scored or refused, and /docs without internet."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.servers import require_binary, screenshot_in_chromium
from tests.serving.client import call, transaction
from tests.serving.conftest import LiveApi, api_in_process, start_api, stop_api
from tests.worlds import TrainedWorld


def _ready_until(api: LiveApi, online_store: str, timeout_s: float = 15.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    while (answer := call(api, "GET", "/health/ready"))[1]["online_store"] != online_store:
        assert time.monotonic() < deadline, answer
        time.sleep(0.2)
    body: dict[str, object] = answer[1]
    return body | {"http": answer[0]}


def test_ready_fails_when_the_stores_newest_rows_are_older_than_their_ttl(served: TrainedWorld) -> None:
    """The trained world was simulated months before today: by the wall clock every row of the
    activity view is past its 30-day TTL, so every read of it would be missing."""
    with api_in_process(served.settings, ready_requires_fresh_store=True, reload_interval_s=0) as api:
        ready = _ready_until(api, "stale")
        assert ready["http"] == 503 and ready["status"] == "unavailable"
        assert "customer_activity" in str(ready["detail"]) and "materialize --full" in str(ready["detail"])
    with api_in_process(served.settings, ready_requires_fresh_store=False, reload_interval_s=0) as api:
        assert call(api, "GET", "/health/ready") == (
            200, {"status": "ok", "model_loaded": True, "online_store": "reachable", "detail": None}
        )  # fmt: skip


def test_an_emptied_store_is_not_ready_until_materialize_full_restores_it(trained_copy: TrainedWorld) -> None:
    settings, row = trained_copy.settings, trained_copy.parity_row
    with api_in_process(settings, reload_interval_s=0) as api:
        assert call(api, "GET", "/health/ready")[0] == 200
        with sqlite3.connect(
            settings.root_dir / "data" / "online_store.db"
        ) as connection:  # what a wiped store looks like
            for (table,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ).fetchall():
                connection.execute(f'DELETE FROM "{table}"')  # noqa: S608 (names from sqlite_master)
        ready = _ready_until(api, "empty")
        assert ready["http"] == 503 and "skewless materialize --full" in str(ready["detail"])
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and "txn_count_7d" in body["missing_features"]
        end = (row["transaction_time"] - pd.Timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S")
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
        result = subprocess.run(
            [sys.executable, "-m", "lifecycle.cli", "--root-dir", str(settings.root_dir), "materialize",
             "--full", "--end", end],
            env=environment, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        assert json.loads(result.stdout)["feature_views"]
        assert _ready_until(api, "reachable")["http"] == 200
        status, body = call(api, "POST", "/predict", transaction(row))
        assert status == 200 and body["missing_features"] == []


def test_live_answers_within_50_ms_while_a_maximal_batch_is_scored_or_refused(served: TrainedWorld) -> None:
    api = start_api(served.settings, SKEWLESS_RELOAD_INTERVAL_S="0")  # its own process, as deployed
    try:
        largest = [transaction(served.parity_row, amount=float(i % 500) + 1) for i in range(1_000)]
        body = json.dumps({"transactions": largest}).encode()
        over = json.dumps({"transactions": [*largest, largest[0]]}).encode()
        assert len(body) < 1_048_576  # maximal in rows, within the body cap
        answers: list[int] = []

        def batches() -> None:
            import urllib.error
            import urllib.request

            for data in (body, over, body, over, body):
                request = urllib.request.Request(
                    f"{api.url}/predict/batch", data=data, headers={"content-type": "application/json"}
                )
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        answers.append(response.status)
                except urllib.error.HTTPError as error:
                    answers.append(error.code)

        sender = threading.Thread(target=batches)
        sender.start()
        waits = []
        while sender.is_alive():
            started = time.perf_counter()
            assert call(api, "GET", "/health/live")[0] == 200
            waits.append(time.perf_counter() - started)
            time.sleep(0.01)
        sender.join()
        assert answers == [200, 413, 200, 413, 200]
        assert len(waits) >= 10 and max(waits) < 0.050, sorted(waits)[-5:]
    finally:
        stop_api(api)


def test_docs_render_without_internet(served: TrainedWorld, tmp_path: Path) -> None:
    chromium = require_binary("chromium")
    with api_in_process(served.settings, reload_interval_s=0) as api:
        status, page = call(api, "GET", "/docs")
        assert status == 200 and "/docs-assets/swagger-ui-bundle.js" in page
        assert "cdn" not in page.lower() and "https://" not in page.split("<body>")[1]
        assert call(api, "GET", "/docs-assets/swagger-ui-bundle.js")[0] == 200
        status, redoc = call(api, "GET", "/redoc")
        assert (
            status == 200 and "/docs-assets/redoc.standalone.js" in redoc and "fonts.googleapis" not in redoc
        )
        # Rendered as a person sees it, with the network limited to loopback: the operations are drawn.
        dom = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1",
             "--virtual-time-budget=8000", "--dump-dom", f"{api.url}/docs"],
            capture_output=True, text=True, timeout=120,
        ).stdout  # fmt: skip
        assert "opblock-summary-path" in dom and "/predict/batch" in dom, dom[:500]
        assert screenshot_in_chromium(f"{api.url}/docs", tmp_path / "docs.png", size="1280,1200") > 0.01


pytestmark = pytest.mark.slow
