"""The label feed's checks: every refused batch says why, and nothing half-stored."""

from __future__ import annotations

import pandas as pd
import pytest

from skewless.errors import LabelFeedError
from skewless.labels import LABEL_COLUMNS, validate_labels

T0 = pd.Timestamp("2026-05-01 12:00", tz="UTC")
TRANSACTIONS = pd.DataFrame(
    {
        "transaction_id": [1, 2, 3],
        "transaction_time": [T0, T0 + pd.Timedelta(hours=1), T0 + pd.Timedelta(days=1)],
    }
)


def batch(*rows: tuple[object, int, pd.Timestamp, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(LABEL_COLUMNS))


def test_a_good_batch_comes_back_in_the_feeds_types() -> None:
    checked = validate_labels(
        batch(
            ("1", 1, T0 + pd.Timedelta(hours=5), "investigation"),
            (2, 0, T0 + pd.Timedelta(days=31), "matured"),
            (1, 1, T0 + pd.Timedelta(days=9), "chargeback"),
        ),
        TRANSACTIONS,
    )
    assert checked["transaction_id"].tolist() == [1, 2, 1]
    assert str(checked["transaction_id"].dtype) == "int64" and str(checked["is_fraud"].dtype) == "int8"
    assert str(checked["label_time"].dt.tz) == "UTC"


def test_unknown_transaction_early_label_and_duplicate_are_each_named() -> None:
    with pytest.raises(LabelFeedError) as refused:
        validate_labels(
            batch(
                (99, 1, T0, "investigation"),
                (3, 0, T0, "investigation"),  # transaction 3 happens a day after T0
                (1, 1, T0 + pd.Timedelta(hours=2), "investigation"),
                (1, 1, T0 + pd.Timedelta(hours=3), "investigation"),
            ),
            TRANSACTIONS,
        )
    message = str(refused.value)
    assert "1 label(s) for transactions that do not exist (transaction_id 99)" in message
    assert "1 label(s) known before their transaction happened (transaction_id 3)" in message
    assert "1 label(s) given twice in this batch (transaction_id 1)" in message


def test_a_label_already_in_the_feed_from_the_same_source_is_refused() -> None:
    held = pd.DataFrame({"transaction_id": [2], "source": ["investigation"]})
    with pytest.raises(LabelFeedError, match="already in the feed from the same source"):
        validate_labels(batch((2, 0, T0 + pd.Timedelta(hours=3), "investigation")), TRANSACTIONS, held)
    # the same transaction from another source is news, not a duplicate
    validate_labels(batch((2, 1, T0 + pd.Timedelta(days=3), "chargeback")), TRANSACTIONS, held)


def test_bad_source_bad_value_contradiction_and_missing_column() -> None:
    with pytest.raises(LabelFeedError) as refused:
        validate_labels(
            batch(
                (1, 1, T0 + pd.Timedelta(hours=2), "hunch"),
                (2, 2, T0 + pd.Timedelta(hours=2), "investigation"),
                (3, 1, T0 + pd.Timedelta(days=40), "matured"),
            ),
            TRANSACTIONS,
        )
    message = str(refused.value)
    assert "source other than chargeback, investigation, matured" in message
    assert "is_fraud other than 0 or 1 (transaction_id 2)" in message
    assert "contradicting their source" in message and "(transaction_id 3)" in message
    with pytest.raises(LabelFeedError, match="lack column.*source"):
        validate_labels(batch((1, 1, T0, "chargeback")).drop(columns="source"), TRANSACTIONS)
