"""Alerts go out as log lines and, when configured, to a real webhook on loopback."""

from __future__ import annotations

import json
import logging

import pytest

from monitoring.alerts import send_alerts
from tests.servers import free_port, webhook_receiver

ALERTS = [
    {"alert": "dataset_drift", "severity": "warning", "features": {"txn_amount": "drift"}},
    {"alert": "performance_drop", "severity": "critical", "auc": 0.61},
]


def test_alerts_are_logged_and_posted_together_to_the_webhook(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="skewless.monitoring")
    with webhook_receiver() as hook:
        assert send_alerts(ALERTS, hook.url) is True
    assert hook.bodies == [{"alerts": ALERTS}]
    logged = [json.loads(r.getMessage()) for r in caplog.records if r.levelno == logging.WARNING]
    assert [a["alert"] for a in logged] == ["dataset_drift", "performance_drop"]


def test_a_failing_webhook_is_logged_and_never_fatal(caplog: pytest.LogCaptureFixture) -> None:
    with webhook_receiver(status=500) as hook:
        assert send_alerts(ALERTS, hook.url) is False
    assert len(hook.bodies) == 1
    closed = f"http://127.0.0.1:{free_port()}/alerts"  # nothing listens there
    assert send_alerts(ALERTS, closed) is False
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all("alert webhook" in e for e in errors)


def test_no_alerts_post_nothing() -> None:
    with webhook_receiver() as hook:
        assert send_alerts([], hook.url) is None
    assert hook.bodies == []
