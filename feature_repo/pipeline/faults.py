"""Feature faults: a broken upstream job writing a feature null or constant.

The raw data's manifest declares them (only the simulator's ``pipeline_break``
scenario does). They are applied here, after the SQL, to rows whose event timestamp
is on or after the drift date, so that the feature tables (and hence the online store
and the API) carry the break while the definitions stay correct.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from skewless.contract import EVENT_TIMESTAMP
from skewless.raw_data import FeatureFault

__all__ = ["apply_faults"]


def apply_faults(
    table: pa.Table, table_name: str, faults: Iterable[FeatureFault], since: datetime
) -> pa.Table:
    """Return ``table`` with each fault of ``table_name`` applied from ``since`` on.

    Args:
        table: a feature table with an ``event_timestamp`` column.
        table_name: its name, to select the faults that concern it.
        faults: the faults the raw data's manifest declares.
        since: first broken instant (UTC).
    """
    broken = pc.greater_equal(
        table[EVENT_TIMESTAMP], pa.scalar(since, table.schema.field(EVENT_TIMESTAMP).type)
    )
    for fault in faults:
        if fault.table != table_name:
            continue
        column = fault.column
        index = table.schema.get_field_index(column)
        field = table.schema.field(index)
        if fault.mode == "null":
            replacement = pa.nulls(len(table), field.type)
        else:
            replacement = pa.array([fault.constant] * len(table)).cast(field.type)
        table = table.set_column(index, field, pc.if_else(broken, replacement, table[column]))
    return table
