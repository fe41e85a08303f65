"""The main job: the whole loop on one profile, stage by stage.

The loop so far: simulate → build features → feast apply → materialize → one online
lookup → train (point-in-time, MLflow) → evaluate → register → promote through the
gate → serve the champion and replay simulated traffic through the API → a
monitoring report on the replayed traffic (drift against training, skew, labels
so far) and the retraining policy's decision. Later stages (retrain, shadow,
canary) extend the same job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from feature_repo.operations import (
    ApplySummary,
    apply_feature_repo,
    lookup_online_features,
    materialize_features,
    open_feature_store,
)
from feature_repo.pipeline import FeatureBuildSummary, build_features
from monitoring.config import MonitoringConfig
from monitoring.job import ReportOutcome, run_report
from monitoring.policy import Decision, decide, record_decision
from serving.app import create_app
from serving.replay import ReplayResult, replay_transactions
from serving.runner import serve_in_background
from simulation import SimulationConfig, SimulationSummary, simulate
from skewless.contract import CUSTOMER_KEY, FEATURE_SERVICE_V1, MERCHANT_KEY
from skewless.progress import Progress
from skewless.retraining import carry_out
from skewless.settings import Settings
from training.config import TrainingConfig
from training.job import TrainingOutcome, train_and_register
from training.registry import GateDecision, promote

__all__ = ["MainJobResult", "monitor_replay", "run_main_job", "sample_request", "serve_and_replay"]

REPLAY_COUNT = 200


@dataclass(frozen=True)
class MainJobResult:
    """What each stage of the main job produced."""

    simulation: SimulationSummary
    features: FeatureBuildSummary
    applied: ApplySummary
    request: dict[str, Any]
    online_features: dict[str, Any]
    training: TrainingOutcome
    promotion: GateDecision
    replay: ReplayResult | None
    monitoring: ReportOutcome | None = None
    decision: Decision | None = None


def sample_request(settings: Settings) -> dict[str, Any]:
    """A realistic incoming transaction: the last customer again, one minute later.

    Deterministic, so a rerun of the main job shows the same lookup.
    """
    transactions = pd.read_parquet(settings.layout.transactions)
    last = transactions.iloc[-1]
    at = last["transaction_time"].to_pydatetime() + timedelta(minutes=1)
    return {
        CUSTOMER_KEY: int(last[CUSTOMER_KEY]),
        MERCHANT_KEY: int(last[MERCHANT_KEY]),
        "amount": float(last["amount"]),
        "merchant_country": str(last["merchant_country"]),
        "channel": str(last["channel"]),
        "transaction_time": at,
    }


def run_main_job(
    settings: Settings,
    config: SimulationConfig,
    progress: Progress,
    training: TrainingConfig | None = None,
) -> MainJobResult:
    """Run the loop end to end on ``settings.profile``.

    Args:
        settings: profile and workspace.
        config: what to simulate.
        progress: progress reporter.
        training: training and gate configuration (defaults when omitted).

    Returns:
        Every stage's summary and the online lookup shown to the user.
    """
    layout = settings.layout
    progress.info(f"Skewless main job · profile {settings.profile} · workspace {settings.root_dir}")
    simulation = simulate(config, layout, progress)
    features = build_features(layout, progress)
    with progress.step(f"feast apply ({settings.profile})"):
        applied = apply_feature_repo(settings)
    store = open_feature_store(settings)
    end = SimulationConfig.to_datetime(config.end)
    longest_ttl = max((view.ttl or timedelta(0)) for view in store.list_feature_views())
    with progress.step(f"materialize to the online store up to {end:%Y-%m-%d %H:%M} UTC"):
        materialize_features(store, end=end, start=end - longest_ttl)
    request = sample_request(settings)
    with progress.step(f"online lookup of '{FEATURE_SERVICE_V1}'"):
        values = lookup_online_features(store, FEATURE_SERVICE_V1, [request])
    online = {name: column[0] for name, column in values.items()}
    training = training or TrainingConfig()
    outcome = train_and_register(settings, training, progress)
    decision = promote(settings, training, progress)
    replay, monitoring, policy = None, None, None
    if decision.passed or decision.champion_version:
        replay_started = datetime.now(UTC)
        replay = serve_and_replay(settings, progress)
        monitoring, policy = monitor_replay(settings, progress, replay_started - timedelta(seconds=1))
    return MainJobResult(
        simulation=simulation,
        features=features,
        applied=applied,
        request=request,
        online_features=online,
        training=outcome,
        promotion=decision,
        replay=replay,
        monitoring=monitoring,
        decision=policy,
    )


def serve_and_replay(settings: Settings, progress: Progress, count: int = REPLAY_COUNT) -> ReplayResult:
    """Serve the champion on loopback and send it ``count`` transactions of the last day, as new traffic."""
    transactions = pd.read_parquet(settings.layout.transactions)
    last_day = transactions[
        transactions["transaction_time"] >= transactions["transaction_time"].max().floor("D")
    ]
    sample = last_day.sample(n=min(count, len(last_day)), random_state=0)
    with progress.step(f"serve the champion and replay {len(sample)} transactions through /predict"):
        with serve_in_background(create_app(settings)) as url:
            return replay_transactions(url, sample, at=datetime.now(UTC))


def monitor_replay(settings: Settings, progress: Progress, since: datetime) -> tuple[ReportOutcome, Decision]:
    """Report on the traffic served since ``since`` and record the policy's decision about it."""
    config = MonitoringConfig(model_name=settings.model_name)
    now = datetime.now(UTC) + timedelta(seconds=1)
    outcome = run_report(settings, config, since, now, progress)
    decision = decide(outcome.report, outcome.reference, config.policy, now)
    decision = carry_out(settings, decision, config.policy, now, progress)
    record_decision(decision, settings.layout.policy_decisions)
    return outcome, decision


def today_utc() -> date:
    """Today's date in UTC: the default end of a simulation."""
    return datetime.now(UTC).date()
