"""Drift statistics between a training reference and a window, on binned counts.

The reference is a profile (percentile grid with its CDF, decile PSI bins,
category frequencies); the window is counts in the same cells. Nothing here sees
raw rows, so a report costs the same whatever the log's size.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special, stats
from scipy.spatial.distance import jensenshannon

__all__ = [
    "chi_square_p_value",
    "js_distance",
    "ks_distance",
    "ks_p_value",
    "null_rate_p_value",
    "psi",
    "psi_bin_counts",
    "wasserstein_on_grid",
]


def ks_distance(reference_cdf: np.ndarray, window_cells: np.ndarray) -> float:
    """Largest gap between the two CDFs at the reference grid points.

    ``window_cells[i]`` counts window values in ``(grid[i-1], grid[i]]`` (the first
    cell is ``<= grid[0]``, the last ``> grid[-1]``), so its cumulative sum is the
    window's CDF at each grid point.
    """
    total = window_cells.sum()
    if total == 0 or len(reference_cdf) == 0:
        return 0.0
    window_cdf = np.cumsum(window_cells)[: len(reference_cdf)] / total
    return float(np.max(np.abs(window_cdf - reference_cdf)))


def ks_p_value(distance: float, n_reference: float, n_window: float) -> float:
    """Asymptotic two-sample KS p-value with Stephens' small-sample correction.

    ``n_*`` may be effective sample sizes (fractional).
    """
    if n_reference <= 0 or n_window <= 0:
        return 1.0
    n = n_reference * n_window / (n_reference + n_window)
    root = math.sqrt(n)
    return float(min(1.0, special.kolmogorov((root + 0.12 + 0.11 / root) * distance)))


def psi_bin_counts(grid: np.ndarray, psi_edges: np.ndarray, window_cells: np.ndarray) -> np.ndarray:
    """Window counts in the PSI bins, from its grid cells (every PSI edge is a grid point)."""
    cumulative = np.cumsum(window_cells)
    at_edges = cumulative[np.searchsorted(grid, psi_edges)]
    return np.diff(np.concatenate([[0], at_edges, [cumulative[-1]]]))


def psi(reference_shares: np.ndarray, window_counts: np.ndarray, epsilon: float) -> float:
    """Population stability index, sum of (q - p) ln(q / p), shares floored at ``epsilon``."""
    total = window_counts.sum()
    if total == 0:
        return 0.0
    p = np.maximum(reference_shares, epsilon)
    q = np.maximum(window_counts / total, epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def js_distance(reference_shares: np.ndarray, window_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2): 0 for the same distribution, 1 for disjoint ones."""
    total = window_counts.sum()
    if total == 0 or reference_shares.sum() == 0:
        return 0.0
    value = jensenshannon(reference_shares, window_counts / total, base=2)
    return float(value) if np.isfinite(value) else 0.0


def wasserstein_on_grid(grid: np.ndarray, reference_cdf: np.ndarray, window_cells: np.ndarray) -> float:
    """Earth mover's distance between the CDFs over the training range, in the feature's units."""
    total = window_cells.sum()
    if total == 0 or len(grid) < 2:
        return 0.0
    window_cdf = np.cumsum(window_cells)[: len(grid)] / total
    return float(np.sum(np.abs(window_cdf - reference_cdf)[:-1] * np.diff(grid)))


def chi_square_p_value(
    reference_shares: np.ndarray, window_counts: np.ndarray, design_effect: float
) -> float:
    """Goodness of fit of window counts to reference shares, the statistic divided by the design effect.

    Categories expected fewer than 5 times are pooled; with fewer than two cells
    left there is nothing to test (p = 1).
    """
    total = window_counts.sum()
    if total == 0:
        return 1.0
    expected = reference_shares / reference_shares.sum() * total
    small = expected < 5
    if small.any():
        expected = np.append(expected[~small], expected[small].sum())
        window_counts = np.append(window_counts[~small], window_counts[small].sum())
        keep = expected > 0
        expected, window_counts = expected[keep], window_counts[keep]
    if len(expected) < 2:
        return 1.0
    statistic = float(np.sum((window_counts - expected) ** 2 / expected)) / max(design_effect, 1.0)
    return float(stats.chi2.sf(statistic, len(expected) - 1))


def null_rate_p_value(reference_rate: float, nulls: float, n_window: float) -> float:
    """One-sided p-value that the window's null rate exceeds the reference's (binomial).

    ``nulls`` and ``n_window`` may be scaled to an effective size. The reference
    rate is floored at 0.1% so a feature never null in training can still be judged.
    """
    if n_window <= 0:
        return 1.0
    rate = max(reference_rate, 1e-3)
    return float(stats.binom.sf(math.ceil(nulls) - 1, max(1, round(n_window)), rate))
