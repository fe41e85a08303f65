"""The standard error of a ROC-AUC (Hanley & McNeil, 1982), shared by training and monitoring."""

from __future__ import annotations

import math

__all__ = ["hanley_mcneil_error"]


def hanley_mcneil_error(auc: float, positives: int, negatives: int) -> float:
    """Hanley-McNeil standard error of an AUC measured on ``positives`` and ``negatives``."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    return math.sqrt(max(variance, 0.0) / (positives * negatives))
