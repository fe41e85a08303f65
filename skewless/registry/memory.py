"""An in-memory model registry: a real, shipped test double of :class:`ModelRegistry`.

Tests about our own logic (the serving lineup, deployments, promotion bookkeeping,
retraining decisions) use it instead of MLflow: the same typed operations, no server,
no files. ``available = False`` makes every call fail as a registry that is down does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skewless.errors import ModelNotFoundError, RegistryUnavailableError
from skewless.registry.client import METADATA_ARTIFACT, ModelRegistry
from skewless.registry.metadata import ModelMetadata

if TYPE_CHECKING:
    import lightgbm as lgb

__all__ = ["InMemoryModelRegistry"]


@dataclass
class _Version:
    booster: lgb.Booster | None
    artifacts: dict[str, bytes]
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""


class InMemoryModelRegistry(ModelRegistry):
    """A registered model held in this process only."""

    def __init__(self, model_name: str = "fraud_detection") -> None:
        super().__init__(model_name)
        self.available = True
        self._versions: dict[int, _Version] = {}
        self._aliases: dict[str, int] = {}
        self._tags: dict[str, str] = {}

    def add_version(
        self,
        booster: lgb.Booster | None = None,
        metadata: ModelMetadata | None = None,
        artifacts: dict[str, bytes] | None = None,
        alias: str | None = None,
    ) -> int:
        """Register a new version (the next number) and return it; optionally point ``alias`` at it."""
        self._check()
        stored = dict(artifacts or {})
        if metadata is not None:
            stored[METADATA_ARTIFACT] = json.dumps(metadata.to_dict()).encode()
        version = max(self._versions, default=0) + 1
        self._versions[version] = _Version(booster, stored)
        if alias is not None:
            self.set_alias(alias, version)
        return version

    def _check(self) -> None:
        if not self.available:
            raise RegistryUnavailableError("model registry unavailable (in-memory registry switched off)")

    def _version(self, version: int) -> _Version:
        self._check()
        if version not in self._versions:
            raise ModelNotFoundError(f"model '{self.model_name}' has no version {version}")
        return self._versions[version]

    def versions(self) -> list[int]:
        self._check()
        return sorted(self._versions)

    def aliases(self) -> dict[str, int]:
        self._check()
        return dict(self._aliases)

    def set_alias(self, alias: str, version: int) -> None:
        self._version(version)
        self._aliases[alias] = version

    def delete_alias(self, alias: str) -> None:
        self._check()
        self._aliases.pop(alias, None)

    def model_tags(self) -> dict[str, str]:
        self._check()
        return dict(self._tags)

    def set_model_tag(self, key: str, value: str) -> None:
        self._check()
        self._tags[key] = value

    def delete_model_tag(self, key: str) -> None:
        self._check()
        self._tags.pop(key, None)

    def version_tags(self, version: int) -> dict[str, str]:
        return dict(self._version(version).tags)

    def set_version_tag(self, version: int, key: str, value: str) -> None:
        self._version(version).tags[key] = value

    def describe_version(self, version: int, description: str) -> None:
        self._version(version).description = description

    def version_description(self, version: int) -> str:
        return self._version(version).description

    def download_artifact(self, version: int, artifact: str, folder: Path) -> Path:
        stored = self._version(version).artifacts
        if artifact not in stored:
            raise ModelNotFoundError(f"v{version} has no artifact {artifact}")
        path = folder / artifact
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(stored[artifact])
        return path

    def load_booster(self, version: int) -> lgb.Booster:
        booster = self._version(version).booster
        if booster is None:
            raise ModelNotFoundError(f"v{version} was registered without a model")
        return booster
