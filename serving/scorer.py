"""Score transactions: Feast online features of the model's service → encoding → model.

No feature or transform is computed here: the on-demand views of the feature
service run inside Feast's online retrieval, exactly as in training. Two cases run
the service's own on-demand transforms (Feast's UDFs) on corrected inputs instead:

- **Expired rows.** Feast's online store keeps an entity's last row forever and
  returns it with a status, while the point-in-time join that builds training sets
  finds nothing older than the view's TTL before the transaction. A customer back
  after 60 quiet days would be scored on two-month-old statistics that training
  never saw (the loop's skew check found exactly this). So a stored feature older
  than its view's TTL at the transaction's time is served as missing, as training
  reads it, and the transforms are rerun for those rows on their stored inputs
  (read again, with the same TTL rule: the profile's home country still counts, the
  expired activity does not).
- **Degraded mode** (online store down, if configured): every stored input missing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from feast import FeatureStore
from feast.errors import FeastObjectNotFoundException

from feature_repo.operations import get_feature_service, read_online_features
from skewless.contract import CUSTOMER_KEY, MERCHANT_KEY, REQUEST_FIELDS
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


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _whole_second(value: Any) -> Any:
    return value.replace(microsecond=0) if isinstance(value, datetime) else value


class Scorer:
    """Turns requests into scores for one model, reading features through Feast."""

    def __init__(self, store: FeatureStore, model: RegisteredModel, degraded_scoring: bool = False) -> None:
        self.store = store
        self.model = model
        self.degraded_scoring = degraded_scoring
        # Resolved once: Feast caches its request plan per service object.
        self.service = get_feature_service(store, model.feature_service)
        self._ttl_s, self._transforms = self._resolve_views()
        # The stored inputs of the on-demand views (some not in the service, e.g. the
        # profile's home country), read again only for rows with expired features.
        self._transform_sources = sorted(
            {
                f"{source.name}:{field.name}"
                for _, odfv in self._transforms
                for source in odfv.source_feature_view_projections.values()
                for field in source.features
            }
        )

    def _resolve_views(self) -> tuple[dict[str, float], list[Any]]:
        """Each stored feature's view TTL in seconds (views with one, the on-demand views'
        stored inputs included), and the on-demand views."""
        ttl_s: dict[str, float] = {}
        transforms: list[Any] = []
        stored = []
        for projection in self.service.feature_view_projections:
            try:
                odfv = self.store.get_on_demand_feature_view(projection.name)
            except FeastObjectNotFoundException:  # not on-demand: a stored view
                stored.append(projection)
                continue
            transforms.append((projection, odfv))
            stored.extend(odfv.source_feature_view_projections.values())
        for projection in stored:
            ttl = self.store.get_feature_view(projection.name).ttl
            if ttl:
                ttl_s.update({field.name: ttl.total_seconds() for field in projection.features})
        return ttl_s, transforms

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
            stale = self._expired(rows, online.event_seconds)
            if any(stale):
                online = replace(online, values=self._without_expired(rows, online.values, stale))
            values = online.values
            missing = [online.missing(i, features) for i in range(len(rows))]
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

    def _expired(
        self, rows: Sequence[Mapping[str, Any]], event_seconds: dict[str, list[float]]
    ) -> list[list[str]]:
        """Per row: stored features whose row is older than the view's TTL at the transaction's time."""
        now = datetime.now(UTC).timestamp()
        expired: list[list[str]] = []
        for i, row in enumerate(rows):
            at = row.get("transaction_time")
            at_s = at.timestamp() if isinstance(at, datetime) else now
            expired.append(
                [
                    name
                    for name, ttl_s in self._ttl_s.items()
                    if (seconds := event_seconds.get(name)) and 0 < seconds[i] < at_s - ttl_s
                ]
            )
        return expired

    def _without_expired(
        self, rows: Sequence[Mapping[str, Any]], values: dict[str, list[Any]], expired: list[list[str]]
    ) -> dict[str, list[Any]]:
        """``values`` with expired stored features set missing and the transforms rerun on those rows."""
        corrected = {name: list(column) for name, column in values.items()}
        affected = [i for i, names in enumerate(expired) if names]
        for i in affected:
            for name in expired[i]:
                corrected[name][i] = None
        if not self._transforms:
            return corrected
        affected_rows = [rows[i] for i in affected]
        sources = read_online_features(self.store, self._transform_sources, affected_rows)
        inputs = {name: [row.get(name) for row in affected_rows] for name in REQUEST_FIELDS}
        for j, names in enumerate(self._expired(affected_rows, sources.event_seconds)):
            for name, column in sources.values.items():
                inputs.setdefault(name, []).append(None if name in names else column[j])
        for name, column in self._transform(inputs).items():
            for j, i in enumerate(affected):
                corrected[name][i] = column[j]
        return corrected

    def _transform(self, inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
        """Run the service's on-demand transforms (Feast's UDFs) on ``inputs``; stored inputs absent
        from ``inputs`` are missing."""
        outputs: dict[str, list[Any]] = {}
        length = len(next(iter(inputs.values())))
        for projection, odfv in self._transforms:
            stored = [
                f.name for source in odfv.source_feature_view_projections.values() for f in source.features
            ]
            arguments = {name: [None] * length for name in stored} | {
                name: column for name, column in inputs.items() if name in stored or name in REQUEST_FIELDS
            }
            # Feast's online path carries a request timestamp to the whole second.
            arguments["transaction_time"] = [_whole_second(t) for t in arguments.get("transaction_time", [])]
            results = odfv.feature_transformation.udf(arguments)
            outputs.update({field.name: list(results[field.name]) for field in projection.features})
        return outputs

    def _request_time_only(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
        """Run the service's on-demand transforms on request fields alone (stored inputs missing)."""
        values: dict[str, list[Any]] = {name: [None] * len(rows) for name in self.model.encoding.features}
        for key in (CUSTOMER_KEY, MERCHANT_KEY, *REQUEST_FIELDS):
            values[key] = [row.get(key) for row in rows]
        values.update(self._transform({name: [row.get(name) for row in rows] for name in REQUEST_FIELDS}))
        return values
