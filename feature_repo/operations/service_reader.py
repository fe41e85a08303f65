"""Read a feature service online as training reads it offline: one TTL rule for every reader.

Feast's online store keeps an entity's last row forever and returns it with a status,
while the point-in-time join that builds training sets finds nothing older than the
view's TTL before the transaction. A customer back after 60 quiet days would be
scored on two-month-old statistics that training never saw (the loop's skew check
found exactly this). So a stored feature older than its view's TTL at the
transaction's time is read as missing, as training reads it, and the service's
on-demand transforms (Feast's own UDFs) are rerun for those rows on their stored
inputs, read again with the same rule (the profile's home country still counts, the
expired activity does not).

The prediction API (``serving.scorer``) and ``skewless lookup`` both read through
:class:`ServiceReader`, so the features a person looks up are the features the model got.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from feast import FeatureStore
from feast.errors import FeastObjectNotFoundException

from feature_repo.operations.online import read_online_features
from feature_repo.operations.services import get_feature_service
from skewless.contract import CUSTOMER_KEY, MERCHANT_KEY, REQUEST_FIELDS

__all__ = ["ServiceRead", "ServiceReader", "is_missing", "lookup_online_features"]


@dataclass(frozen=True)
class ServiceRead:
    """Values per column, and per row the features missing and those expired (older than their
    view's TTL at the transaction, hence read as missing)."""

    values: dict[str, list[Any]]
    missing: list[list[str]]
    stale: list[list[str]]


def is_missing(value: Any) -> bool:
    """None or NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _whole_second(value: Any) -> Any:
    return value.replace(microsecond=0) if isinstance(value, datetime) else value


class ServiceReader:
    """Reads one feature service online with the TTL rule of the training join.

    Raises:
        FeatureRepoError: the service is not registered (run apply first).
    """

    def __init__(self, store: FeatureStore, service_name: str) -> None:
        self.store = store
        # Resolved once: Feast caches its request plan per service object.
        self.service = get_feature_service(store, service_name)
        self.ttl_s, self._transforms = self._resolve_views()
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

    def read(self, rows: Sequence[Mapping[str, Any]], features: Sequence[str] | None = None) -> ServiceRead:
        """The service's values for ``rows`` (entity keys + request fields; a row without a
        ``transaction_time`` is read as of now), features past their TTL read as missing.

        ``features`` are the columns whose missing values are listed (default: every column).

        Raises:
            OnlineStoreError: the online store cannot be read.
        """
        online = read_online_features(self.store, self.service, rows)
        stale = self.expired(rows, online.event_seconds)
        if any(stale):
            online = replace(online, values=self._without_expired(rows, online.values, stale))
        names = list(features) if features is not None else list(online.values)
        missing = [online.missing(i, names) for i in range(len(rows))]
        return ServiceRead(values=online.values, missing=missing, stale=stale)

    def expired(
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
                    for name, ttl_s in self.ttl_s.items()
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
                if name in corrected:
                    corrected[name][i] = None
        if not self._transforms:
            return corrected
        affected_rows = [rows[i] for i in affected]
        sources = read_online_features(self.store, self._transform_sources, affected_rows)
        inputs = {name: [row.get(name) for row in affected_rows] for name in REQUEST_FIELDS}
        for j, names in enumerate(self.expired(affected_rows, sources.event_seconds)):
            for name, column in sources.values.items():
                inputs.setdefault(name, []).append(None if name in names else column[j])
        for name, column in self.transform(inputs).items():
            for j, i in enumerate(affected):
                corrected[name][i] = column[j]
        return corrected

    def transform(self, inputs: dict[str, list[Any]]) -> dict[str, list[Any]]:
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

    def request_time_only(
        self, rows: Sequence[Mapping[str, Any]], features: Sequence[str]
    ) -> dict[str, list[Any]]:
        """The service's on-demand transforms on request fields alone (every stored input missing):
        what degraded scoring serves while the online store is down."""
        values: dict[str, list[Any]] = {name: [None] * len(rows) for name in features}
        for key in (CUSTOMER_KEY, MERCHANT_KEY, *REQUEST_FIELDS):
            values[key] = [row.get(key) for row in rows]
        values.update(self.transform({name: [row.get(name) for row in rows] for name in REQUEST_FIELDS}))
        return values


def lookup_online_features(
    store: FeatureStore, service_name: str, rows: Sequence[Mapping[str, Any]]
) -> dict[str, list[Any]]:
    """The feature service's values for ``rows`` (entity keys + request fields), as the API serves
    them: a stored feature older than its view's TTL at the row's ``transaction_time`` (default:
    now) is missing.

    Returns:
        Column name -> list of values, one per row: join keys and request fields first, then the
        features in the service's own order (the same on every call).

    Raises:
        FeatureRepoError: the service is not registered (run apply first).
        OnlineStoreError: the online store cannot be read.
    """
    reader = ServiceReader(store, service_name)
    values = reader.read(rows).values
    features = [f.name for p in reader.service.feature_view_projections for f in p.features]
    ordered = [name for name in values if name not in features] + [f for f in features if f in values]
    return {name: values[name] for name in ordered}
