"""Re-export the last monitoring report's gauges on the API's /metrics.

``skewless monitor report`` writes its figures to ``data/monitoring/metrics.prom``
in the Prometheus text format. This collector reads that file (again only when it
changes) at each scrape, so drift and live-performance gauges sit next to latency
in the same Prometheus target and Grafana dashboard. The file is the only contract
between monitoring and serving; a missing or unreadable file exports nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

__all__ = ["MonitoringGaugesCollector"]

logger = logging.getLogger("skewless.serving")


class MonitoringGaugesCollector(Collector):
    """Yields the metric families of a Prometheus text file, cached by modification time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[float, int] | None = None
        self._families: list[Metric] = []

    def collect(self) -> Iterator[Metric]:
        try:
            stat = self.path.stat()
        except OSError:
            return iter(())
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._stamp:
            try:
                self._families = list(text_string_to_metric_families(self.path.read_text(encoding="utf-8")))
                self._stamp = stamp
            except (OSError, ValueError) as e:
                logger.warning("monitoring gauges in %s not exported: %s", self.path, e)
                return iter(())
        return iter(self._families)
