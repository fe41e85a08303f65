"""What an entry point does once per process about third-party libraries, before it uses them.

Nothing is imported or changed when this module is imported: the command line calls
:func:`prepare_third_party` only once a command really runs, so ``--help`` and an
argument error answer at once.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

__all__ = ["keep_metrics_in_process", "prepare_third_party"]


# The variables that switch prometheus_client to multiprocess mode, and Feast's own name for one.
_MULTIPROCESS_VARIABLES = (
    "PROMETHEUS_MULTIPROC_DIR",
    "prometheus_multiproc_dir",
    "PROMETHEUS_MULTIPROCESS_DIR",
)


def keep_metrics_in_process() -> None:
    """Keep ``prometheus_client`` in its in-process mode in this process and the ones it starts.

    Importing Feast sets ``PROMETHEUS_MULTIPROC_DIR`` to a temporary ``feast_metrics_*``
    folder (for ``feast serve`` under gunicorn), and ``prometheus_client`` imported after
    that, here or in a subprocess that inherits it, runs in multiprocess mode: every
    metric with the same name in a process is then one value, so two APIs in one process
    (the main job and a test, or apps built in a notebook) would count each other's
    requests. This removes the variables Feast made (a value you set yourself stays) and
    imports ``prometheus_client``, which fixes its mode for this process. Call it before
    Feast is imported, and again after, before starting subprocesses.
    """
    for name in _MULTIPROCESS_VARIABLES:
        if Path(os.environ.get(name, "")).name.startswith("feast_metrics_"):
            del os.environ[name]
    import prometheus_client.values  # noqa: F401  (chooses the value class once, now)


def prepare_third_party(import_feast: bool = True) -> None:
    """Keep metrics in process; silence MLflow's INFO lines and progress bars, ibis/Feast deprecation
    notices and Feast's on-demand-view notice.

    MLflow sets its loggers' level from ``MLFLOW_LOGGING_LEVEL`` when imported, and
    Feast's modules call ``warnings.simplefilter`` when imported, which would override
    filters set before; so the variables are set first and Feast is imported before the
    filters (``import_feast=False`` skips that for commands that never use Feast).
    """
    keep_metrics_in_process()
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if import_feast:
        import feast  # noqa: F401
        import feast.feature_store  # noqa: F401
        import feast.on_demand_feature_view  # noqa: F401

        keep_metrics_in_process()  # Feast set its variables again: not for our subprocesses

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message="On demand feature view is an experimental feature")
    warnings.filterwarnings("ignore", module="sqlalchemy")
    warnings.filterwarnings("ignore", category=UserWarning, module="mlflow")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
