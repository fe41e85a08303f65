"""Errors of the serving package, each with the HTTP status the API answers with.

    SkewlessError
    └── ServingError               base of this package
        ├── ModelUnavailableError  no model behind the served alias (503)
        ├── RegistryUnavailableError  the model registry cannot be read or written (503)
        ├── DeploymentRefusedError    a deployment change that cannot be honoured (409)
        └── BatchTooLargeError     a batch over the configured size (413)

The online store being down is :class:`skewless.errors.OnlineStoreError` (503).
"""

from __future__ import annotations

from skewless.errors import SkewlessError

__all__ = [
    "BatchTooLargeError",
    "DeploymentRefusedError",
    "ModelUnavailableError",
    "RegistryUnavailableError",
    "ServingError",
]


class ServingError(SkewlessError):
    """Base class of serving errors."""


class ModelUnavailableError(ServingError):
    """Raised when the registry has no model version behind the served alias."""

    http_status = 503


class BatchTooLargeError(ServingError):
    """Raised when a batch holds more transactions than ``max_batch_size``."""

    http_status = 413


class RegistryUnavailableError(ServingError):
    """Raised when the MLflow registry cannot be read or written (an admin action is not applied)."""

    http_status = 503


class DeploymentRefusedError(ServingError):
    """Raised when a requested deployment cannot be honoured (no challenger, or one rolled back)."""

    http_status = 409
