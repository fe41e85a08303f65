"""The promotion gate: a candidate becomes ``champion`` only if it beats the champion.

Every training run registers a version and points ``challenger`` at it. ``promote``
moves a candidate to ``champion`` only through the gate, which scores the candidate
and the current champion on the same holdout (the candidate's, logged with its run so
any machine can replay it). With no champion, the candidate must reach the gate's
absolute floor. The registry records the version each promotion replaced, so a
rollback (``ModelRegistry.roll_back_champion``) can follow it back.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from skewless.auc import hanley_mcneil_error
from skewless.errors import PromotionRefusedError
from skewless.progress import Progress
from skewless.registry import CHALLENGER, CHAMPION, EVALUATION_SET_ARTIFACT, ModelRegistry, RegisteredModel
from training.config import GatePolicy, TrainingConfig
from training.dataset import TrainingSet
from training.evaluation import SLICES, Evaluation, evaluate_model

__all__ = [
    "GateDecision",
    "evaluation_set",
    "gate_summary",
    "judge",
    "judge_candidate",
    "promote",
    "record_gate",
]


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict, with every reason it gave."""

    passed: bool
    candidate_version: int
    champion_version: int | None
    reasons: list[str]
    candidate: dict[str, float] = field(default_factory=dict)
    champion: dict[str, float] = field(default_factory=dict)


def evaluation_set(registry: ModelRegistry, model: RegisteredModel) -> TrainingSet:
    """The validation and holdout rows a version was evaluated on, as a training set."""
    with tempfile.TemporaryDirectory() as folder:
        local = registry.download_artifact(model.version, EVALUATION_SET_ARTIFACT, Path(folder))
        frame = pd.read_parquet(local)
    data = model.metadata.training_data
    return TrainingSet(
        frame=frame,
        features=model.encoding.features,
        categorical=model.encoding.categorical,
        feature_service=model.feature_service,
        content_hash=data.content_hash,
        path=Path(data.path),
        cutoff=data.cutoff,
    )


def _slice_aucs(evaluation: Evaluation) -> dict[str, tuple[float, float]]:
    """Each judged slice's AUC and its Hanley-McNeil standard error."""
    found = {}
    for name in SLICES:
        for value, stats in evaluation.slices.get(name, {}).items():
            if stats["roc_auc"] is None:
                continue
            auc, positives = float(stats["roc_auc"]), int(stats["positives"] or 0)
            negatives = int(stats["rows"] or 0) - positives
            found[f"{name}={value}"] = (auc, hanley_mcneil_error(auc, positives, negatives))
    return found


def judge(candidate: Evaluation, champion: Evaluation | None, policy: GatePolicy) -> list[str]:
    """Reasons the candidate fails the gate (empty when it passes)."""
    reasons = []
    latency = candidate.latency_ms["single_p99_ms"]
    if latency > policy.latency_budget_ms:
        reasons.append(
            f"single-row p99 scoring time {latency:.2f} ms exceeds the {policy.latency_budget_ms} ms budget"
        )
    if champion is None:
        if candidate.roc_auc < policy.min_auc:
            reasons.append(f"AUC {candidate.roc_auc:.4f} is below the floor {policy.min_auc}")
        return reasons
    if candidate.roc_auc < champion.roc_auc - policy.auc_margin:
        reasons.append(
            f"AUC {candidate.roc_auc:.4f} is worse than the champion's {champion.roc_auc:.4f} "
            f"by more than {policy.auc_margin}"
        )
    if candidate.business_cost > champion.business_cost * (1 + policy.cost_tolerance):
        ours, theirs_cost = candidate.business_cost, champion.business_cost
        reasons.append(f"business cost {ours:,.0f} exceeds the champion's {theirs_cost:,.0f}")
    theirs = {name: auc for name, (auc, _) in _slice_aucs(champion).items()}
    for slice_name, (auc, error) in _slice_aucs(candidate).items():
        if slice_name not in theirs:
            continue
        fall = theirs[slice_name] - auc
        if fall > policy.max_slice_auc_drop and fall > 1.96 * error:
            reasons.append(
                f"slice {slice_name} AUC {auc:.3f} ± {1.96 * error:.3f} falls more than "
                f"{policy.max_slice_auc_drop} below the champion's {theirs[slice_name]:.3f}"
            )
    return reasons


def _summary(evaluation: Evaluation) -> dict[str, float]:
    return {
        "roc_auc": evaluation.roc_auc,
        "business_cost": evaluation.business_cost,
        "single_p99_ms": evaluation.latency_ms["single_p99_ms"],
    }


def judge_candidate(
    registry: ModelRegistry, config: TrainingConfig, progress: Progress, version: int | None = None
) -> GateDecision:
    """Judge a candidate (default: the ``challenger``) against the champion, changing nothing.

    Raises:
        ModelNotFoundError: no candidate to judge.
        PromotionRefusedError: the champion needs features the candidate's holdout lacks.
    """
    candidate = registry.load(version if version is not None else CHALLENGER)
    champion_version = registry.alias_version(CHAMPION)
    if champion_version == candidate.version:
        return GateDecision(
            False, candidate.version, champion_version, ["this version is already the champion"]
        )
    holdout = evaluation_set(registry, candidate)
    with progress.step(f"gate: score v{candidate.version} and the champion on the same holdout"):
        candidate_eval = evaluate_model(
            candidate.booster, candidate.encoding, holdout, config.review_cost, candidate.threshold
        )
        champion_eval = None
        if champion_version is not None:
            champion = registry.load(champion_version)
            missing = [f for f in champion.encoding.features if f not in holdout.frame.columns]
            if missing:
                raise PromotionRefusedError(
                    f"the champion needs features the candidate's holdout lacks: {missing}"
                )
            champion_eval = evaluate_model(
                champion.booster, champion.encoding, holdout, config.review_cost, champion.threshold
            )
    reasons = judge(candidate_eval, champion_eval, config.gate)
    return GateDecision(
        passed=not reasons,
        candidate_version=candidate.version,
        champion_version=champion_version,
        reasons=reasons,
        candidate=_summary(candidate_eval),
        champion=_summary(champion_eval) if champion_eval else {},
    )


GATE_HEADING = "\n\nGate: "


def gate_summary(decision: GateDecision) -> str:
    """The verdict in one line, with both models' AUC on the same rows."""
    figures = f"v{decision.candidate_version} AUC {decision.candidate.get('roc_auc', float('nan')):.3f}"
    if decision.champion:
        theirs = decision.champion["roc_auc"]
        figures += f" against champion v{decision.champion_version} {theirs:.3f} on the same rows"
    verdict = "passed" if decision.passed else "refused: " + "; ".join(decision.reasons)
    return f"{figures}; gate {verdict}"


def record_gate(registry: ModelRegistry, decision: GateDecision) -> None:
    """Write the gate's verdict and figures on the candidate's version (tags and description), for the
    MLflow UI. Nothing is written when the candidate already is the champion."""
    if decision.candidate_version == decision.champion_version:
        return
    tags = {
        "gate.verdict": "passed" if decision.passed else "refused",
        "gate.summary": gate_summary(decision)[:5000],
        "gate.candidate_auc": f"{decision.candidate.get('roc_auc', float('nan')):.4f}",
    }
    if decision.champion:
        tags |= {
            "gate.champion_version": str(decision.champion_version),
            "gate.champion_auc": f"{decision.champion['roc_auc']:.4f}",
        }
    for key, value in tags.items():
        registry.set_version_tag(decision.candidate_version, key, value)
    described = registry.version_description(decision.candidate_version).split(GATE_HEADING)[0].rstrip()
    registry.describe_version(
        decision.candidate_version, f"{described}{GATE_HEADING}{gate_summary(decision)}"
    )


def promote(
    registry: ModelRegistry, config: TrainingConfig, progress: Progress, version: int | None = None
) -> GateDecision:
    """Judge a candidate (default: the ``challenger``) against the champion and promote it if it passes.

    Raises:
        ModelNotFoundError: no candidate to judge.
    """
    decision = judge_candidate(registry, config, progress, version)
    record_gate(registry, decision)
    if decision.passed:
        registry.promote(decision.candidate_version)
    return decision
