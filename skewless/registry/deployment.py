"""How the champion and a challenger share traffic, as the registry records it.

The deployment (mode and canary share) is a tag on the registered model, so every
worker and every replica polling the registry converges on the same one; the
settings give the default while no tag exists. A canary rolled back automatically is
recorded as a tag on its version with the evidence, so no restart or other worker
puts that version back on canary.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from skewless.modes import DeploymentMode
from skewless.settings import Settings

__all__ = ["Deployment"]


@dataclass(frozen=True)
class Deployment:
    """The requested way of serving: mode, canary share, and why it is so."""

    mode: DeploymentMode
    canary_share: float
    reason: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Deployment:
        """The default while the registry records none."""
        return cls(settings.deployment_mode, settings.canary_share, "from settings")

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "mode": self.mode.value})

    @classmethod
    def from_json(cls, text: str) -> Deployment:
        """Parse a recorded deployment.

        Raises:
            ValueError: the text is not a deployment (a hand-edited tag, say).
        """
        try:
            data = json.loads(text)
            return cls(DeploymentMode(data["mode"]), float(data["canary_share"]), str(data.get("reason", "")))
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a deployment: {text!r}") from e
