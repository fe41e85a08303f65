"""Small hand-made references and served logs for the window and drift unit tests.

No Feast, no MLflow: a training frame profiled with the training job's own
``build_reference_profile``, and a served log written in the API's partition layout
(``date=YYYY-MM-DD/part-*.parquet``) with the columns monitoring reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from monitoring.reference import ModelReference, parse_profile
from skewless.reference_profile import build_reference_profile

__all__ = ["DAY_ONE", "NUMERIC", "CATEGORICAL", "reference_of", "served_frame", "training_frame", "write_log"]

DAY_ONE = datetime(2026, 3, 1, tzinfo=UTC)
NUMERIC = "amount"
CATEGORICAL = "channel"
CHANNELS = ("online", "pos", "atm")


def training_frame(rows: int = 4_000, seed: int = 0) -> pd.DataFrame:
    """Training rows: a lognormal amount, three channels, one customer per row."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            NUMERIC: rng.lognormal(3.0, 0.8, rows),
            CATEGORICAL: rng.choice(CHANNELS, rows, p=[0.5, 0.3, 0.2]),
            "customer_id": np.arange(rows),
        }
    )


def reference_of(training: pd.DataFrame, version: int = 1) -> ModelReference:
    """The model reference monitoring would read back for a model trained on ``training``."""
    scores = np.linspace(0.0, 1.0, len(training))
    profile = build_reference_profile(
        training,
        [NUMERIC, CATEGORICAL],
        [CATEGORICAL],
        scores,
        {NUMERIC: "customer_id", CATEGORICAL: "customer_id"},
    )
    rows, features, score = parse_profile(profile)
    return ModelReference(
        model_name="test_model",
        version=version,
        rows=rows,
        features=features,
        score=score,
        decision_threshold=0.5,
        review_cost=5.0,
        holdout_auc=0.9,
        cutoff=datetime(2026, 3, 1, tzinfo=UTC),
        feature_service="test_service",
    )


def served_frame(features: pd.DataFrame, start: datetime, span: timedelta, version: int = 1) -> pd.DataFrame:
    """Served-log rows for ``features``, spread evenly over ``[start, start + span)``."""
    rows = len(features)
    offsets = pd.to_timedelta(np.arange(rows) * (span / max(rows, 1)).total_seconds(), unit="s")
    return features.reset_index(drop=True).assign(
        request_id=[f"r{i}" for i in range(rows)],
        served_at=pd.Timestamp(start) + offsets,
        model_version=version,
        served=True,
        score=np.linspace(0.0, 1.0, rows),
        merchant_id=0,
    )


def write_log(folder: Path, frames: Sequence[pd.DataFrame]) -> Path:
    """Write served rows into ``folder`` in the API's layout, one file per day and frame."""
    for index, frame in enumerate(frames):
        for day, part in frame.groupby(frame["served_at"].dt.strftime("%Y-%m-%d")):
            target = folder / f"date={day}" / f"part-{index}.parquet"
            target.parent.mkdir(parents=True, exist_ok=True)
            part.to_parquet(target, index=False)
    return folder
