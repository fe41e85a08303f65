"""`skewless monitor report` on the log the live API wrote: skew, the alert webhook, gauges on /metrics
scraped by a real Prometheus, the page in Chromium."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli import CliResult, run_cli
from tests.servers import prometheus_scraping, screenshot_in_chromium, webhook_receiver
from tests.serving.client import call, transaction
from tests.serving.conftest import LiveApi, api_in_process
from tests.worlds import TrainedWorld

pytestmark = pytest.mark.integration


def skewless(settings_root: str, *args: str, **env: str) -> CliResult:
    """The command line the runbook's cron runs (in this process: the process is not the subject)."""
    return run_cli(Path(settings_root), *args, env=env)


STARTED: list[datetime] = []


@pytest.fixture(scope="module")
def monitored(served: TrainedWorld) -> Iterator[LiveApi]:
    with api_in_process(served.settings, log_flush_seconds=0.2) as live:
        STARTED.append(datetime.now(UTC))  # the report reads this window only
        _send_traffic(live, served)
        yield live


def _send_traffic(live: LiveApi, served: TrainedWorld) -> None:
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


def test_monitor_report_reads_the_api_log_and_finds_the_stale_store_as_skew(
    served: TrainedWorld, monitored: LiveApi
) -> None:
    now = datetime.now(UTC)
    with webhook_receiver() as hook:
        result = skewless(
            str(served.settings.root_dir), "monitor", "report",
            "--start", STARTED[0].strftime("%Y-%m-%dT%H:%M:%S"),
            "--end", (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
            SKEWLESS_ALERT_WEBHOOK_URL=hook.url,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    [posted] = hook.bodies  # one POST with every alert of the report
    [alert] = posted["alerts"]  # type: ignore[index]
    assert alert["alert"] == "training_serving_skew" and alert["rows"] == 10
    assert alert["report"] == summary["report_html"]
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


def test_a_real_prometheus_scrapes_the_api_and_the_monitoring_gauges(
    served: TrainedWorld, monitored: LiveApi
) -> None:
    with prometheus_scraping(monitored.url.removeprefix("http://")) as prometheus:
        assert prometheus.wait_for('up{job="skewless-api"} == 1'), "Prometheus never reached the API"
        [skew] = prometheus.wait_for("skewless_skew_mismatched_rows")
        assert skew["metric"]["model_version"] == "1" and float(skew["value"][1]) == 10.0  # type: ignore[index]
        [rows] = prometheus.query("skewless_drift_window_rows")
        assert float(rows["value"][1]) == 40.0  # type: ignore[index]
        predictions = prometheus.query("sum(skewless_predictions_total)")
        assert predictions and float(predictions[0]["value"][1]) >= 40.0  # type: ignore[index]
        latency = prometheus.query(
            "histogram_quantile(0.99, sum by (le) (skewless_request_duration_seconds_bucket))"
        )
        assert latency and float(latency[0]["value"][1]) > 0.0  # type: ignore[index]


def test_every_metric_the_dashboard_and_the_alert_rules_use_is_exported(
    served: TrainedWorld, monitored: LiveApi
) -> None:
    import re

    import yaml

    from tests.factories import PROJECT_ROOT

    dashboard = json.loads((PROJECT_ROOT / "docker/grafana/dashboards/skewless.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    expressions += [a["expr"] for a in dashboard["annotations"]["list"] if "expr" in a]
    expressions += [v["definition"] for v in dashboard["templating"]["list"]]
    rules = yaml.safe_load((PROJECT_ROOT / "docker/prometheus/alerts.yml").read_text())
    expressions += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    used = {name for expression in expressions for name in re.findall(r"\bskewless_[a-z0-9_]+", expression)}
    status, metrics = call(monitored, "GET", "/metrics")
    assert status == 200
    # Samples, and the families declared with no sample yet (live AUC before any label arrives).
    exported = {
        re.split(r"[{ ]", line, maxsplit=1)[0] for line in metrics.splitlines() if line and line[0] != "#"
    }
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", metrics, re.MULTILINE):
        exported |= {name} | (
            {f"{name}_bucket", f"{name}_count", f"{name}_sum"} if kind == "histogram" else set()
        )
    assert len(used) >= 15 and not used - exported, f"not on /metrics: {sorted(used - exported)}"


def test_the_report_renders_in_headless_chromium(served: TrainedWorld, monitored: LiveApi, tmp_path) -> None:
    pages = sorted(served.settings.layout.monitoring_dir.rglob("report.html"))
    assert pages
    coloured = screenshot_in_chromium(pages[-1], tmp_path / "report.png")  # the badges and the plots
    assert coloured > 0.002, f"the screenshot looks blank ({coloured:.4%} coloured pixels)"


def test_monitor_check_decides_on_the_api_log_and_records_the_decision(
    served: TrainedWorld, monitored: LiveApi
) -> None:
    decisions = served.settings.layout.policy_decisions
    before = decisions.read_text().count("\n") if decisions.exists() else 0
    result = skewless(
        str(served.settings.root_dir), "monitor", "check", "--no-skew", "--no-retrain",
        "--start", STARTED[0].strftime("%Y-%m-%dT%H:%M:%S"),
        "--end", (datetime.now(UTC) + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    decoder, text = json.JSONDecoder(), result.stdout.strip()
    report, end = decoder.raw_decode(text)
    decision, _ = decoder.raw_decode(text[end:].lstrip())
    assert report["skew"] is None and report["rows"] == 40
    # 40 rows and no labels: no drift or performance evidence; but the requests are sent
    # now, long after the simulated training data ends, so the schedule is due.
    assert decision["decision"] == "retrain_scheduled", decision
    assert "past the 30-day schedule" in decision["reasons"][0]
    assert "dry run" in str(decision["outcome"])
    recorded = decisions.read_text().splitlines()
    assert len(recorded) == before + 1
    assert json.loads(recorded[-1])["action"] == "retrain_scheduled"


def test_monitor_report_without_the_skew_check_writes_the_report_and_links_it_from_the_version(
    served: TrainedWorld, monitored: LiveApi
) -> None:
    """--no-skew never imports Feast; the report is written (with its gauges) all the same, and the
    model version's registry page points at it. (Last: it replaces the gauges the tests above read.)"""
    from skewless.registry import MONITORING_REPORT_TAG

    now = datetime.now(UTC)
    result = skewless(
        str(served.settings.root_dir), "monitor", "report", "--no-skew",
        "--start", STARTED[0].strftime("%Y-%m-%dT%H:%M:%S"),
        "--end", (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S"),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["skew"] is None and summary["rows"] == 40
    tags = served.registry.version_tags(1)
    assert tags[MONITORING_REPORT_TAG] == summary["report_html"]
