"""Acting on a retraining decision: train on the latest window, gate, shadow; then record it.

Monitoring decides (``monitoring.policy``); this module, above both packages, carries
the decision out through training's public jobs and the registry: a new version is
trained on the latest ``retrain_window_days`` with the labels known now (it must pass
training's data validation), judged by the promotion gate against the champion on the
newest labelled days (the candidate's holdout) without being promoted, the two
figures written on the version as tags, and, if it passes, left as ``challenger`` with the
deployment set to shadow so the API scores it beside the champion. A candidate the
gate refuses loses the ``challenger`` alias. Every decision, carried out or not, is
appended to the decision record with what came of it (:func:`act_on`).

Retraining is idempotent: while a challenger already waits (in shadow or canary, for
a person or the canary to settle), a second decision to retrain records why it did
nothing instead of training another candidate over it. A challenger the API rolled
back from canary no longer waits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

from monitoring.config import PolicyRules
from monitoring.policy import Decision, record_decision
from skewless.errors import DataNotFoundError, SkewlessError
from skewless.modes import DeploymentMode
from skewless.progress import Progress
from skewless.raw_data import read_manifest
from skewless.registry import CHALLENGER, CHAMPION, Deployment, MlflowModelRegistry
from skewless.settings import Settings
from training.config import TrainingConfig
from training.job import train_and_register
from training.registry import judge_candidate, record_gate

__all__ = ["act_on", "carry_out", "retrain_now"]


def _data_end(settings: Settings) -> datetime:
    return datetime.combine(read_manifest(settings.layout).end, time.min, UTC)


def carry_out(
    settings: Settings,
    registry: MlflowModelRegistry,
    decision: Decision,
    rules: PolicyRules,
    as_of: datetime,
    progress: Progress,
    training: TrainingConfig | None = None,
) -> Decision:
    """Retrain, gate and shadow when ``decision`` says so; returns it with its outcome."""
    if decision.action not in ("retrain", "retrain_scheduled"):
        return decision
    if not rules.retrain:
        return replace(decision, outcome={"retrained": False, "why": "retraining disabled (dry run)"})
    waiting = registry.waiting_challenger()
    if waiting is not None:
        why = f"challenger v{waiting} is already waiting: promote it or roll it back before retraining again"
        return replace(decision, outcome={"retrained": False, "why": why, "challenger": waiting})
    cutoff = min(as_of.astimezone(UTC), _data_end(settings))
    config = replace(
        training or TrainingConfig(),
        cutoff=cutoff,
        train_days=rules.retrain_window_days,
        labels=rules.retrain_labels,
        legit_sample_rate=rules.retrain_legit_sample_rate,
    )
    outcome: dict[str, Any] = {
        "retrained": True,
        "cutoff": cutoff.isoformat(),
        "train_days": rules.retrain_window_days,
        "labels": rules.retrain_labels,
    }
    try:
        trained = train_and_register(settings, registry, config, progress)
    except SkewlessError as e:  # validation failed, or too little data: recorded, not raised
        return replace(decision, outcome=outcome | {"retrained": False, "error": str(e)})
    gate = judge_candidate(registry, config, progress, trained.run.version)
    record_gate(registry, gate)
    outcome |= {
        "candidate_version": trained.run.version,
        "holdout_auc": trained.evaluation.roc_auc,
        "evaluation_report": str(trained.report_html),
        "gate_passed": gate.passed,
        "gate_reasons": gate.reasons,
        "candidate": gate.candidate,
        "champion": gate.champion,
    }
    if gate.passed:
        reason = f"v{trained.run.version} retrained by the policy ({decision.action}); shadow before canary"
        registry.write_deployment(Deployment(DeploymentMode.SHADOW, settings.canary_share, reason))
        outcome["deployment"] = "shadow"
    elif registry.alias_version(CHALLENGER) == trained.run.version:
        registry.delete_alias(CHALLENGER)
        outcome["deployment"] = "unchanged (gate refused the candidate)"
    return replace(decision, outcome=outcome)


def act_on(
    settings: Settings,
    registry: MlflowModelRegistry,
    decision: Decision,
    rules: PolicyRules,
    as_of: datetime,
    progress: Progress,
    training: TrainingConfig | None = None,
) -> Decision:
    """Carry ``decision`` out and append it, with what came of it, to the decision record."""
    done = carry_out(settings, registry, decision, rules, as_of, progress, training)
    record_decision(done, settings.layout.policy_decisions)
    return done


def retrain_now(
    settings: Settings,
    registry: MlflowModelRegistry,
    rules: PolicyRules,
    as_of: datetime,
    progress: Progress,
    training: TrainingConfig | None = None,
) -> Decision:
    """Retrain by hand (``skewless retrain``): the policy's retraining, recorded like its decisions.

    Raises:
        DataNotFoundError: there is no champion to retrain against.
    """
    champion = registry.alias_version(CHAMPION)
    if champion is None:
        raise DataNotFoundError(
            f"'{registry.model_name}' has no champion to retrain: train and promote one first "
            "(skewless train, skewless promote)"
        )
    decision = Decision(
        action="retrain",
        reasons=["asked for by hand (skewless retrain)"],
        evidence={},
        decided_at=as_of.isoformat(),
        model_name=registry.model_name,
        model_version=champion,
    )
    return act_on(settings, registry, decision, rules, as_of, progress, training)
