"""Score transactions: Feast online features of the model's service → encoding → model.

No feature or transform is computed here: the on-demand views of the feature
service run inside Feast's online retrieval, exactly as in training. Features read
through :class:`~feature_repo.operations.ServiceReader` follow the training join's
TTL rule (a stored row older than its view's TTL is missing, the transforms rerun),
the same rule ``skewless lookup`` applies. In degraded mode (online store down, if
configured) every stored input is missing and only the request-time transforms run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feast import FeatureStore

from feature_repo.operations import ServiceReader, is_missing
from skewless.errors import OnlineStoreError
from skewless.registry import RegisteredModel

__all__ = ["WARM_UP_ROW", "Scored", "Scorer"]

# A transaction of nobody: entity ids no simulation issues, valid request fields.
WARM_UP_ROW: dict[str, Any] = {
    "customer_id": 0,
    "merchant_id": 0,
    "amount": 1.0,
    "merchant_country": "US",
    "channel": "online",
}


@dataclass(frozen=True)
class Scored:
    """One scored transaction, with what the model saw."""

    score: float
    decision: bool
    missing: list[str]
    stale: list[str]  # stored features older than their view's TTL at the transaction: served missing
    degraded: bool
    features: dict[str, Any]


class Scorer:
    """Turns requests into scores for one model, reading features through Feast."""

    def __init__(self, store: FeatureStore, model: RegisteredModel, degraded_scoring: bool = False) -> None:
        self.store = store
        self.model = model
        self.degraded_scoring = degraded_scoring
        self.reader = ServiceReader(store, model.feature_service)
        self.service = self.reader.service

    def warm_up(self) -> bool:
        """Score one probe transaction so the first real request is not the slow one.

        Feast builds its request plan on the first call per service object (about
        10-25 ms); a model swapped in cold would show that on its first requests, and
        a canary would be judged on it. False when the online store is down (the
        first real request then pays it).
        """
        probe = {**WARM_UP_ROW, "transaction_time": datetime.now(UTC)}
        try:
            self.score([probe])
        except OnlineStoreError:
            return False
        return True

    def score(self, rows: Sequence[Mapping[str, Any]]) -> list[Scored]:
        """Score ``rows`` (entity keys + request fields).

        Raises:
            OnlineStoreError: the online store is down and degraded scoring is off.
        """
        features = self.model.encoding.features
        degraded = False
        try:
            read = self.reader.read(rows, features)
            values, missing, stale = read.values, read.missing, read.stale
        except OnlineStoreError:
            if not self.degraded_scoring:
                raise
            degraded = True
            values = self.reader.request_time_only(rows, features)
            missing = [[n for n in features if is_missing(values[n][i])] for i in range(len(rows))]
            stale = [[] for _ in rows]
        scores = self.model.predict(self.model.encoding.encode(values))
        return [
            Scored(
                score=float(score),
                decision=bool(score >= self.model.threshold),
                missing=missing[i],
                stale=stale[i],
                degraded=degraded,
                features={name: values[name][i] for name in features},
            )
            for i, score in enumerate(scores)
        ]
