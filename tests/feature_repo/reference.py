"""Brute-force pandas versions of the feature pipeline, written independently of its SQL."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

WINDOWS = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}


def customer_activity(transactions: pd.DataFrame) -> pd.DataFrame:
    """One row per transaction; windows [t - w, t] over the same customer's transactions."""
    rows = []
    for _, group in transactions.groupby("customer_id"):
        times = group["transaction_time"].to_numpy()
        amounts = group["amount"].to_numpy()
        merchants = group["merchant_id"].to_numpy()
        for i, now in enumerate(times):
            row: dict[str, object] = {
                "customer_id": group["customer_id"].iloc[i],
                "event_timestamp": now,
                "last_txn_time": pd.Timestamp(now).floor("s"),
            }
            for name, width in WINDOWS.items():
                inside = (times >= now - np.timedelta64(width)) & (times <= now)
                if name in ("1h", "24h", "7d"):
                    row[f"txn_count_{name}"] = int(inside.sum())
                if name in ("7d", "30d"):
                    window = amounts[inside]
                    row[f"amount_sum_{name}"] = window.sum()
                    row[f"amount_mean_{name}"] = window.mean()
                    row[f"amount_std_{name}"] = window.std(ddof=1) if len(window) > 1 else np.nan
                if name == "7d":
                    row["distinct_merchants_7d"] = len(set(merchants[inside]))
            gap = (now - times[i - 1]) / np.timedelta64(1, "s") if i > 0 else np.nan
            row["seconds_since_prev_txn"] = gap if gap <= 30 * 86_400 else np.nan
            rows.append(row)
    return pd.DataFrame(rows).sort_values(["event_timestamp", "customer_id"]).reset_index(drop=True)


def merchant_stats(
    transactions: pd.DataFrame, labels: pd.DataFrame, merchants: pd.DataFrame, start: date, end: date
) -> pd.DataFrame:
    """A snapshot per merchant per day D over [D - 30 days, D); chargebacks counted by arrival."""
    chargebacks = labels[labels["is_fraud"] == 1]
    rows = []
    day = start
    while day < end:
        snapshot = pd.Timestamp(day, tz="UTC")
        since = snapshot - pd.Timedelta(days=30)
        recent = transactions[
            (transactions["transaction_time"] >= since) & (transactions["transaction_time"] < snapshot)
        ]
        arrived = chargebacks[(chargebacks["label_time"] >= since) & (chargebacks["label_time"] < snapshot)]
        for merchant in merchants.itertuples():
            mine = recent[recent["merchant_id"] == merchant.merchant_id]
            known = int((arrived["merchant_id"] == merchant.merchant_id).sum())
            rows.append(
                {
                    "merchant_id": merchant.merchant_id,
                    "event_timestamp": snapshot,
                    "merchant_category": merchant.category,
                    "merchant_txn_count_30d": len(mine),
                    "merchant_amount_mean_30d": mine["amount"].mean() if len(mine) else np.nan,
                    "merchant_chargebacks_30d": known,
                    "merchant_chargeback_rate_30d": known / max(len(mine), 1),
                }
            )
        day += timedelta(days=1)
    return pd.DataFrame(rows).sort_values(["event_timestamp", "merchant_id"]).reset_index(drop=True)
