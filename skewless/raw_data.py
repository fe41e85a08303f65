"""The raw data's manifest: what period the raw tables cover and what a broken pipeline writes.

Whoever writes the raw tables (the simulator here, an export job in a real system)
writes ``data/raw/manifest.json`` beside them; the feature pipeline and training read
the period from it, so neither needs to know where the data came from. The manifest
may also declare *feature faults*: a column an upstream job writes null or constant
from a given day (the ``pipeline_break`` scenario), which the feature pipeline applies
so that a break reaches the feature tables, the online store and the API as a real one
would.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Literal

from skewless.errors import DataNotFoundError
from skewless.layout import DataLayout

__all__ = ["MANIFEST_VERSION", "FeatureFault", "RawDataManifest", "read_manifest"]

MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FeatureFault:
    """A feature column that a broken upstream job writes wrongly from the manifest's ``drift_start``."""

    table: str
    column: str
    mode: Literal["null", "constant"]
    constant: float = 0.0


@dataclass(frozen=True)
class RawDataManifest:
    """The period ``[start, end)`` of the raw tables, the scenario that shaped them and its faults."""

    start: date
    end: date
    drift_start: date
    scenario: dict[str, Any] = field(default_factory=dict)  # name, description, parameters, faults
    scale: float = 1.0
    seed: int = 0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def faults(self) -> list[FeatureFault]:
        """The feature faults the raw data's source declares (none unless the pipeline 'broke')."""
        return [FeatureFault(**fault) for fault in self.scenario.get("faults", [])]

    def to_json(self) -> str:
        data = asdict(self) | {
            "version": MANIFEST_VERSION,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "drift_start": self.drift_start.isoformat(),
        }
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> RawDataManifest:
        data = json.loads(text)
        return cls(
            start=date.fromisoformat(data["start"]),
            end=date.fromisoformat(data["end"]),
            drift_start=date.fromisoformat(data.get("drift_start", data["end"])),
            scenario=dict(data.get("scenario", {})),
            scale=float(data.get("scale", 1.0)),
            seed=int(data.get("seed", 0)),
            summary=dict(data.get("summary", {})),
        )


def read_manifest(layout: DataLayout) -> RawDataManifest:
    """Read the manifest of the raw tables.

    Raises:
        DataNotFoundError: there are no raw tables yet.
    """
    if not layout.manifest.is_file():
        raise DataNotFoundError(f"no simulated data in {layout.raw_dir}: run `skewless simulate` first")
    return RawDataManifest.from_json(layout.manifest.read_text(encoding="utf-8"))
