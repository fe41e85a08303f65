"""The simulated analysts review the highest-scored alerts up to their capacity, with the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation.analysts import AnalystTeam, review_alerts

T0 = pd.Timestamp("2026-05-01 08:00", tz="UTC")


def test_capacity_takes_the_highest_scores_and_labels_arrive_within_the_day() -> None:
    alerts = pd.DataFrame(
        {
            "transaction_id": [10, 11, 12, 13, 14],
            "transaction_time": [T0 + pd.Timedelta(minutes=i) for i in range(5)],
            "score": [0.2, 0.9, 0.5, 0.7, 0.1],
        }
    )
    truth = pd.DataFrame({"transaction_id": [10, 11, 12, 13, 14], "is_fraud": [1, 1, 0, 0, 1]})
    team = AnalystTeam(capacity_per_day=3, min_hours=1.0, max_hours=24.0)
    reviewed = review_alerts(alerts, truth, team, np.random.default_rng(0))
    assert sorted(reviewed["transaction_id"]) == [11, 12, 13]  # 0.9, 0.7, 0.5
    assert dict(zip(reviewed["transaction_id"], reviewed["is_fraud"], strict=True)) == {11: 1, 12: 0, 13: 0}
    assert set(reviewed["source"]) == {"investigation"}
    happened = alerts.set_index("transaction_id")["transaction_time"]
    delay = reviewed["label_time"] - reviewed["transaction_id"].map(happened)
    assert (delay >= pd.Timedelta(hours=1)).all() and (delay <= pd.Timedelta(hours=24)).all()
