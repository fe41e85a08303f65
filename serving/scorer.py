"""Score transactions: Feast online features of the model's service → encoding → model.

No feature or transform is computed here: the on-demand views of the feature
service run inside Feast's online retrieval, exactly as in training. In degraded
mode (online store down, if configured), the same on-demand transform is run on
the request fields alone, with every stored input missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feast import FeatureStore

from feature_repo.operations import get_feature_service, read_online_features
from serving.model_source import ServingModel
from skewless.contract import CUSTOMER_KEY, MERCHANT_KEY, REQUEST_FIELDS
from skewless.errors import OnlineStoreError

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
    stale: list[str]
    degraded: bool
    features: dict[str, Any]


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


class Scorer:
    """Turns requests into scores for one model, reading features through Feast."""

    def __init__(self, store: FeatureStore, model: ServingModel, degraded_scoring: bool = False) -> None:
        self.store = store
        self.model = model
        self.degraded_scoring = degraded_scoring
        # Resolved once: Feast caches its request plan per service object.
        self.service = get_feature_service(store, model.feature_service)

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
            online = read_online_features(self.store, self.service, rows)
            values = online.values
            missing = [online.missing(i, features) for i in range(len(rows))]
            stale = [online.stale(i, features) for i in range(len(rows))]
        except OnlineStoreError:
            if not self.degraded_scoring:
                raise
            degraded = True
            values = self._request_time_only(rows)
            missing = [[n for n in features if _is_missing(values[n][i])] for i in range(len(rows))]
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

    def _request_time_only(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        """Run the service's on-demand transforms on request fields alone (stored inputs missing)."""
        service = self.service
        values: dict[str, list[Any]] = {name: [None] * len(rows) for name in self.model.encoding.features}
        for key in (CUSTOMER_KEY, MERCHANT_KEY, *REQUEST_FIELDS):
            values[key] = [row.get(key) for row in rows]
        for projection in service.feature_view_projections:
            try:
                odfv = self.store.get_on_demand_feature_view(projection.name)
            except Exception:
                continue  # a stored feature view: its values stay missing
            inputs = {name: [row.get(name) for row in rows] for name in REQUEST_FIELDS}
            stored = [
                f.name for source in odfv.source_feature_view_projections.values() for f in source.features
            ]
            inputs.update({name: [None] * len(rows) for name in stored})
            outputs = odfv.feature_transformation.udf(inputs)
            for field in projection.features:
                values[field.name] = list(outputs[field.name])
        return values
