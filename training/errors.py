"""Errors of the training package, under the common :class:`SkewlessError`.

SkewlessError
└── TrainingError             base of this package
    ├── DataValidationError   the training set failed a check before fitting
    ├── ModelNotFoundError    no model version behind a version number or alias
    └── PromotionRefused      the gate refused a candidate, or nothing to roll back to
"""

from __future__ import annotations

from skewless.errors import SkewlessError

__all__ = ["DataValidationError", "ModelNotFoundError", "PromotionRefused", "TrainingError"]


class TrainingError(SkewlessError):
    """Base class of training, evaluation and registry errors."""

    exit_code = 6


class DataValidationError(TrainingError):
    """Raised before fitting when the training set fails one or more checks; names every failure."""

    exit_code = 7
    http_status = 422


class ModelNotFoundError(TrainingError):
    """Raised when a registered model, version or alias does not exist."""

    exit_code = 3
    http_status = 404


class PromotionRefused(TrainingError):
    """Raised when a candidate fails the promotion gate, or a rollback has no target."""

    exit_code = 8
    http_status = 409
