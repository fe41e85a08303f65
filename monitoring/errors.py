"""Errors of the monitoring package, under the common :class:`SkewlessError`.

SkewlessError
└── MonitoringError            base of this package
    ├── ReferenceNotFoundError no model version (or no reference profile) to compare with
    ├── ProfileVersionError    the model's reference profile is too old to read
    └── ServedLogError         the served-feature log cannot be read
"""

from __future__ import annotations

from skewless.errors import SkewlessError

__all__ = ["MonitoringError", "ProfileVersionError", "ReferenceNotFoundError", "ServedLogError"]


class MonitoringError(SkewlessError):
    """Base class of monitoring errors."""

    exit_code = 9


class ReferenceNotFoundError(MonitoringError):
    """Raised when the model version, alias or its reference profile does not exist."""

    exit_code = 3


class ProfileVersionError(MonitoringError):
    """Raised when a model's reference profile predates the version monitoring reads."""


class ServedLogError(MonitoringError):
    """Raised when the served-feature log exists but cannot be read (a corrupt file, say)."""
