"""The monitoring reference profile of a training snapshot.

Saved with every model version, so monitoring never re-reads training data. It
holds, per feature: quantile bin edges and the training counts in each bin, null
rate and count (numeric); category frequencies (categorical); and the same for the
model's score. Bins are deciles of the training distribution; a value outside the
training range falls in the first or last bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PROFILE_VERSION", "build_reference_profile"]

PROFILE_VERSION = 1
QUANTILES = np.linspace(0.0, 1.0, 11)


def _numeric(values: pd.Series) -> dict[str, Any]:
    present = pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=np.float64)
    profile: dict[str, Any] = {
        "kind": "numeric",
        "count": int(len(values)),
        "null_rate": float(values.isna().mean()) if len(values) else 0.0,
    }
    if len(present) == 0:
        return profile | {"edges": [], "counts": [], "mean": None, "std": None}
    edges = np.unique(np.quantile(present, QUANTILES))
    if len(edges) == 1:  # a constant feature still gets one bin
        edges = np.array([edges[0], edges[0]])
    # Inner edges only decide the bin, so out-of-range values land in the end bins.
    index = np.clip(np.searchsorted(edges[1:-1], present, side="right"), 0, len(edges) - 2)
    counts = np.bincount(index, minlength=len(edges) - 1)
    return profile | {
        "edges": edges.tolist(),
        "counts": counts.astype(int).tolist(),
        "mean": float(present.mean()),
        "std": float(present.std()),
    }


def _categorical(values: pd.Series) -> dict[str, Any]:
    present = values.dropna().astype(str)
    frequencies = present.value_counts(normalize=True).sort_index()
    return {
        "kind": "categorical",
        "count": int(len(values)),
        "null_rate": float(values.isna().mean()) if len(values) else 0.0,
        "frequencies": {str(k): float(v) for k, v in frequencies.items()},
    }


def build_reference_profile(
    frame: pd.DataFrame, features: list[str], categorical: list[str], scores: np.ndarray
) -> dict[str, Any]:
    """Profile ``frame`` (the training split) and the model's ``scores`` on it."""
    return {
        "version": PROFILE_VERSION,
        "rows": int(len(frame)),
        "features": {
            name: _categorical(frame[name]) if name in categorical else _numeric(frame[name])
            for name in features
        },
        "prediction": _numeric(pd.Series(scores)),
    }
