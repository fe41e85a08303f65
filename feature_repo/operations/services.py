"""Feature services as the registry holds them: the one place their contents are read."""

from __future__ import annotations

from feast import FeatureService, FeatureStore
from feast.types import String

from skewless.errors import FeatureRepoError

__all__ = [
    "feature_entities", "feature_refs", "feature_service_schema", "get_feature_service", "service_inputs",
]  # fmt: skip


def get_feature_service(store: FeatureStore, name: str) -> FeatureService:
    """The registered feature service called ``name``.

    Raises:
        FeatureRepoError: it is not registered (run apply first).
    """
    try:
        return store.get_feature_service(name)
    except Exception as e:
        raise FeatureRepoError(
            f"feature service '{name}' is not registered: run `skewless apply` first"
        ) from e


def feature_service_schema(store: FeatureStore, name: str) -> tuple[list[str], list[str]]:
    """The service's feature names in service order, and which of them are categorical (strings)."""
    service = get_feature_service(store, name)
    fields = [f for projection in service.feature_view_projections for f in projection.features]
    return [f.name for f in fields], [f.name for f in fields if f.dtype == String]


def feature_entities(store: FeatureStore, name: str) -> dict[str, str | None]:
    """Each feature of the service and the join key of the entity it describes.

    Features of a feature view describe its entity (one value per customer or
    merchant at a time); on-demand features are computed per request and map to None.
    Monitoring uses this to count how many independent values a window really holds.
    """
    service = get_feature_service(store, name)
    views = {view.name: view for view in store.list_feature_views()}
    entities: dict[str, str | None] = {}
    for projection in service.feature_view_projections:
        view = views.get(projection.name)
        keys = [column.name for column in view.entity_columns] if view is not None else []
        for field in projection.features:
            entities[field.name] = keys[0] if len(keys) == 1 else None
    return entities


def feature_refs(store: FeatureStore, name: str) -> list[str]:
    """The service's features as Feast names them in lineage (``view:feature``), in service order."""
    service = get_feature_service(store, name)
    return [f"{p.name_to_use()}:{f.name}" for p in service.feature_view_projections for f in p.features]


def service_inputs(store: FeatureStore, name: str) -> set[str]:
    """The entity-row columns ``get_historical_features`` reads for the service: the join keys of its
    feature views and of those its on-demand views read (as the projections map them), and the
    request fields of its on-demand views. Other columns of the entity rows are only carried through."""
    service = get_feature_service(store, name)
    views = {view.name: view for view in store.list_feature_views()}
    on_demand = {view.name: view for view in store.list_on_demand_feature_views()}
    projections = list(service.feature_view_projections)
    inputs: set[str] = set()
    while projections:
        projection = projections.pop()
        if projection.name in views:
            keys = (column.name for column in views[projection.name].entity_columns)
            inputs |= {(projection.join_key_map or {}).get(key, key) for key in keys}
        elif projection.name in on_demand:
            view = on_demand[projection.name]
            sources = view.source_request_sources.values()
            inputs |= {field.name for source in sources for field in source.schema}
            projections += view.source_feature_view_projections.values()
    return inputs
