"""Replay simulated days through the API as they happened.

Each day starts with a materialization of the day before, up to the day's first
second (the merchants' daily snapshot is taken at 00:00), then the day's sampled transactions
are sent to ``/predict`` in time order, at their own times. Before each request,
the customer's statistics as of their latest transaction (the pipeline's
``customer_activity`` rows, one per transaction, each including its own) are in the
online store, pushed through the push source as a streaming job would have pushed
them when that transaction happened; only the customers the replay asks about are
pushed, since the next day's materialization brings every other one up to date. So
the online store holds, for each request, exactly what training reads for that
moment, and the served-feature log carries no skew a replay would otherwise add
(time-gap features measured against a store a day old). ``push=False`` replays with
daily materialization only, to show that difference.

Pushes are batched without changing what any request reads: the day's requests are
cut into runs in which no customer appears twice, and each run's customers are
pushed in one call before the run is sent. A customer's row is only read by that
customer's own request, and within a run that request is the only one, so pushing
it a few requests early changes nothing (a push through Feast costs about 20 ms
whatever its size; one per request made the replay three times slower).
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from feast import FeatureStore

from feature_repo.operations import materialize_features, push_online
from serving.replay import PredictionClient, request_body
from skewless.contract import (
    CUSTOMER_ACTIVITY,
    CUSTOMER_ACTIVITY_PUSH,
    CUSTOMER_KEY,
    CUSTOMER_PROFILE,
    EVENT_TIMESTAMP,
)
from skewless.layout import DataLayout

__all__ = ["DayReplay", "replay_day"]


@dataclass(frozen=True)
class DayReplay:
    """What one simulated day's replay sent, pushed, and how long it took."""

    day: date
    sent: int
    failed: int
    pushed: int
    seconds: float
    latencies_ms: list[float]


def _day_transactions(layout: DataLayout, day: date) -> pd.DataFrame:
    start = pd.Timestamp(day, tz=UTC)
    frame = pd.read_parquet(
        layout.transactions,
        filters=[("transaction_time", ">=", start), ("transaction_time", "<", start + pd.Timedelta(days=1))],
    )
    return frame


def _day_activity(layout: DataLayout, day: date) -> pd.DataFrame:
    path = layout.feature_table_dir(CUSTOMER_ACTIVITY) / f"{day.isoformat()}.parquet"
    if not path.exists():
        return pd.DataFrame()
    frame = pd.read_parquet(path)
    return frame.sort_values([CUSTOMER_KEY, EVENT_TIMESTAMP], kind="stable").reset_index(drop=True)


def replay_day(
    store: FeatureStore,
    layout: DataLayout,
    url: str,
    day: date,
    per_day: int,
    seed: int = 0,
    push: bool = True,
) -> DayReplay:
    """Replay up to ``per_day`` of ``day``'s transactions through the API at ``url``.

    Args:
        store: the feature store the API reads (same profile and workspace).
        layout: the workspace's data layout (raw transactions, feature tables).
        url: the API's base URL.
        day: the simulated day.
        per_day: how many of the day's transactions to send (a seeded sample).
        seed: the sample's seed.
        push: push customer statistics between requests (False: daily materialization only).

    Raises:
        OnlineStoreError: materialization or a push failed.
    """
    started = time.perf_counter()
    # The day before, up to the day's first second (the merchants' 00:00 snapshot), as an
    # explicit range: it does not lean on Feast's record of earlier materializations,
    # which a rerun in the same workspace would carry over.
    first_second = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=1)
    with contextlib.redirect_stdout(io.StringIO()):  # Feast prints four lines per materialization
        materialize_features(store, end=first_second, start=first_second - timedelta(days=1))
        # Accounts opened during the day: a profile is written when the account opens, before
        # its first transaction, so the whole day's new profiles can be loaded now.
        day_end = first_second + timedelta(days=1)
        materialize_features(store, end=day_end, start=first_second, views=[CUSTOMER_PROFILE])
    transactions = _day_transactions(layout, day)
    sample = transactions.sample(n=min(per_day, len(transactions)), random_state=seed)
    sample = sample.sort_values("transaction_time", kind="stable")
    activity = _day_activity(layout, day) if push else pd.DataFrame()
    pushed = failed = 0
    latencies: list[float] = []
    with PredictionClient(url) as client:
        for positions, requests in _runs(sample, activity):
            if positions:
                pushed += push_online(store, CUSTOMER_ACTIVITY_PUSH, activity.iloc[positions])
            for row in requests:
                status, _, milliseconds = client.post(request_body(row))
                failed += status != 200
                latencies.append(milliseconds)
    return DayReplay(day, len(sample), failed, pushed, time.perf_counter() - started, latencies)


def _runs(sample: pd.DataFrame, activity: pd.DataFrame) -> list[tuple[list[int], list[dict[str, Any]]]]:
    """Cut the day's requests into runs with no customer twice, each with the activity rows to push first.

    ``activity`` is sorted by customer, then event time. The row pushed for a request is the
    customer's latest ``customer_activity`` row strictly before the transaction (training
    reads ``t - 1 µs``), unless that row is already online. Returns, per run, the positions
    of the rows to push (in ``activity``) and the requests.
    """
    spans: dict[int, tuple[int, int]] = {}
    times = np.zeros(0, dtype=np.int64)
    if len(activity):
        keys = activity[CUSTOMER_KEY].to_numpy()
        times = activity[EVENT_TIMESTAMP].dt.as_unit("ns").astype("int64").to_numpy()
        customers, first, counts = np.unique(keys, return_index=True, return_counts=True)
        spans = {int(c): (int(lo), int(lo + n)) for c, lo, n in zip(customers, first, counts, strict=True)}
    online: dict[int, int] = {}  # each customer's statistics pushed so far, by event time (ns)
    runs: list[tuple[list[int], list[dict[str, Any]]]] = []
    in_run: set[int] = set()
    for record in sample.to_dict("records"):
        row = {str(k): v for k, v in record.items()}
        customer = int(row[CUSTOMER_KEY])
        if not runs or customer in in_run:
            runs.append(([], []))
            in_run = set()
        in_run.add(customer)
        positions, requests = runs[-1]
        if customer in spans:
            low, high = spans[customer]
            at = pd.Timestamp(row["transaction_time"]).as_unit("ns").value
            latest = low + int(np.searchsorted(times[low:high], at, side="left")) - 1
            if latest >= low and online.get(customer) != times[latest]:
                positions.append(latest)
                online[customer] = int(times[latest])
        requests.append(row)
    return runs
