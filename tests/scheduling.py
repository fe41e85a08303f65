"""How the suite is spread over pytest-xdist workers (``scripts/run-tests.sh`` runs one per core).

A module is one unit of work, so its module-scoped fixtures (a world's copy, a live API,
a trained challenger) are built once. Modules that read the same session-built world
form one unit, so that the world is built by one worker only. Units start longest
first (a longest-processing-time schedule), so the whole loop does not begin last.

(xdist's own ``xdist_group`` marks do nothing under pytest 9.2, which no longer lets a
plugin rename a test's node id; this scheduler needs no renaming.)
"""

from __future__ import annotations

from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

__all__ = ["SharedWorldScheduling", "longest_first"]

# Modules that share a world built once per session (tests/worlds.py) run on one worker.
SHARED_WORLDS = {
    "tests/serving/test_production_serving.py": "the production world",
    "tests/serving/test_redis_cluster.py": "the production world",
    "tests/training/test_production_profile.py": "the production world",
    "tests/monitoring/test_scenarios.py": "the scenario worlds",
    "tests/lifecycle/test_scheduled_jobs.py": "the scenario worlds",
}
# Units by how long they take (seconds on two cores, measured), longest first; the rest follow.
LONGEST_FIRST = (
    "tests/lifecycle/test_loop.py",  # the main job with the README's defaults (about 4.5 minutes)
    "tests/lifecycle/test_loop_none.py",  # four weeks of the none world
    "tests/lifecycle/test_cli.py",  # two weeks of the covariate story, then a rerun
    "the production world",
    "tests/feature_repo/test_spark_profile.py",  # Spark, a Redis Cluster and the trained world (~2 minutes)
    "tests/lifecycle/test_production_loop.py",
    "the scenario worlds",
    "tests/serving/test_api.py",
    "tests/feature_repo/test_feast_cli.py",
    "tests/lifecycle/test_day_replay.py",
)


def unit_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its module, or the shared world's name."""
    module = nodeid.split("::", 1)[0]
    return SHARED_WORLDS.get(module, module)


def longest_first(items: list[pytest.Item]) -> None:
    """Order the collected tests so that the longest units come first (the order is kept within a unit)."""
    rank = {unit: position for position, unit in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(unit_of(item.nodeid), len(rank)))


class SharedWorldScheduling(LoadScopeScheduling):
    """xdist's scope scheduling with the units above, in collection order."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        config.option.loadscopereorder = False  # keep longest-first, not most-tests-first
        super().__init__(config, log)

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)
