"""`skewless monitor report` on the log the live API wrote: skew, gauges on /metrics, the page in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.serving.client import call, transaction
from tests.serving.conftest import LiveApi, ServedWorkspace, start_api, stop_api


def skewless(settings_root: str, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SKEWLESS_", "FEAST_"))}
    return subprocess.run(
        [sys.executable, "-m", "skewless.cli", "--root-dir", settings_root, *args],
        capture_output=True, text=True, timeout=300, env=environment,
    )  # fmt: skip


STARTED: list[datetime] = []


@pytest.fixture(scope="module")
def monitored(served: ServedWorkspace) -> LiveApi:
    live = start_api(served.settings, SKEWLESS_LOG_FLUSH_SECONDS="0.2")
    STARTED.append(datetime.now(UTC))  # other tests share this log: the report reads our window only
    row = served.parity_row
    # The online store holds the state just before the parity transaction, so requests at its
    # time match offline retrieval; requests 20 days later meet a stale store: true skew.
    for i in range(30):
        status, _ = call(live, "POST", "/predict", transaction(row, transaction_id=f"p{i}"))
        assert status == 200
    later = (row["transaction_time"] + timedelta(days=20)).isoformat()
    for i in range(10):
        status, _ = call(
            live, "POST", "/predict", transaction(row, transaction_time=later, transaction_id=f"s{i}")
        )
        assert status == 200
    time.sleep(1.0)
    return live


def test_monitor_report_reads_the_api_log_and_finds_the_stale_store_as_skew(
    served: ServedWorkspace, monitored: LiveApi
) -> None:
    now = datetime.now(UTC)
    result = skewless(
        str(served.settings.root_dir), "monitor", "report",
        "--start", STARTED[0].strftime("%Y-%m-%dT%H:%M:%S"),
        "--end", (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == 40 and summary["verdict"] == "insufficient"  # 40 rows: too few to judge drift
    assert summary["skew"] == "skew" and "training_serving_skew" in summary["alerts"]
    report = json.loads(open(summary["report_json"]).read())
    skewed_rows = report["skew"]["mismatched_rows"]
    assert report["skew"]["sampled"] == 40 and skewed_rows == 10, report["skew"]
    assert (
        "txn_count_1h_now" in report["skew"]["skewed"] or "seconds_since_last_txn" in report["skew"]["skewed"]
    )
    page = open(summary["report_html"]).read()
    assert page.count("<svg") >= 20 and "Too few served rows" in page

    gauges = open(summary["gauges"]).read()
    assert (
        'skewless_drift_verdict{model_name="fraud_detection",model_version="1",verdict="insufficient"} 1.0'
        in gauges
    )
    status, metrics = call(monitored, "GET", "/metrics")
    assert (
        status == 200
        and "skewless_skew_mismatched_rows" in metrics
        and "skewless_drift_window_rows" in metrics
    )


def test_the_report_renders_in_headless_chromium(
    served: ServedWorkspace, monitored: LiveApi, tmp_path
) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (scripts/system-deps.sh installs it)")
        pytest.skip("chromium is not installed (scripts/system-deps.sh installs it)")
    pages = sorted(served.settings.layout.monitoring_dir.rglob("report.html"))
    assert pages
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         f"--screenshot={shot}", "--window-size=1280,2000", pages[-1].as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert shot.exists() and shot.stat().st_size > 20_000
    import matplotlib.image as image

    pixels = image.imread(str(shot))
    coloured = (abs(pixels[..., 0] - pixels[..., 2]) > 0.15).mean()  # the badges and the plots' colours
    assert coloured > 0.002, f"the screenshot looks blank ({coloured:.4%} coloured pixels)"
    stop_api(monitored)
