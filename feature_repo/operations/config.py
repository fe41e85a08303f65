"""Turn settings into a Feast ``RepoConfig``: one yaml per profile, no file edited.

``feature_store.yaml`` is the embedded profile; ``feature_store.production.yaml`` the
production one. The production yaml names ``${SKEWLESS_REDIS_CONNECTION}``,
``${SKEWLESS_REDIS_TYPE}`` and ``${SKEWLESS_REGISTRY_URL}``; they are filled here from
:class:`Settings` rather than from the process environment, so a test can point at its own
Redis without touching ``os.environ``.
"""

from __future__ import annotations

import string
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from feast import FeatureStore
from feast.repo_config import RepoConfig

from skewless.errors import ConfigurationError
from skewless.settings import Profile, RedisType, Settings
from skewless.spark_session import open_spark_session, prepare_spark_process

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = [
    "load_repo_config",
    "open_feature_store",
    "open_profile_spark_session",
    "redis_connection_for_feast",
    "spark_properties",
    "yaml_for_profile",
]

_YAML_BY_PROFILE = {
    Profile.EMBEDDED: "feature_store.yaml",
    Profile.PRODUCTION: "feature_store.production.yaml",
    Profile.SPARK: "feature_store.spark.yaml",
}
# Local mode keeps Spark's driver on loopback (no port on other interfaces; tests and one machine).
_LOCAL_SPARK = {"spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1"}


def yaml_for_profile(settings: Settings) -> Path:
    """The feature_store yaml of the settings' profile."""
    return settings.feature_repo_dir / _YAML_BY_PROFILE[settings.profile]


def load_repo_config(settings: Settings) -> RepoConfig:
    """Build the Feast ``RepoConfig`` for ``settings.profile``.

    Raises:
        ConfigurationError: the yaml is missing, names an unknown variable, or is invalid.
    """
    path = yaml_for_profile(settings)
    if not path.is_file():
        raise ConfigurationError(f"feature store config not found: {path}")
    values = {
        "SKEWLESS_REDIS_CONNECTION": redis_connection_for_feast(settings),
        "SKEWLESS_REDIS_TYPE": settings.redis_type.value,
        "SKEWLESS_REGISTRY_URL": settings.registry_url,
        "SKEWLESS_SPARK_MASTER": settings.spark_master,
    }
    try:
        text = string.Template(path.read_text(encoding="utf-8")).substitute(values)
        raw: dict[str, Any] = yaml.safe_load(text)
        integration = raw.get("mlflow")
        if (
            isinstance(integration, dict)
            and integration.get("enabled")
            and not integration.get("tracking_uri")
        ):
            # Feast's MLflow integration (lineage, resolve_features) reads the profile's own tracking store.
            raw["mlflow"] = integration | {"tracking_uri": settings.tracking_uri}
        for section in ("offline_store", "batch_engine"):
            if isinstance(raw.get(section), dict) and "spark_conf" in raw[section]:
                raw[section] = raw[section] | {
                    "spark_conf": spark_properties(settings, raw[section]["spark_conf"])
                }
        config = RepoConfig(**raw)
    except KeyError as e:
        raise ConfigurationError(f"{path.name} names an unknown variable {e}") from e
    except Exception as e:  # pydantic or yaml errors: report the file and the reason
        raise ConfigurationError(f"invalid feature store config {path.name}: {e}") from e
    config.repo_path = settings.feature_repo_dir
    return config


def open_feature_store(settings: Settings) -> FeatureStore:
    """A ``FeatureStore`` on the settings' profile.

    ``repo_path`` is passed too: Feast resolves a relative file-registry path against
    it, and against the working directory when it is missing. On the spark profile the process
    is made ready for the session Feast starts from the yaml's properties (its Python workers
    run this interpreter); no Spark starts here, so the API never starts one.
    """
    config = load_repo_config(settings)
    properties = offline_spark_properties(config.offline_store)
    if properties:
        prepare_spark_process(properties)
    return FeatureStore(repo_path=str(settings.feature_repo_dir), config=config)


def spark_properties(settings: Settings, from_yaml: dict[str, Any] | None = None) -> dict[str, str]:
    """The Spark session's properties: the yaml's, the loopback driver in local mode, then the
    settings' own ``spark_conf`` (which wins). One set for the offline store, the engine and the
    feature pipeline, so they share one session."""
    properties = {str(k): str(v) for k, v in (from_yaml or {}).items()}
    properties["spark.master"] = settings.spark_master
    if settings.spark_master.startswith("local"):
        # Local mode: the driver on loopback, and Python workers running this interpreter (with
        # Feast and the repo importable); a cluster's executors bring their own (its image).
        properties |= _LOCAL_SPARK | {"spark.pyspark.python": sys.executable}
    # Feature tables, the pipeline's day files and the point-in-time join are all in UTC.
    return properties | settings.spark_conf | {"spark.sql.session.timeZone": "UTC"}


def open_profile_spark_session(settings: Settings) -> SparkSession:
    """The Spark session of the settings' profile (its yaml's properties, see ``spark_properties``):
    the one Feast's Spark store and engine then find and use.

    Raises:
        ConfigurationError: the profile has no Spark, or Spark does not start.
    """
    properties = offline_spark_properties(load_repo_config(settings).offline_store)
    if not properties:
        raise ConfigurationError(f"the {settings.profile.value} profile does not run on Spark")
    return open_spark_session(properties)


def offline_spark_properties(offline_store: Any) -> dict[str, str]:
    """The Spark session properties of an offline store's config (empty: it does not run on Spark)."""
    return dict(getattr(offline_store, "spark_conf", None) or {})


def redis_connection_for_feast(settings: Settings) -> str:
    """The settings' Redis connection string as Feast gets it: with socket timeouts, and for a
    cluster without ``db=`` (a Redis Cluster client refuses it; database 0 is the only one)."""
    connection = _with_timeouts(settings.redis_connection, settings.online_store_timeout_s)
    if settings.redis_type is RedisType.REDIS_CLUSTER:
        connection = ",".join(p for p in connection.split(",") if not p.strip().startswith("db="))
    return connection


def _with_timeouts(connection: str, timeout_s: float) -> str:
    """The Redis connection string with socket timeouts (Feast passes its ``key=value`` parts to
    ``redis.Redis`` or ``RedisCluster``): a Redis that hangs then fails a read in ``timeout_s``,
    it does not hold it."""
    parts = connection.split(",")
    for key in ("socket_timeout", "socket_connect_timeout"):
        if not any(part.strip().startswith(f"{key}=") for part in parts):
            parts.append(f"{key}={timeout_s:g}")
    return ",".join(parts)
