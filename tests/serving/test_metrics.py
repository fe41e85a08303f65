"""The API's metrics are its own: two apps in one process never count each other's requests,
whatever Feast does to prometheus_client when it is imported first."""

from __future__ import annotations

import os
import subprocess
import sys

from serving.metrics import ServingMetrics


def _value(metrics: ServingMetrics, role: str) -> float:
    sample = metrics.registry.get_sample_value("skewless_routed_predictions_total", {"role": role})
    return 0.0 if sample is None else sample


def test_two_apps_in_one_process_count_apart() -> None:
    first, second = ServingMetrics(), ServingMetrics()
    first.routed.labels("champion").inc(5)
    assert (_value(first, "champion"), _value(second, "champion")) == (5.0, 0.0)


PROBE = """
import sys
if sys.argv[1] == "prepared":
    from skewless.third_party import keep_metrics_in_process
    keep_metrics_in_process()
import feature_repo.operations  # Feast, imported first
from serving.metrics import ServingMetrics
from skewless.errors import ConfigurationError
try:
    first, second = ServingMetrics(), ServingMetrics()
except ConfigurationError as e:
    print("refused:", e)
else:
    first.routed.labels("champion").inc(5)
    print("apart" if second.registry.get_sample_value(
        "skewless_routed_predictions_total", {"role": "champion"}) is None else "shared")
"""


def test_feast_imported_first_is_refused_unless_the_process_was_prepared() -> None:
    environment = {k: v for k, v in os.environ.items() if "multiproc" not in k.lower()}
    outputs = {}
    for mode in ("bare", "prepared"):
        result = subprocess.run(
            [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=120, env=environment
        )
        assert result.returncode == 0, result.stderr
        outputs[mode] = result.stdout.strip()
    assert outputs["bare"].startswith("refused: prometheus_client was imported in multiprocess mode")
    assert "keep_metrics_in_process()" in outputs["bare"]
    assert outputs["prepared"] == "apart"
