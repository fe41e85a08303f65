"""The two choices that pick how Skewless runs: the profile and the deployment mode.

Kept apart from the settings (plain enums, standard library only) so that the command
line can offer them as choices without importing pydantic.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DeploymentMode", "Profile", "RedisType"]


class Profile(StrEnum):
    """Which backing services the feature store and tracking use."""

    EMBEDDED = "embedded"
    PRODUCTION = "production"
    SPARK = "spark"  # production's servers, with Spark for the offline store and materialization


class RedisType(StrEnum):
    """How the production profile's online store is laid out (Feast's ``redis_type``)."""

    REDIS = "redis"  # one Redis server (or a primary with replicas behind one address)
    REDIS_CLUSTER = "redis_cluster"  # a Redis Cluster: keys spread over several primaries by hash slot


class DeploymentMode(StrEnum):
    """How the API uses a challenger next to the champion."""

    SINGLE = "single"  # the champion answers everything
    SHADOW = "shadow"  # the challenger also scores every request, off the request path; not returned
    CANARY = "canary"  # a share of customers (sticky by id hash) is answered by the challenger
