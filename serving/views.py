"""Response models built from what the process serves (kept out of the routes)."""

from __future__ import annotations

from serving.canary import CanaryVerdict
from serving.lineup import Lineup
from serving.schemas import ArmFigures, DeploymentResponse, ModelInfoResponse

__all__ = ["deployment_view", "model_view"]


def model_view(lineup: Lineup) -> ModelInfoResponse:
    """The champion: name, version, alias, feature service, features and threshold."""
    model = lineup.champion.model
    return ModelInfoResponse(
        model_name=model.name,
        model_version=model.version,
        alias=model.alias or "champion",
        feature_service=model.feature_service,
        features=model.encoding.features,
        threshold=model.threshold,
    )


def deployment_view(lineup: Lineup, verdict: CanaryVerdict) -> DeploymentResponse:
    """The mode in force, what was requested and why, and the live comparison."""
    return DeploymentResponse(
        mode=lineup.mode,
        requested_mode=lineup.requested.mode,
        requested_reason=lineup.requested.reason,
        note=lineup.note,
        canary_share=lineup.requested.canary_share,
        champion_version=lineup.champion.model.version,
        challenger_version=lineup.challenger_version,
        judged=verdict.judged,
        departed=verdict.departed,
        reasons=verdict.reasons,
        score_ks=verdict.score_ks,
        rank_correlation=verdict.rank_correlation,
        champion=ArmFigures(**verdict.champion.__dict__),
        challenger=ArmFigures(**verdict.challenger.__dict__),
    )
