"""The typed configuration of a training run and of the promotion gate."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from skewless.contract import FEATURE_SERVICE_V1

__all__ = ["GatePolicy", "TrainingConfig", "ValidationRules"]


@dataclass(frozen=True)
class GatePolicy:
    """What a candidate must show against the champion on the same holdout.

    Defaults: AUC may not fall by more than 0.005 (about half the standard error at
    the default holdout size); business cost may not rise; no slice's AUC may fall
    by more than 0.05 and by more than its 95% error (a slice of a small holdout holds
    a few frauds, whose noise alone moves its AUC by more than 0.05); single-row p99
    scoring time (CPU) within 5 ms (the serving budget). With no champion, the
    candidate must reach ``min_auc``.
    """

    auc_margin: float = 0.005
    cost_tolerance: float = 0.0
    max_slice_auc_drop: float = 0.05
    latency_budget_ms: float = 5.0
    min_auc: float = 0.75


@dataclass(frozen=True)
class ValidationRules:
    """Declared bounds. Windowed statistics are null only without history, rarely."""

    max_null_rate: float = 0.05
    null_rate_overrides: dict[str, float] = field(
        default_factory=lambda: {
            "seconds_since_prev_txn": 0.10,
            "amount_std_7d": 0.10,
            "amount_zscore_30d": 0.10,
        }
    )
    min_label_rate: float = 0.001
    max_label_rate: float = 0.20
    # (low, high) inclusive; None means unbounded on that side.
    ranges: dict[str, tuple[float | None, float | None]] = field(
        default_factory=lambda: {
            "merchant_chargeback_rate_30d": (0.0, 1.0),
            "hour_of_day": (0, 23),
            "is_night": (0, 1),
            "is_foreign": (0, 1),
            "is_new_account": (0, 1),
            "txn_amount": (0.0, None),
            "credit_limit": (0.0, None),
            "account_age_days": (0.0, None),
            "seconds_since_last_txn": (0.0, None),
            "txn_count_1h_now": (1, None),
        }
    )


@dataclass(frozen=True)
class TrainingConfig:
    """Data window, splits, LightGBM parameters and costs of one training run.

    The training set holds matured transactions only: their 30-day chargeback window
    has closed by the cut-off, so each label is final and the label rate is not
    inflated by early chargebacks. The first ``warmup_days`` are skipped: until the
    longest feature window (30 days) has filled, windowed aggregates such as
    ``amount_sum_30d`` and the merchant counts are a fraction of their steady value,
    which drift monitoring flagged as training-serving drift on every served window.
    The last ``holdout_days`` form the holdout and the ``validation_days`` before
    them the validation set (early stopping and the decision threshold); no random
    split crosses time. ``train_days`` limits training rows to the latest window
    (the retraining policy uses it).

    Class imbalance (about 1.5% fraud) is handled without reweighting, which would
    distort the probabilities that calibration and the cost threshold rely on:
    early stopping on PR-AUC (average precision), leaves of at least 100 rows, and
    a decision threshold chosen to minimise the business cost.

    ``legit_sample_rate`` below 1 is a memory lever for sets too large to hold: the train
    split keeps every fraud and that share of its legitimate rows (drawn by transaction id
    and seed, so the same rows on every run and profile), each kept one weighted
    ``1 / legit_sample_rate``. Weighted, the loss is the whole split's in expectation, so
    the probabilities stay calibrated; validation and holdout stay whole, so early stopping,
    the threshold and the gate see the traffic as it is.
    """

    feature_service: str = FEATURE_SERVICE_V1
    experiment: str | None = None  # MLflow experiment; None: named after the Feast project (Feast's lineage)
    cutoff: datetime | None = None
    label_maturity_days: int = 30
    warmup_days: int = 30
    validation_days: int = 5
    holdout_days: int = 5
    train_days: int | None = None  # days of training rows before validation; None: all since warm-up
    labels: Literal["matured", "known"] = "matured"
    min_label_age_days: float = 1.0  # labels="known": the youngest rows used
    max_fraud_weight: float = 8.0  # labels="known": cap of a young fraud's weight 1 / F(age)
    min_holdout_frauds: int = 10  # labels="known": the holdout reaches back until it holds this many
    seed: int = 42
    num_threads: int = 2
    # Past this many train rows, LightGBM fits on Dask (training/dask_training.py): on the cluster at
    # dask_scheduler (tcp://host:8786), or on a local cluster of dask_workers processes.
    dask_min_rows: int = 5_000_000
    dask_scheduler: str | None = None
    dask_workers: int = 2
    legit_sample_rate: float = 1.0  # share of the train split's legitimate rows kept (see above)
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 100
    feature_fraction: float = 0.9
    max_rounds: int = 2_000
    early_stopping_rounds: int = 100
    review_cost: float = 5.0
    shuffle_labels: bool = False
    gate: GatePolicy = field(default_factory=GatePolicy)
    validation: ValidationRules = field(default_factory=ValidationRules)

    def lightgbm_params(self) -> dict[str, Any]:
        """LightGBM parameters; deterministic, fixed threads, every seed pinned."""
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "cat_smooth": 10.0,
            "metric": ["average_precision", "auc"],
            "first_metric_only": True,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "seed": self.seed,
            "verbose": -1,
        }

    def as_params(self) -> dict[str, Any]:
        """Flat parameters for MLflow."""
        flat = {k: v for k, v in asdict(self).items() if k not in ("gate", "validation")}
        flat.update({f"gate_{k}": v for k, v in asdict(self.gate).items()})
        return flat
