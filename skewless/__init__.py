"""Skewless: one Feast feature repo feeding training, serving and monitoring.

This package holds what the other packages share: settings, the data layout, the
feature contract, errors, atomic writes, progress reporting and the command line.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
