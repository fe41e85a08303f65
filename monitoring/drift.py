"""Per-feature and dataset drift of a window against the training reference.

Every feature gets its figures (PSI, Jensen-Shannon, KS with its p-value,
Wasserstein, null rates, unseen-category share) and a status:

- ``ok``: nothing past the rules;
- ``drift``: the distribution moved, significantly and materially (see DriftRules);
- ``null``: the null rate rose past the rule (a broken pipeline, an expired TTL);
- ``constant``: one value only, where training had many (a pipeline writing a default);
- ``unseen``: categories training never saw;
- ``insufficient``: too few values in the window to judge;
- ``absent``: the column is not in the log at all;
- ``cyclic``: a time-of-day feature in a window shorter than a day (not judged).

Where several checks fire, the status is the first in the order null, unseen,
constant, drift (numeric and categorical alike) and the reasons list every one.

The dataset verdict is ``drift`` when any feature is flagged, ``insufficient``
when the window is too small to judge, else ``ok``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any, Literal

import numpy as np

from monitoring.config import DriftRules
from monitoring.reference import CategoricalReference, ModelReference, NumericReference, Reference
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
from monitoring.windows import CategoricalWindow, NumericWindow, Window

__all__ = ["FLAGGED", "FeatureDrift", "WindowDrift", "judge_window"]

Status = Literal["ok", "drift", "null", "constant", "unseen", "insufficient", "absent", "cyclic"]
FLAGGED = ("drift", "null", "constant", "unseen")
TESTS_PER_FEATURE = 2  # the distribution test and the null-rate test


@dataclass(frozen=True)
class FeatureDrift:
    """One feature (or the score) in one window, against training."""

    name: str
    kind: Literal["numeric", "categorical"]
    status: Status
    reasons: list[str]
    rows: int
    effective_rows: float
    null_rate_reference: float
    null_rate: float | None
    psi: float | None = None
    js_distance: float | None = None
    ks_distance: float | None = None
    ks_p_value: float | None = None
    wasserstein: float | None = None  # in the feature's units, over the training range
    wasserstein_std: float | None = None  # divided by the training standard deviation
    chi_square_p_value: float | None = None
    unseen_share: float | None = None
    unseen_categories: list[str] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    mean_reference: float | None = None
    # For plots: reference and window shares in the PSI bins (numeric) or per category.
    bins: list[str] = field(default_factory=list)
    reference_shares: list[float] = field(default_factory=list)
    window_shares: list[float] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)
    reference_cdf: list[float] = field(default_factory=list)
    window_cdf: list[float] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return self.status in FLAGGED


@dataclass(frozen=True)
class WindowDrift:
    """The verdict on one window."""

    start: str
    end: str
    rows: int
    model_versions: list[int]
    verdict: Literal["ok", "drift", "insufficient"]
    drifted: list[str]
    features: list[FeatureDrift]
    score: FeatureDrift | None
    tests: int
    alpha_per_test: float

    @property
    def share_drifted(self) -> float:
        judged = [f for f in self.features if f.status not in ("insufficient", "absent", "cyclic")]
        return len(self.drifted) / len(judged) if judged else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"share_drifted": self.share_drifted}


class _Findings:
    """What the checks found, in the order they ran; the first one names the status.

    The checks run in a fixed order of precedence (null, then unseen, then constant,
    then drift; ``insufficient`` only when nothing else was found) for numeric and
    categorical features alike; every finding keeps its reason.
    """

    def __init__(self) -> None:
        self.found: list[tuple[Status, str]] = []

    def add(self, status: Status, reason: str | None) -> None:
        if reason is None:
            return
        if status == "insufficient" and self.found:
            return
        self.found.append((status, reason))

    @property
    def status(self) -> Status:
        return self.found[0][0] if self.found else "ok"

    @property
    def reasons(self) -> list[str]:
        return [reason for _, reason in self.found]


def _edges_labels(edges: np.ndarray) -> list[str]:
    if len(edges) == 0:
        return ["all"]
    labels = [f"≤{edges[0]:.3g}"]
    labels += [f"({a:.3g}, {b:.3g}]" for a, b in zip(edges[:-1], edges[1:], strict=True)]
    return labels + [f">{edges[-1]:.3g}"]


def _null_check(
    reference: Reference, nulls: int, rows: int, effective: float, rules: DriftRules, alpha: float
) -> str | None:
    if rows < rules.min_rows:
        return None
    rate = nulls / rows
    rise = rate - reference.null_rate
    if rise <= rules.null_rate_increase:
        return None
    scale = effective / rows
    if null_rate_p_value(reference.null_rate, nulls * scale, effective) >= alpha:
        return None
    return f"null rate {rate:.1%} against {reference.null_rate:.1%} in training"


def _numeric(
    name: str,
    reference: NumericReference,
    window: NumericWindow,
    rows: int,
    effective: float,
    rules: DriftRules,
    alpha: float,
) -> FeatureDrift:
    findings = _Findings()
    findings.add("null", _null_check(reference, window.nulls, rows, effective, rules, alpha))
    present_effective = effective * window.count / rows if rows else 0.0
    figures: dict[str, Any] = {}
    if window.count > 0 and len(reference.grid):
        bins = psi_bin_counts(reference.grid, reference.psi_edges, window.cells)
        distance = ks_distance(reference.cdf, window.cells)
        p_value = ks_p_value(distance, reference.effective_count, present_effective)
        w1 = wasserstein_on_grid(reference.grid, reference.cdf, window.cells)
        window_cdf = np.cumsum(window.cells)[: len(reference.grid)] / window.count
        figures = {
            "psi": psi(reference.psi_shares, bins, rules.psi_epsilon),
            "js_distance": js_distance(reference.psi_shares, bins),
            "ks_distance": distance,
            "ks_p_value": p_value,
            "wasserstein": w1,
            "wasserstein_std": w1 / reference.std if reference.std else None,
            "bins": _edges_labels(reference.psi_edges),
            "reference_shares": reference.psi_shares.tolist(),
            "window_shares": (bins / window.count).tolist(),
            "grid": reference.grid.tolist(),
            "reference_cdf": reference.cdf.tolist(),
            "window_cdf": window_cdf.tolist(),
        }
        if window.count < rules.min_rows:
            findings.add("insufficient", f"{window.count} values, fewer than {rules.min_rows} to judge")
        else:
            if window.minimum is not None and window.minimum == window.maximum and not reference.constant:
                levels = len(reference.grid)
                findings.add(
                    "constant", f"every value is {window.minimum:.6g}; training had {levels} distinct levels"
                )
            spread = figures["wasserstein_std"]
            material = distance >= rules.ks_min_distance or (
                spread is not None and spread >= rules.wasserstein_min_std
            )
            if p_value < alpha and material:
                moved = f", W {spread:.2f} sd" if spread is not None else ""
                findings.add(
                    "drift",
                    f"KS distance {distance:.3f} (p = {p_value:.2g}){moved}, PSI {figures['psi']:.3f}",
                )
    elif window.count == 0:
        findings.add("insufficient", "no values in the window")
    status, reasons = findings.status, findings.reasons
    return FeatureDrift(
        name=name,
        kind="numeric",
        status=status,
        reasons=reasons,
        rows=rows,
        effective_rows=effective,
        null_rate_reference=reference.null_rate,
        null_rate=window.nulls / rows if rows else None,
        minimum=window.minimum,
        maximum=window.maximum,
        mean=window.mean,
        mean_reference=reference.mean,
        **figures,
    )


def _categorical(
    name: str,
    reference: CategoricalReference,
    window: CategoricalWindow,
    rows: int,
    effective: float,
    rules: DriftRules,
    alpha: float,
) -> FeatureDrift:
    findings = _Findings()
    findings.add("null", _null_check(reference, window.nulls, rows, effective, rules, alpha))
    known = list(reference.frequencies)
    unseen = sorted(set(window.counts) - set(known))
    figures: dict[str, Any] = {}
    if window.count > 0:
        counts = np.array([window.counts.get(c, 0) for c in known] + [sum(window.counts[c] for c in unseen)])
        shares = np.array([reference.frequencies[c] for c in known] + [0.0])
        unseen_share = float(counts[-1] / window.count)
        design_effect = rows / effective if effective else 1.0
        p_value = chi_square_p_value(shares[:-1], counts[:-1], design_effect)
        distance = js_distance(shares, counts)
        figures = {
            "psi": psi(shares, counts, rules.psi_epsilon),
            "js_distance": distance,
            "chi_square_p_value": p_value,
            "unseen_share": unseen_share,
            "unseen_categories": unseen[:20],
            "bins": [*known, "(unseen)"],
            "reference_shares": shares.tolist(),
            "window_shares": (counts / window.count).tolist(),
        }
        if window.count < rules.min_rows:
            findings.add("insufficient", f"{window.count} values, fewer than {rules.min_rows} to judge")
        else:
            if unseen_share > rules.unseen_share:
                findings.add(
                    "unseen",
                    f"{unseen_share:.1%} of values in categories training never saw: {', '.join(unseen[:5])}",
                )
            if len(window.counts) == 1 and len(known) > 1:
                findings.add(
                    "constant",
                    f"every value is '{next(iter(window.counts))}'; training had {len(known)} categories",
                )
            if p_value < alpha and distance >= rules.js_min_distance:
                findings.add(
                    "drift", f"Jensen-Shannon distance {distance:.3f} (chi-square p = {p_value:.2g})"
                )
    else:
        findings.add("insufficient", "no values in the window")
    status, reasons = findings.status, findings.reasons
    return FeatureDrift(
        name=name,
        kind="categorical",
        status=status,
        reasons=reasons,
        rows=rows,
        effective_rows=effective,
        null_rate_reference=reference.null_rate,
        null_rate=window.nulls / rows if rows else None,
        **figures,
    )


def _feature(
    name: str, reference: Reference, window: Window, rules: DriftRules, alpha: float
) -> FeatureDrift:
    column = window.columns.get(name)
    kind: Literal["numeric", "categorical"] = (
        "numeric" if isinstance(reference, NumericReference) else "categorical"
    )
    if column is None:
        return FeatureDrift(
            name,
            kind,
            "absent",
            ["not in the served-feature log"],
            window.rows,
            0.0,
            reference.null_rate,
            None,
        )
    effective = window.effective(reference.entity)
    if isinstance(reference, NumericReference):
        assert isinstance(column, NumericWindow)
        return _numeric(name, reference, column, window.rows, effective, rules, alpha)
    assert isinstance(column, CategoricalWindow)
    return _categorical(name, reference, column, window.rows, effective, rules, alpha)


def judge_window(reference: ModelReference, window: Window, rules: DriftRules) -> WindowDrift:
    """Every feature's figures and status in ``window``, the score's, and the dataset verdict."""
    tests = TESTS_PER_FEATURE * len(reference.features)
    alpha = rules.alpha / max(tests, 1)
    features = [_feature(name, ref, window, rules, alpha) for name, ref in reference.features.items()]
    if window.end - window.start < timedelta(days=1):
        features = [
            replace(
                f, status="cyclic", reasons=["follows the daily cycle: judged on windows of a day or more"]
            )
            if f.name in rules.daily_cycle_features and f.status in ("ok", "drift", "constant")
            else f
            for f in features
        ]
    score = None
    if window.score is not None:
        # The score is judged on its own, at alpha / 2 (distribution and nulls).
        score = _numeric(
            "score",
            reference.score,
            window.score,
            window.rows,
            float(window.rows),
            rules,
            rules.alpha / TESTS_PER_FEATURE,
        )
    drifted = [f.name for f in features if f.flagged]
    if window.rows < rules.min_rows:
        verdict: Literal["ok", "drift", "insufficient"] = "insufficient"
        drifted = []
    else:
        verdict = "drift" if drifted else "ok"
    return WindowDrift(
        start=window.start.isoformat(),
        end=window.end.isoformat(),
        rows=window.rows,
        model_versions=window.model_versions,
        verdict=verdict,
        drifted=drifted,
        features=features,
        score=score,
        tests=tests,
        alpha_per_test=alpha,
    )
