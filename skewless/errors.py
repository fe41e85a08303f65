"""Every error Skewless raises on purpose, in one tree.

Each class carries the CLI's exit code and the HTTP status the API answers with. The
CLI prints one line, ``error: <reason>``, and exits with the class's code; the API
answers ``{"detail": "<reason>"}`` with its status. Causes are chained with ``from``.
Each exit code means one kind of problem (the README lists them)::

    SkewlessError                    1        base; never raised itself
    ├── InputError                   2  422   a bad argument, option or request value
    │   ├── InvalidDateRangeError    2  422   a date range empty, reversed or outside the data
    │   ├── UnknownScenarioError     2  422   not one of the shipped drift scenarios
    │   ├── BatchTooLargeError       2  413   a batch over max_batch_size
    │   └── LabelFeedError           2  422   labels refused: unknown transaction, too early, duplicate
    ├── ConfigurationError           3  500   invalid settings or feature_store yaml
    ├── DataNotFoundError            4  404   a step's input is missing: run the step before
    ├── FeatureRepoError             5  500   feast apply failed, or a feature service is not registered
    ├── OnlineStoreError             6  503   the online store cannot be read or written
    │   └── OnlineStoreTimeoutError  6  503   ... within its timeout
    ├── DataValidationError          7  422   the training set failed a check before fitting
    ├── PromotionRefusedError        8  409   the gate refused a candidate, or nothing to roll back to
    ├── ModelNotFoundError           9  503   no registered model, version or alias
    ├── RegistryUnavailableError    10  503   the model registry cannot be read or written
    ├── DeploymentRefusedError      11  409   a deployment that cannot be honoured
    ├── ReferenceProfileError       12  500   a model's monitoring reference is missing or unreadable
    ├── ServedLogError              13  500   the served-feature log cannot be read
    └── JobLockedError              75  409   the job already runs elsewhere; nothing was changed

Exit code 75 is ``EX_TEMPFAIL``: a scheduler may simply try again at its next tick.
Outside this tree, the CLI exits 2 for an option it cannot parse (as every click
program does) and 130 when interrupted.
"""

from __future__ import annotations

__all__ = [
    "BatchTooLargeError",
    "ConfigurationError",
    "DataNotFoundError",
    "DatasetError",
    "DataValidationError",
    "DeploymentRefusedError",
    "FeatureRepoError",
    "InputError",
    "InvalidDateRangeError",
    "JobLockedError",
    "LabelFeedError",
    "ModelNotFoundError",
    "OnlineStoreError",
    "OnlineStoreTimeoutError",
    "PromotionRefusedError",
    "ReferenceProfileError",
    "RegistryUnavailableError",
    "ServedLogError",
    "SkewlessError",
    "UnknownScenarioError",
]


class SkewlessError(Exception):
    """Base class: every error we raise on purpose derives from it."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str, public: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.public = public or message  # what an HTTP caller is told (no hosts, ports or paths)

    def __str__(self) -> str:
        return self.message


class InputError(SkewlessError):
    """Raised when an argument, option or request value is wrong; the message names it."""

    exit_code = 2
    http_status = 422


class InvalidDateRangeError(InputError):
    """Raised when a date range is empty, reversed, or outside the simulated data."""


class UnknownScenarioError(InputError):
    """Raised when a drift scenario name is not one of the shipped scenarios."""


class BatchTooLargeError(InputError):
    """Raised when a batch holds more transactions than ``max_batch_size``."""

    http_status = 413


class LabelFeedError(InputError):
    """Raised when a batch of labels is refused; names every problem found in it."""


class ConfigurationError(SkewlessError):
    """Raised when settings are invalid or inconsistent (bad profile, bad URL, bad yaml)."""

    exit_code = 3


class DatasetError(InputError):
    """Raised when a dataset given to compare cannot be read, or a named column is not in it."""


class DataNotFoundError(SkewlessError):
    """Raised when a step's input (simulated data, feature tables, a champion) does not exist yet."""

    exit_code = 4
    http_status = 404


class FeatureRepoError(SkewlessError):
    """Raised when applying or reading the Feast feature repo fails."""

    exit_code = 5


class OnlineStoreError(SkewlessError):
    """Raised when the online store (SQLite or Redis) cannot be written or read."""

    exit_code = 6
    http_status = 503


class OnlineStoreTimeoutError(OnlineStoreError):
    """Raised when an online-store read does not answer within its timeout."""


class DataValidationError(SkewlessError):
    """Raised before fitting when the training set fails one or more checks; names every failure."""

    exit_code = 7
    http_status = 422


class PromotionRefusedError(SkewlessError):
    """Raised when a candidate fails the promotion gate, or a rollback has no target."""

    exit_code = 8
    http_status = 409


class ModelNotFoundError(SkewlessError):
    """Raised when the registry has no such model, version or alias (the API cannot serve: 503)."""

    exit_code = 9
    http_status = 503


class RegistryUnavailableError(SkewlessError):
    """Raised when the model registry cannot be read or written (an admin action is not applied)."""

    exit_code = 10
    http_status = 503


class DeploymentRefusedError(SkewlessError):
    """Raised when a requested deployment cannot be honoured (no challenger, or one rolled back)."""

    exit_code = 11
    http_status = 409


class ReferenceProfileError(SkewlessError):
    """Raised when a model version has no monitoring reference profile, or one too old to read."""

    exit_code = 12


class ServedLogError(SkewlessError):
    """Raised when the served-feature log exists but cannot be read (a corrupt file, say)."""

    exit_code = 13


class JobLockedError(SkewlessError):
    """Raised when a scheduled job is already running elsewhere; this run did nothing."""

    exit_code = 75
    http_status = 409
