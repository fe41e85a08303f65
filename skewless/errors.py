"""The one exception hierarchy of Skewless.

    SkewlessError                 base; carries a one-line message and an exit code
    ├── ConfigurationError        a setting or a combination of settings is invalid
    ├── InvalidDateRangeError     a date range is empty, reversed or outside the data
    ├── UnknownScenarioError      a drift scenario name is not one we ship
    ├── DataNotFoundError         an input the step needs has not been produced yet
    ├── FeatureRepoError          `feast apply` / registry work on the feature repo failed
    ├── OnlineStoreError          the online store could not be written or read
    └── JobLockedError            the same scheduled job is already running (exit 75)

The CLI prints ``str(error)`` on one line and exits with ``error.exit_code``; the API
(later) maps ``http_status`` to a JSON response. Causes are chained with ``from``.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DataNotFoundError",
    "FeatureRepoError",
    "InvalidDateRangeError",
    "JobLockedError",
    "OnlineStoreError",
    "SkewlessError",
    "UnknownScenarioError",
]


class SkewlessError(Exception):
    """Base class: every error we raise on purpose derives from it."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(SkewlessError):
    """Raised when settings are invalid or inconsistent (bad profile, bad URL)."""

    exit_code = 2
    http_status = 500


class InvalidDateRangeError(SkewlessError):
    """Raised when a date range is empty, reversed, or outside the simulated data."""

    exit_code = 2
    http_status = 422


class UnknownScenarioError(SkewlessError):
    """Raised when a drift scenario name is not one of the shipped scenarios."""

    exit_code = 2
    http_status = 422


class DataNotFoundError(SkewlessError):
    """Raised when a step's input (simulated data, feature tables) does not exist yet."""

    exit_code = 3
    http_status = 404


class FeatureRepoError(SkewlessError):
    """Raised when applying or reading the Feast feature repo fails."""

    exit_code = 4
    http_status = 500


class OnlineStoreError(SkewlessError):
    """Raised when the online store (SQLite or Redis) cannot be written or read."""

    exit_code = 5
    http_status = 503


class JobLockedError(SkewlessError):
    """Raised when a scheduled job is already running elsewhere; this run did nothing.

    Exit code 75 (EX_TEMPFAIL): a scheduler may simply try again at the next tick.
    """

    exit_code = 75
    http_status = 409
