"""Push fresh feature rows straight to the online store through a push source.

A streaming job would compute a customer's statistics as each transaction happens
and push them; the replay does the same with the rows the feature pipeline already
computed (one ``customer_activity`` row per transaction, including it), so the
online store holds exactly what training reads for the next transaction.
"""

from __future__ import annotations

import pandas as pd
from feast import FeatureStore
from feast.data_source import PushMode

from feature_repo.operations.online import ONLINE_STORE_ERRORS
from skewless.errors import OnlineStoreError

__all__ = ["push_online"]


def push_online(store: FeatureStore, push_source: str, rows: pd.DataFrame) -> int:
    """Write ``rows`` (the push source's schema) to the online store; returns the row count.

    Raises:
        OnlineStoreError: the online store cannot be written.
    """
    if rows.empty:
        return 0
    try:
        store.push(push_source, rows, to=PushMode.ONLINE)
    except ONLINE_STORE_ERRORS as e:
        raise OnlineStoreError(f"push to the online store failed: {type(e).__name__}: {e}") from e
    return len(rows)
