"""Fraud analysts: they review the model's alerts and label them with the simulator's truth.

Real card-fraud operations do not wait for chargebacks: investigators review the
alerts the model raised, the highest-scored first, within hours to a day, up to their
daily capacity. Their verdicts are the first labels of the day's traffic and the only
ones that depend on what the served model flagged, so they are drawn from the
served-feature log (``lifecycle`` hands the day's flagged answers in), never from the
whole world. What they write is a batch of the label feed (``skewless.labels``) with
``source = investigation``, as a case-management export would be.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from skewless.labels import LabelSource

__all__ = ["AnalystTeam", "review_alerts"]


@dataclass(frozen=True)
class AnalystTeam:
    """How many alerts a day the analysts review, and how long a review takes (hours)."""

    capacity_per_day: int = 60
    min_hours: float = 1.0
    max_hours: float = 24.0


def review_alerts(
    alerts: pd.DataFrame, truth: pd.DataFrame, team: AnalystTeam, rng: np.random.Generator
) -> pd.DataFrame:
    """Review one day's alerts: the ``capacity_per_day`` highest-scored, each labelled with the truth.

    Args:
        alerts: the day's flagged answers: ``transaction_id``, ``transaction_time``, ``score``.
        truth: ``transaction_id`` and ``is_fraud`` (the simulator's labels).
        team: capacity and review time.
        rng: the day's random generator (review times).

    Returns:
        Label rows (``transaction_id``, ``is_fraud``, ``label_time``, ``source``), at most
        ``capacity_per_day`` of them.
    """
    reviewed = alerts.sort_values(["score", "transaction_id"], ascending=[False, True], kind="stable")
    reviewed = reviewed.drop_duplicates("transaction_id").head(team.capacity_per_day)
    verdict = reviewed[["transaction_id", "transaction_time"]].merge(
        truth[["transaction_id", "is_fraud"]], on="transaction_id", how="inner", validate="one_to_one"
    )
    hours = rng.uniform(team.min_hours, team.max_hours, size=len(verdict))
    return pd.DataFrame(
        {
            "transaction_id": verdict["transaction_id"].astype("int64"),
            "is_fraud": verdict["is_fraud"].astype("int8"),
            "label_time": pd.to_datetime(verdict["transaction_time"], utc=True)
            + pd.to_timedelta(np.round(hours * 3_600_000_000).astype(np.int64), unit="us"),
            "source": LabelSource.INVESTIGATION.value,
        }
    )
