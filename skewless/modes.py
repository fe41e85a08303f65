"""The two choices that pick how Skewless runs: the profile and the deployment mode.

Kept apart from the settings (plain enums, standard library only) so that the command
line can offer them as choices without importing pydantic.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DeploymentMode", "Profile"]


class Profile(StrEnum):
    """Which backing services the feature store and tracking use."""

    EMBEDDED = "embedded"
    PRODUCTION = "production"


class DeploymentMode(StrEnum):
    """How the API uses a challenger next to the champion."""

    SINGLE = "single"  # the champion answers everything
    SHADOW = "shadow"  # the challenger also scores every request, off the request path; not returned
    CANARY = "canary"  # a share of customers (sticky by id hash) is answered by the challenger
