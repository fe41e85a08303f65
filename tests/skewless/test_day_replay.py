"""Replaying simulated days through the API: pushes keep the online store as fresh as
training's point-in-time reads, so the skew check finds nothing; without them it does."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from feature_repo.operations import apply_feature_repo, materialize_features, open_feature_store
from feature_repo.pipeline import build_features
from monitoring.config import MonitoringConfig
from monitoring.job import build_report
from serving.app import create_app
from serving.runner import serve_in_background
from simulation import SimulationConfig, simulate
from skewless.day_replay import DayReplay, replay_day
from skewless.settings import Settings
from tests.conftest import QUIET
from tests.factories import make_workspace
from training.config import TrainingConfig
from training.job import train_and_register
from training.registry import promote

CUTOFF = datetime(2026, 3, 1, tzinfo=UTC)
DAYS = [(date(2026, 3, 1), False), (date(2026, 3, 2), True), (date(2026, 3, 3), True)]  # (day, push)
PER_DAY = 80


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[DayReplay]]:
    settings = make_workspace(tmp_path_factory.mktemp("replay") / "ws", log_flush_seconds=0.2)
    config = SimulationConfig(start=date(2025, 12, 1), end=date(2026, 3, 8), scale=0.1, seed=3)
    simulate(config, settings.layout, QUIET)
    build_features(settings.layout, QUIET)
    apply_feature_repo(settings)
    train_and_register(settings, TrainingConfig(cutoff=CUTOFF), QUIET)
    assert promote(settings, TrainingConfig(cutoff=CUTOFF), QUIET).passed
    store = open_feature_store(settings)
    materialize_features(store, end=CUTOFF, start=CUTOFF - timedelta(days=3650))
    with serve_in_background(create_app(settings)) as url:
        replays = [replay_day(store, settings.layout, url, day, PER_DAY, push=push) for day, push in DAYS]
        time.sleep(1.0)  # the log flushes every 0.2 s
    return settings, replays


def test_each_day_is_sent_in_full_with_at_most_one_push_per_request(
    replayed: tuple[Settings, list[DayReplay]],
) -> None:
    _, replays = replayed
    for (day, push), replay in zip(DAYS, replays, strict=True):
        assert (replay.day, replay.sent, replay.failed) == (day, PER_DAY, 0)
        # A customer's statistics are pushed before their request when they changed that day.
        assert (0 < replay.pushed <= PER_DAY) if push else replay.pushed == 0


def test_the_skew_check_finds_nothing_with_pushes_and_stale_statistics_without(
    replayed: tuple[Settings, list[DayReplay]],
) -> None:
    settings, _ = replayed
    config = MonitoringConfig(clock="event", skew_sample=PER_DAY)
    for day, push in DAYS:
        start = datetime.combine(day, datetime.min.time(), UTC)
        report, _ = build_report(settings, config, start, start + timedelta(days=1), QUIET)
        assert report.drift.rows == PER_DAY and report.skew is not None
        assert report.skew.sampled == PER_DAY
        if push:
            assert report.skew.status == "ok", report.skew.skewed
        else:
            # A store materialized once a day lags each customer's own transactions that day.
            assert report.skew.status == "skew" and report.skew.mismatched_rows > 0
            assert {"txn_count_24h", "seconds_since_last_txn"} <= set(report.skew.skewed)
            assert not {"credit_limit", "age_band"} & set(report.skew.skewed)  # profiles are not stale
