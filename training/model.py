"""LightGBM on the FeatureService's features, deterministic to the byte.

The model is trained on the encoded float matrix of :class:`FeatureEncoding`, with
categorical features declared to LightGBM by name, so the model file takes plain
floats (and MLflow's own pyfunc can score it) while the category lists live in the
model's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from skewless.model_input import FeatureEncoding, predict_scores
from training.config import TrainingConfig
from training.dataset import LABEL, TrainingSet

__all__ = ["TrainedModel", "predict", "train_model"]


@dataclass(frozen=True)
class TrainedModel:
    """A booster cut at its best iteration, with its encoding and parameters."""

    booster: lgb.Booster
    encoding: FeatureEncoding
    params: dict[str, Any]
    best_iteration: int

    @property
    def model_bytes(self) -> bytes:
        """The model file's bytes: equal for equal data and config."""
        return str(self.booster.model_to_string()).encode()


def _dataset(matrix: np.ndarray, labels: np.ndarray, encoding: FeatureEncoding, **extra: Any) -> lgb.Dataset:
    return lgb.Dataset(
        matrix,
        labels,
        feature_name=encoding.features,
        categorical_feature=encoding.categorical,
        free_raw_data=False,
        **extra,
    )


def train_model(ts: TrainingSet, config: TrainingConfig) -> TrainedModel:
    """Fit LightGBM on the train split with early stopping on validation PR-AUC: on this machine, or
    on Dask from ``config.dask_min_rows`` train rows on (``training.dask_training``)."""
    train, valid = ts.split("train"), ts.split("validation")
    if len(train) >= config.dask_min_rows:
        from training.dask_training import train_model_on_dask

        booster, encoding, params, best = train_model_on_dask(ts, config)
        return TrainedModel(booster, encoding, params, best)
    encoding = FeatureEncoding.fit(train, ts.features, ts.categorical)
    params = config.lightgbm_params()
    weight = train["weight"].to_numpy() if "weight" in train.columns else None
    train_data = _dataset(encoding.encode(train), train[LABEL].to_numpy(), encoding, weight=weight)
    valid_data = _dataset(encoding.encode(valid), valid[LABEL].to_numpy(), encoding, reference=train_data)
    booster = lgb.train(
        params,
        train_data,
        num_boost_round=config.max_rounds,
        valid_sets=[valid_data],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, first_metric_only=True, verbose=False)],
    )
    best = int(booster.best_iteration or booster.current_iteration())
    # Keep only the trees up to the best iteration, so the file is the model served.
    trimmed = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return TrainedModel(trimmed, encoding, params, best)


def predict(booster: lgb.Booster, encoding: FeatureEncoding, frame: pd.DataFrame) -> np.ndarray:
    """Fraud probabilities for ``frame``, through the same encoding serving uses."""
    return predict_scores(booster, encoding.encode(frame))
