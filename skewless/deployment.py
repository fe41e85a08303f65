"""How the champion and a challenger share traffic, kept in the MLflow registry.

The deployment (mode and canary share) is a tag on the registered model, so every
worker and every replica polling the registry converges on the same one; the
settings give the default while no tag exists. An automatic canary rollback writes
``single`` there and tags the challenger version with the reason, so the rolled-back
version is never put back on canary by a restart or another worker.

Canary assignment is sticky: a customer's id is hashed to a fixed point in [0, 1),
and customers below the share go to the challenger. Raising the share keeps every
customer already on the challenger there.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from skewless.errors import ConfigurationError
from skewless.settings import DeploymentMode, Settings
from skewless.tracking import CHALLENGER, alias_version

__all__ = [
    "CANARY_ROLLBACK_TAG",
    "DEPLOYMENT_TAG",
    "Deployment",
    "canary_point",
    "read_canary_rollback",
    "read_deployment",
    "request_deployment",
    "write_canary_rollback",
    "write_deployment",
]

DEPLOYMENT_TAG = "skewless.deployment"
CANARY_ROLLBACK_TAG = "skewless.canary_rollback"


@dataclass(frozen=True)
class Deployment:
    """The requested way of serving: mode, canary share, and why it is so."""

    mode: DeploymentMode
    canary_share: float
    reason: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Deployment:
        return cls(settings.deployment_mode, settings.canary_share, "from settings")

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "mode": self.mode.value})

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        data = json.loads(text)
        return cls(DeploymentMode(data["mode"]), float(data["canary_share"]), str(data.get("reason", "")))


def canary_point(customer_id: int) -> float:
    """A customer's fixed point in [0, 1): the same on every worker, process and day."""
    digest = hashlib.blake2b(str(customer_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def read_deployment(client: MlflowClient, model_name: str, default: Deployment) -> Deployment:
    """The deployment tagged on the registered model, or ``default`` when none is."""
    try:
        tags = client.get_registered_model(model_name).tags
    except MlflowException:
        return default
    text = tags.get(DEPLOYMENT_TAG)
    if not text:
        return default
    try:
        return Deployment.from_json(text)
    except (ValueError, KeyError, TypeError):
        return default  # a hand-edited tag that does not parse: keep serving as configured


def write_deployment(client: MlflowClient, model_name: str, deployment: Deployment) -> None:
    """Record ``deployment`` on the registered model (every worker picks it up at its next poll)."""
    client.set_registered_model_tag(model_name, DEPLOYMENT_TAG, deployment.to_json())


def write_canary_rollback(
    client: MlflowClient, model_name: str, version: int, reasons: list[str], figures: dict[str, Any]
) -> None:
    """Tag ``version`` as rolled back from canary, with the evidence."""
    record = {"at": datetime.now(UTC).isoformat(), "reasons": reasons, "figures": figures}
    client.set_model_version_tag(model_name, str(version), CANARY_ROLLBACK_TAG, json.dumps(record))


def read_canary_rollback(client: MlflowClient, model_name: str, version: int) -> str | None:
    """Why ``version`` was rolled back from canary, or None if it never was."""
    tags = client.get_model_version(model_name, str(version)).tags
    text = tags.get(CANARY_ROLLBACK_TAG)
    if not text:
        return None
    try:
        return "; ".join(json.loads(text)["reasons"])
    except (ValueError, KeyError, TypeError):
        return text


def request_deployment(
    client: MlflowClient, model_name: str, mode: DeploymentMode, canary_share: float, reason: str
) -> Deployment:
    """Record a deployment asked for by hand, after checking there is a challenger to route to.

    Every API worker and replica picks it up at its next registry poll.

    Raises:
        ConfigurationError: shadow or canary without a ``challenger`` alias, a canary for a
            version that was rolled back from canary, or a share outside [0, 1].
    """
    if not 0.0 <= canary_share <= 1.0:
        raise ConfigurationError(f"the canary share must be within [0, 1], got {canary_share}")
    if mode is not DeploymentMode.SINGLE:
        challenger = alias_version(client, model_name, CHALLENGER)
        if challenger is None:
            raise ConfigurationError(
                f"'{model_name}' has no challenger to {mode.value}: retrain first (skewless retrain)"
            )
        why = read_canary_rollback(client, model_name, challenger) if mode is DeploymentMode.CANARY else None
        if why:
            raise ConfigurationError(f"challenger v{challenger} was rolled back from canary ({why}); retrain")
    deployment = Deployment(mode, canary_share, reason)
    write_deployment(client, model_name, deployment)
    return deployment
