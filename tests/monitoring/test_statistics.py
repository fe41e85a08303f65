"""The drift statistics on binned counts, each against an independent computation on raw values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from monitoring.statistics import (
    chi_square_p_value,
    js_distance,
    ks_distance,
    ks_p_value,
    null_rate_p_value,
    psi,
    psi_bin_counts,
    wasserstein_on_grid,
)

RNG = np.random.default_rng(20261130)


def _cells(grid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Window counts per grid cell, cell i holding values in (grid[i-1], grid[i]] (as DuckDB's histogram)."""
    return np.bincount(np.searchsorted(grid, values, side="left"), minlength=len(grid) + 1)


def _reference(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The percentile grid and the reference CDF at each grid point, as the training profile keeps them."""
    ordered = np.sort(values)
    grid = np.unique(np.quantile(ordered, np.linspace(0, 1, 101)))
    return grid, np.searchsorted(ordered, grid, side="right") / len(ordered)


def test_ks_distance_is_the_largest_cdf_gap_at_the_grid_points() -> None:
    reference, window = RNG.normal(0, 1, 20_000), RNG.normal(0.3, 1.2, 5_000)
    grid, cdf = _reference(reference)
    expected = np.max(np.abs(np.searchsorted(np.sort(window), grid, side="right") / len(window) - cdf))
    assert ks_distance(cdf, _cells(grid, window)) == pytest.approx(expected, abs=1e-12)
    # With a fine grid the gap at grid points is the two-sample KS statistic, nearly.
    assert ks_distance(cdf, _cells(grid, window)) == pytest.approx(
        stats.ks_2samp(reference, window).statistic, abs=0.02
    )
    assert ks_distance(cdf, np.zeros(len(grid) + 1, dtype=np.int64)) == 0.0  # an empty window


def test_ks_p_value_follows_the_asymptotic_law_with_stephens_correction() -> None:
    n_reference, n_window, distance = 10_000.0, 400.0, 0.07
    n = n_reference * n_window / (n_reference + n_window)
    root = math.sqrt(n)
    expected = stats.kstwobign.sf((root + 0.12 + 0.11 / root) * distance)
    assert ks_p_value(distance, n_reference, n_window) == pytest.approx(expected, rel=1e-9)
    # Fewer effective rows (a clustered feature) make the same distance less significant.
    assert ks_p_value(distance, n_reference, 100.0) > ks_p_value(distance, n_reference, 400.0)
    assert ks_p_value(0.5, 0.0, 400.0) == 1.0


def test_psi_bins_and_value() -> None:
    reference, window = RNG.exponential(1.0, 50_000), RNG.exponential(1.4, 10_000)
    grid, _ = _reference(reference)
    edges = np.unique(np.quantile(reference, np.linspace(0.1, 0.9, 9)))
    # Every PSI edge is a grid point, so the bins are read off the grid cells exactly.
    edges = grid[np.searchsorted(grid, edges)]
    counts = psi_bin_counts(grid, edges, _cells(grid, window))
    assert counts.tolist() == _cells(edges, window).tolist()
    shares = _cells(edges, reference) / len(reference)
    q = counts / counts.sum()
    assert psi(shares, counts, 1e-4) == pytest.approx(float(np.sum((q - shares) * np.log(q / shares))))
    assert psi(shares, np.round(shares * 10_000), 1e-4) == pytest.approx(
        0.0, abs=1e-6
    )  # the same distribution
    # An empty bin on one side is floored, not infinite.
    assert math.isfinite(psi(np.array([0.5, 0.5, 0.0]), np.array([0, 50, 50]), 1e-4))


def test_jensen_shannon_distance() -> None:
    reference = np.array([0.5, 0.3, 0.2])
    window = np.array([100, 500, 400])
    assert js_distance(reference, window) == pytest.approx(jensenshannon(reference, window / 1000, base=2))
    assert js_distance(reference, np.array([50, 30, 20])) == pytest.approx(0.0, abs=1e-12)
    assert js_distance(np.array([1.0, 0.0]), np.array([0, 7])) == pytest.approx(1.0)
    assert js_distance(reference, np.zeros(3)) == 0.0


def test_wasserstein_on_the_grid_equals_scipy_for_values_on_the_grid() -> None:
    grid = np.arange(0.0, 11.0)
    reference = RNG.integers(0, 11, 5_000).astype(float)
    window = RNG.integers(2, 11, 2_000).astype(float)
    cdf = np.searchsorted(np.sort(reference), grid, side="right") / len(reference)
    expected = stats.wasserstein_distance(reference, window)
    assert wasserstein_on_grid(grid, cdf, _cells(grid, window)) == pytest.approx(expected, rel=1e-9)


def test_chi_square_pools_rare_categories_and_divides_by_the_design_effect() -> None:
    shares = np.array([0.5, 0.3, 0.2])
    counts = np.array([560, 270, 170])
    expected = stats.chisquare(counts, shares * counts.sum()).pvalue
    assert chi_square_p_value(shares, counts, 1.0) == pytest.approx(expected)
    statistic = stats.chisquare(counts, shares * counts.sum()).statistic
    assert chi_square_p_value(shares, counts, 4.0) == pytest.approx(stats.chi2.sf(statistic / 4.0, 2))
    # Categories expected fewer than five times are pooled into one cell.
    rare = np.array([0.597, 0.4, 0.002, 0.001])
    pooled = stats.chisquare([70, 28, 2], [59.7, 40.0, 0.3]).pvalue
    assert chi_square_p_value(rare, np.array([70, 28, 1, 1]), 1.0) == pytest.approx(pooled)
    assert chi_square_p_value(np.array([1.0]), np.array([10]), 1.0) == 1.0  # nothing to test


def test_null_rate_p_value_is_a_one_sided_binomial_test() -> None:
    assert null_rate_p_value(0.01, 30, 1_000) == pytest.approx(stats.binom.sf(29, 1_000, 0.01))
    # A feature never null in training is still judged, against a 0.1% floor.
    assert null_rate_p_value(0.0, 5, 1_000) == pytest.approx(stats.binom.sf(4, 1_000, 0.001))
    assert null_rate_p_value(0.2, 0, 0) == 1.0
