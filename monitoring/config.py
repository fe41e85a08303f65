"""Monitoring thresholds and the retraining policy, with the reason for each default.

docs/monitoring.md explains every statistic; the numbers live here only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["DriftRules", "MonitoringConfig", "PerformanceRules", "PolicyRules", "SignalRules"]


@dataclass(frozen=True)
class DriftRules:
    """When a feature, the score and a whole window count as drifted.

    A numeric feature drifts when its KS distance to the training distribution is
    both *significant* and *material*: the KS p-value is below ``alpha`` divided by
    the number of tests in the report (Bonferroni), and the distance is at least
    ``ks_min_distance`` or the Wasserstein distance is at least ``wasserstein_min_std``
    training standard deviations. The two floors agree on a shift of the mean (a quarter
    of a standard deviation moves KS by 0.10); the second also sees a change of spread,
    which moves KS little (a normal feature 1.5 times as wide: KS 0.097, W 0.40 sd). The
    p-value uses the effective sample size (one merchant's statistics on 500
    transactions count about once), so clustered features do not fire on a few busy
    merchants; the distance floors keep a large window from firing on shifts too small
    to matter. A categorical feature drifts when a chi-square test (effective size
    again) is significant and the Jensen-Shannon distance is at least
    ``js_min_distance``. PSI is reported beside them with its usual bands; it does not
    decide.

    The window raises dataset drift when any feature is flagged. Each of the T tests
    runs at alpha / T, so when nothing changed a window raises dataset drift with
    probability at most ``alpha`` (5%); the floors make it rarer still.
    """

    alpha: float = 0.05
    ks_min_distance: float = 0.10  # a tenth of the probability mass moved: visible on a CDF plot
    wasserstein_min_std: float = 0.25  # the mass moved a quarter of a training standard deviation
    js_min_distance: float = 0.10  # Jensen-Shannon distance (base 2), 0 = same, 1 = disjoint
    min_rows: int = 200  # below this a window is "insufficient": KS needs D > 0.13 at n = 200
    null_rate_increase: float = 0.05  # absolute rise over training that counts (5 points)
    unseen_share: float = 0.01  # share of a window in categories training never saw
    psi_moderate: float = 0.10  # the industry bands: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major
    psi_major: float = 0.25
    psi_epsilon: float = 1e-4  # floor on bin shares so an empty bin does not make PSI infinite
    # Time-of-day features follow the daily cycle: a six-hour window always differs from a
    # whole-day training distribution, so they are judged only on windows of a day or more.
    daily_cycle_features: tuple[str, ...] = ("hour_of_day", "is_night")


@dataclass(frozen=True)
class PerformanceRules:
    """When the live model counts as worse than it was at training.

    A window's AUC is judged only with ``min_positives`` labelled frauds and
    ``min_coverage`` of its predictions labelled: a fraud label arrives 1-30 days
    after the transaction and a legitimate one only when the 30-day chargeback
    window closes, so a young window's labelled rows are mostly fraud. It counts as
    a drop when it is ``max_auc_drop`` below the model's holdout AUC and its upper
    one-sided 95% bound (Hanley-McNeil standard error) is still below the holdout AUC.
    """

    max_auc_drop: float = 0.05
    min_positives: int = 15  # with the standard-error condition below, enough to see a real drop
    min_coverage: float = 0.8
    z: float = 1.645


@dataclass(frozen=True)
class SignalRules:
    """When an early signal (``monitoring.label_signals``) counts as a drop.

    A signal drops when it is ``max_drop`` below the model's holdout figure and the
    fall is more than ``z`` standard errors of the difference, the live figure's error
    and the holdout figure's own combined (the holdout is a sample too: judged against
    it as if exact, a recall of 0.59 on 58 frauds fell "significantly" below a holdout
    0.72 on 180 frauds of an unchanged world). Precision is judged from
    ``min_reviewed_alerts`` reviewed alerts, recall and the matched-age AUC from
    ``min_known_frauds`` frauds; below that the signal is insufficient. At z = 2.33
    (one-sided 1%) with three signals a window, an unchanged model raises a false drop
    on under 5% of checks, which the ``none`` scenario's test measures.
    """

    max_drop: float = 0.10
    z: float = 2.33
    min_reviewed_alerts: int = 30
    min_known_frauds: int = 20


@dataclass(frozen=True)
class PolicyRules:
    """What ``skewless monitor check`` does about what it sees.

    Performance drop → retrain on the latest ``retrain_window_days`` with the labels
    known now (``retrain_labels="known"``: investigations, chargebacks so far, young
    frauds weighted by the chargeback-delay distribution; ``"matured"`` waits for final
    labels, a month late), gate it against the champion on the newest labelled days,
    and put a passing candidate on shadow as ``challenger``. Drift without a
    performance drop → alert and record a review; never retrain on drift alone
    (inputs move for harmless reasons, and a model retrained on unlabelled drift
    learns nothing new). A champion older than ``max_model_age_days`` (or, when it
    learned from labels known early, ``known_label_refresh_days``) → scheduled
    retraining, gated the same way, unless drift is open for review.
    """

    retrain_window_days: int = 21
    retrain_labels: Literal["known", "matured"] = "known"
    max_model_age_days: int = 30
    # A champion that learned from labels known early is retrained (gated) once this many
    # days of labels have arrived since: the chargebacks of its newest weeks were mostly
    # still to come when it was trained.
    known_label_refresh_days: int = 7
    retrain: bool = True  # False: record the decision, do not train (dry run)
    # The retrained set's share of its train split's legitimate rows (TrainingConfig.legit_sample_rate).
    retrain_legit_sample_rate: float = 1.0


# Windows are cut on served_at ("served") or transaction_time ("event"); see monitoring.windows.
Clock = Literal["served", "event"]


@dataclass(frozen=True)
class MonitoringConfig:
    """Everything a report and a policy check are judged by (the model is the registry's)."""

    drift: DriftRules = field(default_factory=DriftRules)
    performance: PerformanceRules = field(default_factory=PerformanceRules)
    signals: SignalRules = field(default_factory=SignalRules)
    policy: PolicyRules = field(default_factory=PolicyRules)
    skew_sample: int = 200  # served requests re-read through get_historical_features per report
    # Windows are cut on served_at ("served", live traffic) or on transaction_time
    # ("event": replays and backfills, where days of traffic are sent in minutes).
    clock: Clock = "served"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
