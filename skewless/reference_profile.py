"""The monitoring reference profile of a training snapshot.

Saved with every model version, so monitoring never re-reads training data. Per
numeric feature (and for the model's score) it holds the row and null counts, the
percentile grid of the training values (``grid``, the unique 0th..100th
percentiles) with the exact share of values at or below each grid point (``cdf``),
and the decile edges that PSI bins on (``psi_edges``, inner edges, a subset of the
grid) with the training share in each bin (``psi_shares``). Bins are closed on the
right, ``(e[i-1], e[i]]``, and the end bins are open, so a value outside the
training range falls in the first or last bin, and a 0/1 feature gets one bin per
value. Per categorical feature it holds category frequencies and the null rate.

Every feature also names its ``entity`` (the join key of the view it comes from,
None for request-time features) and its ``effective_count``: Kish's effective
sample size ``n² / Σ wᵢ²`` over the entity's rows per key, since a merchant's
daily statistics repeated on its 500 transactions are one observation, not 500.
Monitoring's tests use it so that a few busy merchants do not look like drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["PROFILE_VERSION", "build_reference_profile", "effective_count", "profile_column"]

PROFILE_VERSION = 2
GRID_QUANTILES = np.linspace(0.0, 1.0, 101)
DECILE_POSITIONS = range(10, 100, 10)  # indices of the 10th..90th percentiles in GRID_QUANTILES


def _numeric(values: pd.Series) -> dict[str, Any]:
    present = np.sort(pd.to_numeric(values, errors="coerce").dropna().to_numpy(dtype=np.float64))
    nulls = int(len(values) - len(present))
    profile: dict[str, Any] = {
        "kind": "numeric",
        "count": int(len(values)),
        "null_count": nulls,
        "null_rate": nulls / len(values) if len(values) else 0.0,
    }
    if len(present) == 0:
        empty: dict[str, Any] = {"grid": [], "cdf": [], "psi_edges": [], "psi_shares": []}
        return profile | empty | {"mean": None, "std": None, "min": None, "max": None}
    percentiles = np.quantile(present, GRID_QUANTILES)
    grid = np.unique(percentiles)
    cdf = np.searchsorted(present, grid, side="right") / len(present)
    psi_edges = np.unique(percentiles[list(DECILE_POSITIONS)])
    # Right-closed bins: index = number of inner edges strictly below the value.
    bins = np.searchsorted(psi_edges, present, side="left")
    shares = np.bincount(bins, minlength=len(psi_edges) + 1) / len(present)
    return profile | {
        "grid": grid.tolist(),
        "cdf": cdf.tolist(),
        "psi_edges": psi_edges.tolist(),
        "psi_shares": shares.tolist(),
        "mean": float(present.mean()),
        "std": float(present.std()),
        "min": float(present[0]),
        "max": float(present[-1]),
    }


def _categorical(values: pd.Series) -> dict[str, Any]:
    present = values.dropna().astype(str)
    frequencies = present.value_counts(normalize=True).sort_index()
    nulls = int(len(values) - len(present))
    return {
        "kind": "categorical",
        "count": int(len(values)),
        "null_count": nulls,
        "null_rate": nulls / len(values) if len(values) else 0.0,
        "frequencies": {str(k): float(v) for k, v in frequencies.items()},
    }


def profile_column(values: pd.Series, categorical: bool) -> dict[str, Any]:
    """One column's profile (numeric grid and PSI deciles, or category frequencies), no entity."""
    profile = _categorical(values) if categorical else _numeric(values)
    return profile | {"entity": None, "effective_count": float(len(values))}


def effective_count(keys: pd.Series) -> float:
    """Kish's effective sample size of rows clustered by ``keys``: n² / Σ (rows per key)²."""
    weights = keys.value_counts().to_numpy(dtype=np.float64)
    return float(weights.sum() ** 2 / (weights**2).sum()) if len(weights) else 0.0


def build_reference_profile(
    frame: pd.DataFrame,
    features: list[str],
    categorical: list[str],
    scores: np.ndarray,
    entities: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """Profile ``frame`` (the training split) and the model's ``scores`` on it.

    ``entities`` maps each feature to the join key of its entity (see
    ``feature_repo.operations.feature_entities``); features not in it count per row.
    """
    entities = entities or {}
    per_key = {key: effective_count(frame[key]) for key in set(entities.values()) if key in frame}

    def described(name: str) -> dict[str, Any]:
        profile = _categorical(frame[name]) if name in categorical else _numeric(frame[name])
        key = entities.get(name)
        return profile | {"entity": key, "effective_count": per_key.get(key or "", float(len(frame)))}

    return {
        "version": PROFILE_VERSION,
        "rows": int(len(frame)),
        "features": {name: described(name) for name in features},
        "prediction": _numeric(pd.Series(scores)) | {"entity": None, "effective_count": float(len(frame))},
    }
