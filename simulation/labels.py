"""Delayed labels: a chargeback arrives 1-30 days after a fraudulent transaction.

A legitimate transaction's label becomes known when its 30-day chargeback window
closes without a chargeback. Every label row carries ``label_time``, the moment it
became known, and its ``source`` (``chargeback`` or ``matured``, see
``skewless.labels``); consumers must only use labels whose ``label_time`` has passed.
Analysts' reviews of the model's alerts, the third source, come from what was served
(``simulation.analysts``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from skewless.labels import CHARGEBACK_WINDOW_DAYS, LabelSource

__all__ = ["CHARGEBACK_WINDOW_DAYS", "draw_labels"]

MIN_DELAY_DAYS = 1
DELAY_BETA = (1.6, 3.5)  # chargeback delays skew early: median about 9 days within [1, 30]


def draw_labels(rng: np.random.Generator, transactions: pd.DataFrame, is_fraud: np.ndarray) -> pd.DataFrame:
    """Return one label per transaction with the time it becomes known.

    Args:
        rng: the run's random generator.
        transactions: transactions as drawn (``transaction_id``, ``transaction_time``, ids).
        is_fraud: truth per transaction.

    Returns:
        A frame with ``transaction_id``, ``customer_id``, ``merchant_id``,
        ``transaction_time``, ``is_fraud`` (0/1), ``label_time`` and ``source``.
    """
    span = CHARGEBACK_WINDOW_DAYS - MIN_DELAY_DAYS
    fraud_delay_days = MIN_DELAY_DAYS + span * rng.beta(*DELAY_BETA, size=len(transactions))
    delay_days = np.where(is_fraud, fraud_delay_days, float(CHARGEBACK_WINDOW_DAYS))
    delay = pd.to_timedelta(np.round(delay_days * 86_400 * 1e6).astype(np.int64), unit="us")
    labels = transactions[["transaction_id", "customer_id", "merchant_id", "transaction_time"]].copy()
    labels["is_fraud"] = is_fraud.astype(np.int8)
    # Whole microseconds, stored as such (as transaction_time is): Spark reads no nanosecond timestamps.
    labels["label_time"] = (labels["transaction_time"] + delay).astype("datetime64[us, UTC]")
    labels["source"] = np.where(is_fraud, LabelSource.CHARGEBACK.value, LabelSource.MATURED.value)
    return labels.reset_index(drop=True)
