"""Alerts: one structured log line each, and an optional webhook.

Every alert is a JSON object logged on ``skewless.monitoring`` at WARNING, so log
shippers can route it. With a webhook URL, the alerts of one report are POSTed
together as JSON; a webhook that fails is logged, never fatal, since the report
and the decision record are already written.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

from monitoring.policy import evidence_windows, newest_signals
from monitoring.report import MonitoringReport

__all__ = ["build_alerts", "send_alerts"]

logger = logging.getLogger("skewless.monitoring")
WEBHOOK_TIMEOUT_S = 5.0


def build_alerts(report: MonitoringReport, report_path: str) -> list[dict[str, Any]]:
    """The alerts a report raises: drift per flagged feature, score drift, performance drop, skew.

    Judged on the evidence the policy acts on (``monitoring.policy.evidence_windows``: the
    newest window that could be judged), so the alerts, the report's table and the
    decision tell the same story.
    """
    drift, performance = evidence_windows(report)
    dropped = [s for s in newest_signals(report) if s.status == "drop"]
    base = {
        "model_name": report.model_name,
        "model_version": report.model_version,
        "report": report_path,
        "window_start": report.start,
        "window_end": report.end,
    }
    alerts = []
    if drift.verdict == "drift":
        alerts.append(
            base
            | {
                "alert": "dataset_drift",
                "severity": "warning",
                "window": [drift.start, drift.end],
                "features": {f.name: f.status for f in drift.features if f.flagged},
                "reasons": {f.name: "; ".join(f.reasons) for f in drift.features if f.flagged},
            }
        )
    score = drift.score
    if score is not None and score.flagged:
        alerts.append(base | {"alert": "prediction_drift", "severity": "warning", "reasons": score.reasons})
    if performance.status == "drop" or dropped:
        alerts.append(
            base
            | {
                "alert": "performance_drop",
                "severity": "critical",
                "reasons": [s.reason for s in dropped]
                + (performance.reasons if performance.status == "drop" else []),
                "auc": performance.auc,
                "signals": {s.name: s.value for s in dropped},
            }
        )
    if report.skew is not None and report.skew.status == "skew":
        alerts.append(
            base
            | {
                "alert": "training_serving_skew",
                "severity": "critical",
                "features": report.skew.skewed,
                "rows": report.skew.mismatched_rows,
            }
        )
    return alerts


def send_alerts(alerts: list[dict[str, Any]], webhook_url: str | None) -> bool | None:
    """Log every alert; POST them to ``webhook_url`` if given. Returns whether the webhook took them."""
    for alert in alerts:
        logger.warning(json.dumps(alert, default=str, sort_keys=True))
    if not alerts or not webhook_url:
        return None
    body = json.dumps({"alerts": alerts}, default=str).encode()
    request = urllib.request.Request(webhook_url, data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S) as response:
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError) as e:
        logger.error("alert webhook %s failed: %s", webhook_url, e)
        return False
