"""Run the whole loop: build, serve, replay day by day, check weekly, summarise.

A world is simulated with a drift story; a champion learns from the days before the
replay; the API serves it on loopback while the simulated days are replayed one by
one (``lifecycle.day_replay``: materialized at each day's start, customer statistics
pushed as transactions happen), and the challenger's way is run by
``lifecycle.loop.stages``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pandas as pd

from feature_repo.operations import open_feature_store
from lifecycle.day_replay import replay_day
from lifecycle.labels import Analysts
from lifecycle.loop.build import build_start, move_previous_run
from lifecycle.loop.config import LoopConfig, LoopResult
from lifecycle.loop.stages import ChallengerStages
from lifecycle.loop.summary import period_rows, served_with_labels, week_rows, write_summary
from serving.app import create_app
from serving.runner import serve_in_background
from simulation.analysts import AnalystTeam
from skewless.progress import Progress
from skewless.registry import CHAMPION, MlflowModelRegistry
from skewless.settings import Settings

__all__ = ["run_loop"]


def run_loop(
    settings: Settings, registry: MlflowModelRegistry, config: LoopConfig, progress: Progress
) -> LoopResult:
    """Run the whole loop on ``settings``'s workspace (embedded or production profile).

    Raises:
        SkewlessError: a stage failed (its message says which and why); what was
            written before it stays.
    """
    started = time.perf_counter()
    layout = settings.layout
    progress.info(
        f"Skewless · the whole loop · scenario {config.scenario} · profile {settings.profile} · "
        f"workspace {settings.root_dir}"
    )
    previous = move_previous_run(layout) + registry.forget_deployment()
    if previous:
        progress.info(f"a fresh loop; the previous run's state set aside: {', '.join(previous)}")
    end = config.end or datetime.now(UTC).date()
    first = end - timedelta(days=config.replay_days)
    start = build_start(settings, registry, config, first, end, progress)
    store = open_feature_store(settings)
    serving = settings.model_copy(
        update={
            "reload_interval_s": 0.3,
            "log_flush_seconds": 0.2,
            "canary_check_interval_s": 0.5,
            "ready_requires_fresh_store": False,  # simulated past days: the requests carry their own times
        }
    )
    with serve_in_background(create_app(serving, registry)) as url:
        stages = ChallengerStages(serving, registry, config, progress, url, first)
        analysts = Analysts(layout, AnalystTeam(capacity_per_day=config.reviews_per_day))
        stages.event(
            first, "champion", f"v{registry.alias_version(CHAMPION)} serves", str(start.training.report_html)
        )
        for index in range(config.replay_days):
            day = first + timedelta(days=index)
            with progress.step(
                f"day {index + 1}/{config.replay_days} {day}: replay {config.per_day} transactions"
            ):
                replay_day(store, layout, url, day, config.per_day, seed=index)
            if index:  # yesterday's alerts, flushed to the log by now
                analysts.review(day - timedelta(days=1))
            stages.advance(day)
            if (index + 1) % config.check_every_days == 0:
                time.sleep(serving.log_flush_seconds + 0.3)  # let the API's log writer flush
                analysts.review(day)
                stages.check(day)
        time.sleep(serving.log_flush_seconds + 0.3)
        analysts.review(first + timedelta(days=config.replay_days - 1))
    champion = registry.alias_version(CHAMPION)
    served = served_with_labels(layout)
    weeks = week_rows(served, first, config.replay_days, stages.checks)
    change = (
        None
        if config.scenario == "none"
        else pd.Timestamp(first + timedelta(days=config.drift_after_days), tz=UTC)
    )
    periods = period_rows(served, change)
    seconds = round(time.perf_counter() - started, 1)
    evaluation = start.training.evaluation
    summary = {
        "config": asdict(config) | {"end": end.isoformat(), "first_day": first.isoformat()},
        "start": {
            "transactions": start.simulation.transactions,
            "version": start.training.run.version,
            "holdout_auc": round(evaluation.roc_auc, 4),
            "oracle_auc": round(evaluation.oracle_roc_auc, 4),
            "evaluation_report": str(start.training.report_html),
        },
        "champion_version": champion,
        "seconds": seconds,
        "decisions": str(layout.policy_decisions),
        "mlflow_ui": registry.ui_hint(),
        "weeks": weeks,
        "periods": periods,
        "checks": stages.checks,
        "events": [asdict(e) for e in stages.events],
    }
    json_path, html_path = write_summary(layout.root / "loop", summary)
    return LoopResult(
        config=config,
        start=start,
        events=stages.events,
        checks=stages.checks,
        weeks=weeks,
        periods=periods,
        summary_json=json_path,
        summary_html=html_path,
        seconds=seconds,
        champion_version=champion,
        mlflow_ui=registry.ui_hint(),
        previous=previous,
    )
