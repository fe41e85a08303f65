"""Silence third-party notices that are not the user's concern (CLI, benchmarks)."""

from __future__ import annotations

import logging
import warnings

__all__ = ["quiet_third_party_warnings"]


def quiet_third_party_warnings() -> None:
    """ibis/Feast deprecation notices and Feast's ODFV notice are not the user's concern.

    Feast's modules call ``warnings.simplefilter`` when imported, which would override
    filters set before; so Feast is imported first.
    """
    import feast  # noqa: F401
    import feast.feature_store  # noqa: F401
    import feast.on_demand_feature_view  # noqa: F401

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message="On demand feature view is an experimental feature")
    warnings.filterwarnings("ignore", module="sqlalchemy")
    warnings.filterwarnings("ignore", category=UserWarning, module="mlflow")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
