"""Turn settings into a Feast ``RepoConfig``: one yaml per profile, no file edited.

``feature_store.yaml`` is the embedded profile; ``feature_store.production.yaml`` the
production one. The production yaml names ``${SKEWLESS_REDIS_CONNECTION}`` and
``${SKEWLESS_REGISTRY_URL}``; they are filled here from :class:`Settings` rather than
from the process environment, so a test can point at its own Redis without
touching ``os.environ``.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import yaml
from feast import FeatureStore
from feast.repo_config import RepoConfig

from skewless.errors import ConfigurationError
from skewless.settings import Profile, Settings

__all__ = ["load_repo_config", "open_feature_store", "yaml_for_profile"]

_YAML_BY_PROFILE = {
    Profile.EMBEDDED: "feature_store.yaml",
    Profile.PRODUCTION: "feature_store.production.yaml",
}


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
        "SKEWLESS_REDIS_CONNECTION": _with_timeouts(
            settings.redis_connection, settings.online_store_timeout_s
        ),
        "SKEWLESS_REGISTRY_URL": settings.registry_url,
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
    it, and against the working directory when it is missing.
    """
    return FeatureStore(repo_path=str(settings.feature_repo_dir), config=load_repo_config(settings))


def _with_timeouts(connection: str, timeout_s: float) -> str:
    """The Redis connection string with socket timeouts (Feast passes its ``key=value`` parts to
    ``redis.Redis``): a Redis that hangs then fails a read in ``timeout_s``, it does not hold it."""
    parts = connection.split(",")
    for key in ("socket_timeout", "socket_connect_timeout"):
        if not any(part.strip().startswith(f"{key}=") for part in parts):
            parts.append(f"{key}={timeout_s:g}")
    return ",".join(parts)
