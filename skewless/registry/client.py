"""The model registry as Skewless uses it: one object per entry point, passed in.

:class:`ModelRegistry` is bound to one registered model. Its implementations provide a
few primitives (versions, aliases, tags, artifacts, boosters); everything Skewless
reads or records is written once here on top of them:

- resolving a version number or an alias (``champion``, ``challenger``);
- a version's typed :class:`ModelMetadata` and its native LightGBM booster;
- the deployment (a tag on the registered model) and canary rollbacks (a tag on the
  version), which every API worker and replica polls;
- promotion bookkeeping: the ``previous_champion`` tag a rollback follows back.

:class:`~skewless.registry.mlflow_registry.MlflowModelRegistry` is the real one;
:class:`~skewless.registry.memory.InMemoryModelRegistry` is a shipped test double for
tests about our own logic.
"""

from __future__ import annotations

import json
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from skewless.errors import DeploymentRefusedError, ModelNotFoundError, PromotionRefusedError
from skewless.model_input import FeatureEncoding, predict_scores
from skewless.modes import DeploymentMode
from skewless.registry.deployment import Deployment
from skewless.registry.metadata import ModelMetadata

if TYPE_CHECKING:
    import lightgbm as lgb

__all__ = [
    "CANARY_ROLLBACK_TAG",
    "CHALLENGER",
    "CHAMPION",
    "DEPLOYMENT_TAG",
    "EVALUATION_SET_ARTIFACT",
    "METADATA_ARTIFACT",
    "PREVIOUS_CHAMPION_TAG",
    "PROFILE_ARTIFACT",
    "ModelRegistry",
    "RegisteredModel",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
# Artifacts of every training run (written by training/tracking.py).
METADATA_ARTIFACT = "metadata.json"
PROFILE_ARTIFACT = "monitoring/reference_profile.json"
EVALUATION_SET_ARTIFACT = "dataset/evaluation_set.parquet"
# Tags: on the registered model, and on a version.
DEPLOYMENT_TAG = "skewless.deployment"
CANARY_ROLLBACK_TAG = "skewless.canary_rollback"
PREVIOUS_CHAMPION_TAG = "previous_champion"
ROLLED_BACK_TAG = "rolled_back"
EVALUATION_REPORT_TAG = "report.evaluation"  # where a version's evaluation report is (a runs:/ URI)
MONITORING_REPORT_TAG = "report.monitoring"  # the latest monitoring report of the version (a path)


@dataclass(frozen=True)
class RegisteredModel:
    """One registered version, ready to score: its booster and its metadata."""

    name: str
    version: int
    alias: str | None  # the alias it was loaded by, if any
    booster: lgb.Booster
    metadata: ModelMetadata

    @property
    def encoding(self) -> FeatureEncoding:
        return self.metadata.encoding

    @property
    def threshold(self) -> float:
        return self.metadata.decision_threshold

    @property
    def feature_service(self) -> str:
        return self.metadata.feature_service

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        """Scores of rows encoded with :attr:`encoding`."""
        return predict_scores(self.booster, matrix)


class ModelRegistry(ABC):
    """One registered model's versions, aliases, tags and artifacts."""

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    # ---- primitives, per implementation ---------------------------------------------

    @abstractmethod
    def versions(self) -> list[int]:
        """Every registered version, oldest first (none when the model is not registered)."""

    @abstractmethod
    def aliases(self) -> dict[str, int]:
        """Alias → version (empty when the model is not registered)."""

    @abstractmethod
    def set_alias(self, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``."""

    @abstractmethod
    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` (nothing happens when it does not exist)."""

    @abstractmethod
    def model_tags(self) -> dict[str, str]:
        """Tags of the registered model (empty when it is not registered)."""

    @abstractmethod
    def set_model_tag(self, key: str, value: str) -> None:
        """Set a tag on the registered model."""

    @abstractmethod
    def delete_model_tag(self, key: str) -> None:
        """Remove a tag of the registered model (nothing happens when it does not exist)."""

    @abstractmethod
    def version_tags(self, version: int) -> dict[str, str]:
        """Tags of one version.

        Raises:
            ModelNotFoundError: no such version.
        """

    @abstractmethod
    def set_version_tag(self, version: int, key: str, value: str) -> None:
        """Set a tag on one version."""

    @abstractmethod
    def describe_version(self, version: int, description: str) -> None:
        """Set the version's description (what the registry's UI shows on its page)."""

    @abstractmethod
    def version_description(self, version: int) -> str:
        """The version's description ("" when none)."""

    @abstractmethod
    def download_artifact(self, version: int, artifact: str, folder: Path) -> Path:
        """Copy an artifact of the version's training run into ``folder``; returns its local path.

        Raises:
            ModelNotFoundError: no such version, or it has no such artifact.
        """

    @abstractmethod
    def load_booster(self, version: int) -> lgb.Booster:
        """The version's native LightGBM booster.

        Raises:
            ModelNotFoundError: no such version.
        """

    # ---- reading ------------------------------------------------------------------

    def alias_version(self, alias: str) -> int | None:
        """The version ``alias`` points at, or None when the model or the alias does not exist."""
        return self.aliases().get(alias)

    def resolve(self, ref: str | int) -> int:
        """The version a number or an alias names.

        Raises:
            ModelNotFoundError: no such version or alias.
        """
        if isinstance(ref, int) or str(ref).isdigit():
            version = int(ref)
            if version not in self.versions():
                raise ModelNotFoundError(f"model '{self.model_name}' has no version {version}")
            return version
        found = self.alias_version(str(ref))
        if found is None:
            raise ModelNotFoundError(f"model '{self.model_name}' has no version with alias '{ref}'")
        return found

    def read_json(self, version: int, artifact: str) -> dict[str, Any]:
        """A JSON artifact of the version's training run (metadata, reference profile).

        Raises:
            ModelNotFoundError: no such version or artifact.
        """
        with tempfile.TemporaryDirectory() as folder:
            local = self.download_artifact(version, artifact, Path(folder))
            loaded: dict[str, Any] = json.loads(local.read_text(encoding="utf-8"))
        return loaded

    def metadata(self, version: int) -> ModelMetadata:
        """The version's ``metadata.json``, typed."""
        return ModelMetadata.from_dict(self.read_json(version, METADATA_ARTIFACT))

    def load(self, ref: str | int) -> RegisteredModel:
        """A version (number or alias) with its booster and metadata, ready to score.

        Raises:
            ModelNotFoundError: no such version or alias.
        """
        version = self.resolve(ref)
        alias = None if isinstance(ref, int) or str(ref).isdigit() else str(ref)
        return RegisteredModel(
            self.model_name, version, alias, self.load_booster(version), self.metadata(version)
        )

    # ---- deployment and canary rollbacks ------------------------------------------------

    def deployment(self, default: Deployment) -> Deployment:
        """The deployment recorded on the model, or ``default`` when none (or an unreadable one) is."""
        text = self.model_tags().get(DEPLOYMENT_TAG)
        if not text:
            return default
        try:
            return Deployment.from_json(text)
        except ValueError:
            return default  # a hand-edited tag that does not parse: keep serving as configured

    def write_deployment(self, deployment: Deployment) -> None:
        """Record ``deployment`` (every worker picks it up at its next poll)."""
        self.set_model_tag(DEPLOYMENT_TAG, deployment.to_json())

    def request_deployment(self, mode: DeploymentMode, canary_share: float, reason: str) -> Deployment:
        """Record a deployment asked for by a person, after checking it can be honoured.

        Raises:
            DeploymentRefusedError: shadow or canary without a challenger, a canary of a
                version rolled back from canary, or a share outside [0, 1].
        """
        if not 0.0 <= canary_share <= 1.0:
            raise DeploymentRefusedError(f"the canary share must be within [0, 1], got {canary_share}")
        if mode is not DeploymentMode.SINGLE:
            challenger = self.waiting_challenger(include_rolled_back=True)
            if challenger is None:
                raise DeploymentRefusedError(
                    f"'{self.model_name}' has no challenger to {mode.value}: retrain first (skewless retrain)"
                )
            why = self.canary_rollback(challenger) if mode is DeploymentMode.CANARY else None
            if why:
                raise DeploymentRefusedError(
                    f"challenger v{challenger} was rolled back from canary ({why}); retrain first"
                )
        deployment = Deployment(mode, canary_share, reason)
        self.write_deployment(deployment)
        return deployment

    def canary_rollback(self, version: int) -> str | None:
        """Why ``version`` was rolled back from canary, or None if it never was."""
        text = self.version_tags(version).get(CANARY_ROLLBACK_TAG)
        if not text:
            return None
        try:
            return "; ".join(json.loads(text)["reasons"])
        except (ValueError, KeyError, TypeError):
            return text

    def record_canary_rollback(self, version: int, reasons: list[str], figures: dict[str, Any]) -> None:
        """Tag ``version`` as rolled back from canary, with the evidence."""
        record = {"at": datetime.now(UTC).isoformat(), "reasons": reasons, "figures": figures}
        self.set_version_tag(version, CANARY_ROLLBACK_TAG, json.dumps(record, default=str))

    def waiting_challenger(self, include_rolled_back: bool = False) -> int | None:
        """The challenger that waits for a decision: not the champion, not rolled back from canary
        (unless ``include_rolled_back``); None when there is none."""
        aliases = self.aliases()
        challenger = aliases.get(CHALLENGER)
        if challenger is None or challenger == aliases.get(CHAMPION):
            return None
        if not include_rolled_back and self.canary_rollback(challenger):
            return None
        return challenger

    # ---- promotion and rollback --------------------------------------------------------

    def promote(self, version: int) -> int | None:
        """Make ``version`` the champion, remembering the one it replaces; returns that one.

        The ``challenger`` alias leaves the version it promotes. Judging whether a
        version deserves it is the gate's work (``training.registry.promote``).
        """
        previous = self.alias_version(CHAMPION)
        self.set_version_tag(version, PREVIOUS_CHAMPION_TAG, str(previous or ""))
        self.set_alias(CHAMPION, version)
        if self.alias_version(CHALLENGER) == version:
            self.delete_alias(CHALLENGER)
        return previous

    def roll_back_champion(self) -> tuple[int, int]:
        """Point ``champion`` back at the version it replaced; returns (from, to).

        Raises:
            PromotionRefusedError: there is no champion, or it replaced nothing.
        """
        current = self.alias_version(CHAMPION)
        if current is None:
            raise PromotionRefusedError(f"model '{self.model_name}' has no champion to roll back")
        previous = self.version_tags(current).get(PREVIOUS_CHAMPION_TAG, "")
        if not previous:
            raise PromotionRefusedError(
                f"champion v{current} replaced no earlier champion: nothing to roll back to"
            )
        self.set_alias(CHAMPION, int(previous))
        self.set_version_tag(current, ROLLED_BACK_TAG, "true")
        return current, int(previous)

    def forget_deployment(self) -> list[str]:
        """Drop the champion and challenger aliases and the deployment tag; returns what was dropped.

        Versions and runs stay: a rerun of the main job starts from no champion.
        """
        dropped = []
        aliases = self.aliases()
        for alias in (CHAMPION, CHALLENGER):
            if alias in aliases:
                self.delete_alias(alias)
                dropped.append(f"alias {alias}")
        if DEPLOYMENT_TAG in self.model_tags():
            self.delete_model_tag(DEPLOYMENT_TAG)
            dropped.append("deployment tag")
        return dropped
