"""The model registry: versions, the ``challenger`` and ``champion`` aliases, the gate.

Every training run registers a version and points ``challenger`` at it. ``promote``
moves a candidate to ``champion`` only through the gate, which scores the candidate
and the current champion on the same holdout (the candidate's). With no champion,
the candidate must reach the gate's absolute floor. Each promotion records the
version it replaced as the new champion's ``previous_champion`` tag, and
``rollback`` follows that tag back.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow.lightgbm
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from skewless.model_input import FeatureEncoding
from skewless.progress import Progress
from skewless.settings import Settings
from skewless.tracking import (
    CHALLENGER,
    CHAMPION,
    EVALUATION_SET_ARTIFACT,
    METADATA_ARTIFACT,
    alias_version,
    configure_mlflow,
    read_run_json,
)
from training.config import GatePolicy, TrainingConfig
from training.dataset import TrainingSet
from training.errors import ModelNotFoundError, PromotionRefused
from training.evaluation import SLICES, Evaluation, evaluate_model

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "GateDecision",
    "RegisteredModel",
    "judge",
    "judge_candidate",
    "load_registered_model",
    "promote",
    "rollback",
]

PREVIOUS_CHAMPION_TAG = "previous_champion"


@dataclass(frozen=True)
class RegisteredModel:
    """One registered version with its booster and metadata."""

    name: str
    version: int
    run_id: str
    booster: lgb.Booster
    metadata: dict[str, Any]

    @property
    def encoding(self) -> FeatureEncoding:
        return FeatureEncoding.from_dict(self.metadata["encoding"])

    @property
    def threshold(self) -> float:
        return float(self.metadata["decision_threshold"])


@dataclass(frozen=True)
class GateDecision:
    """The gate's verdict, with every reason it gave."""

    passed: bool
    candidate_version: int
    champion_version: int | None
    reasons: list[str]
    candidate: dict[str, float] = field(default_factory=dict)
    champion: dict[str, float] = field(default_factory=dict)


def _version_of(client: MlflowClient, name: str, ref: str | int) -> int:
    if isinstance(ref, int) or str(ref).isdigit():
        return int(ref)
    try:
        return int(client.get_model_version_by_alias(name, str(ref)).version)
    except MlflowException as e:
        raise ModelNotFoundError(f"model '{name}' has no version with alias '{ref}'") from e


def load_registered_model(client: MlflowClient, name: str, ref: str | int) -> RegisteredModel:
    """Load a version (number or alias) as a native LightGBM booster with its metadata.

    Raises:
        ModelNotFoundError: no such model, version or alias.
    """
    version = _version_of(client, name, ref)
    try:
        model_version = client.get_model_version(name, str(version))
    except MlflowException as e:
        raise ModelNotFoundError(f"model '{name}' has no version {version}") from e
    booster = mlflow.lightgbm.load_model(f"models:/{name}/{version}")
    metadata = read_run_json(client, str(model_version.run_id), METADATA_ARTIFACT)
    return RegisteredModel(name, version, str(model_version.run_id), booster, metadata)


def evaluation_set(client: MlflowClient, model: RegisteredModel) -> TrainingSet:
    """The validation and holdout rows a version was evaluated on, as a training set."""
    with tempfile.TemporaryDirectory() as folder:
        local = client.download_artifacts(model.run_id, EVALUATION_SET_ARTIFACT, folder)
        frame = pd.read_parquet(local)
    data = model.metadata["training_data"]
    return TrainingSet(
        frame=frame,
        features=model.encoding.features,
        categorical=model.encoding.categorical,
        feature_service=model.metadata["feature_service"],
        content_hash=str(data["content_hash"]),
        path=Path(str(data["path"])),
        cutoff=pd.Timestamp(data["cutoff"]).to_pydatetime(),
    )


def _slice_aucs(evaluation: Evaluation) -> dict[str, float]:
    return {
        f"{name}={value}": float(stats["roc_auc"])
        for name in SLICES
        for value, stats in evaluation.slices.get(name, {}).items()
        if stats["roc_auc"] is not None
    }


def judge(candidate: Evaluation, champion: Evaluation | None, policy: GatePolicy) -> list[str]:
    """Reasons the candidate fails the gate (empty when it passes)."""
    reasons = []
    latency = candidate.latency_ms["single_p99_ms"]
    if latency > policy.latency_budget_ms:
        reasons.append(
            f"single-row p99 latency {latency:.2f} ms exceeds the {policy.latency_budget_ms} ms budget"
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
    theirs = _slice_aucs(champion)
    for slice_name, auc in _slice_aucs(candidate).items():
        if slice_name in theirs and auc < theirs[slice_name] - policy.max_slice_auc_drop:
            reasons.append(
                f"slice {slice_name} AUC {auc:.3f} falls more than {policy.max_slice_auc_drop} "
                f"below the champion's {theirs[slice_name]:.3f}"
            )
    return reasons


def _summary(evaluation: Evaluation) -> dict[str, float]:
    return {
        "roc_auc": evaluation.roc_auc,
        "business_cost": evaluation.business_cost,
        "single_p99_ms": evaluation.latency_ms["single_p99_ms"],
    }


def judge_candidate(
    settings: Settings, config: TrainingConfig, progress: Progress, version: int | None = None
) -> GateDecision:
    """Judge a candidate (default: the ``challenger``) against the champion, changing nothing.

    Raises:
        ModelNotFoundError: no candidate to judge.
    """
    client = configure_mlflow(settings)
    name = config.model_name
    candidate = load_registered_model(client, name, version if version is not None else CHALLENGER)
    champion_version = alias_version(client, name, CHAMPION)
    if champion_version == candidate.version:
        return GateDecision(
            False, candidate.version, champion_version, ["this version is already the champion"]
        )
    holdout = evaluation_set(client, candidate)
    with progress.step(f"gate: score v{candidate.version} and the champion on the same holdout"):
        candidate_eval = evaluate_model(
            candidate.booster, candidate.encoding, holdout, config.review_cost, candidate.threshold
        )
        champion_eval = None
        if champion_version is not None:
            champion = load_registered_model(client, name, champion_version)
            missing = [f for f in champion.encoding.features if f not in holdout.frame.columns]
            if missing:
                raise PromotionRefused(
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


def promote(
    settings: Settings, config: TrainingConfig, progress: Progress, version: int | None = None
) -> GateDecision:
    """Judge a candidate (default: the ``challenger``) against the champion and promote if it passes.

    Raises:
        ModelNotFoundError: no candidate to judge.
    """
    decision = judge_candidate(settings, config, progress, version)
    client = configure_mlflow(settings)
    name, candidate_version, champion_version = (
        config.model_name,
        decision.candidate_version,
        decision.champion_version,
    )
    if decision.passed:
        client.set_model_version_tag(
            name, str(candidate_version), PREVIOUS_CHAMPION_TAG, str(champion_version or "")
        )
        client.set_registered_model_alias(name, CHAMPION, str(candidate_version))
        if alias_version(client, name, CHALLENGER) == candidate_version:
            client.delete_registered_model_alias(name, CHALLENGER)
    return decision


def rollback(settings: Settings, config: TrainingConfig) -> tuple[int, int]:
    """Point ``champion`` back at the version it replaced; returns (from, to).

    Raises:
        PromotionRefused: there is no champion, or it replaced nothing.
    """
    client = configure_mlflow(settings)
    name = config.model_name
    current = alias_version(client, name, CHAMPION)
    if current is None:
        raise PromotionRefused(f"model '{name}' has no champion to roll back")
    previous = client.get_model_version(name, str(current)).tags.get(PREVIOUS_CHAMPION_TAG, "")
    if not previous:
        raise PromotionRefused(f"champion v{current} replaced no earlier champion: nothing to roll back to")
    client.set_registered_model_alias(name, CHAMPION, previous)
    client.set_model_version_tag(name, str(current), "rolled_back", "true")
    return current, int(previous)
