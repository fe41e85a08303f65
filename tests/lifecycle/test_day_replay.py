"""Replaying simulated days through the API: pushes keep the online store as fresh as
training's point-in-time reads, so the skew check finds nothing; without them it does."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from feature_repo.operations import materialize_features, open_feature_store
from lifecycle.day_replay import DayReplay, replay_day
from monitoring.config import MonitoringConfig
from monitoring.job import build_report
from serving.app import create_app
from serving.runner import serve_in_background
from tests.conftest import QUIET
from tests.worlds import TrainedWorld

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIRST = datetime(2026, 3, 10, tzinfo=UTC)  # after the champion's data; the world runs to 1 April
DAYS = [(date(2026, 3, 10), False), (date(2026, 3, 11), True), (date(2026, 3, 12), True)]  # (day, push)
PER_DAY = 80


@pytest.fixture(scope="module")
def replayed(
    trained_world: TrainedWorld, tmp_path_factory: pytest.TempPathFactory
) -> tuple[TrainedWorld, list[DayReplay]]:
    world = trained_world.copy(tmp_path_factory.mktemp("replay") / "ws")  # served into, materialized
    settings = world.settings.model_copy(update={"log_flush_seconds": 0.2, "reload_interval_s": 0})
    store = open_feature_store(settings)
    materialize_features(store, end=FIRST, start=FIRST - timedelta(days=3650))
    with serve_in_background(create_app(settings, world.registry)) as url:
        replays = [replay_day(store, settings.layout, url, day, PER_DAY, push=push) for day, push in DAYS]
        time.sleep(1.0)  # the log flushes every 0.2 s
    return world, replays


def test_each_day_is_sent_in_full_with_at_most_one_push_per_request(
    replayed: tuple[TrainedWorld, list[DayReplay]],
) -> None:
    _, replays = replayed
    for (day, push), replay in zip(DAYS, replays, strict=True):
        assert (replay.day, replay.sent, replay.failed) == (day, PER_DAY, 0)
        # A customer's statistics are pushed before their request when they changed that day.
        assert (0 < replay.pushed <= PER_DAY) if push else replay.pushed == 0


def test_the_skew_check_finds_nothing_with_pushes_and_stale_statistics_without(
    replayed: tuple[TrainedWorld, list[DayReplay]],
) -> None:
    world, _ = replayed
    config = MonitoringConfig(clock="event", skew_sample=PER_DAY)
    for day, push in DAYS:
        start = datetime.combine(day, datetime.min.time(), UTC)
        report, _ = build_report(
            world.settings, world.registry, config, start, start + timedelta(days=1), QUIET
        )
        assert report.drift.rows == PER_DAY and report.skew is not None
        assert report.skew.sampled == PER_DAY
        if push:
            assert report.skew.status == "ok", report.skew.skewed
        else:
            # A store materialized once a day lags each customer's own transactions that day.
            assert report.skew.status == "skew" and report.skew.mismatched_rows > 0
            assert {"txn_count_24h", "seconds_since_last_txn"} <= set(report.skew.skewed)
            assert not {"credit_limit", "age_band"} & set(report.skew.skewed)  # profiles are not stale
