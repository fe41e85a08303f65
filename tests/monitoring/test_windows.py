"""Served-log windows summarised in DuckDB agree with numpy on the same rows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from monitoring.reference import CategoricalReference, NumericReference
from monitoring.windows import CategoricalWindow, NumericWindow, summarise_range
from tests.monitoring.synthetic import (
    CATEGORICAL,
    DAY_ONE,
    NUMERIC,
    reference_of,
    served_frame,
    training_frame,
    write_log,
)

DAY = timedelta(days=1)


def test_each_window_counts_values_in_the_reference_cells_like_numpy(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    numeric = reference.features[NUMERIC]
    assert isinstance(numeric, NumericReference)
    served = training_frame(rows=3_000, seed=1)
    # Values exactly on grid points (right-closed cells), beyond both ends, NaN and null.
    served.loc[:99, NUMERIC] = numeric.grid[np.arange(100) % len(numeric.grid)]
    served.loc[100, NUMERIC] = numeric.grid[0] - 1.0
    served.loc[101, NUMERIC] = numeric.grid[-1] + 1.0
    served.loc[102:111, NUMERIC] = np.nan
    served.loc[112:121, CATEGORICAL] = None
    frame = served_frame(served, DAY_ONE, 3 * DAY)
    log = write_log(tmp_path / "served", [frame])

    total, windows = summarise_range(
        log, reference.features, reference.score, DAY_ONE, DAY_ONE + 3 * DAY, DAY
    )

    assert [w.rows for w in windows] == [1_000, 1_000, 1_000] and total.rows == 3_000
    for window, (_, rows) in zip(windows, frame.groupby(frame["served_at"].dt.floor("D")), strict=True):
        column = window.columns[NUMERIC]
        assert isinstance(column, NumericWindow)
        values = rows[NUMERIC].dropna().to_numpy()
        expected = np.bincount(
            np.searchsorted(numeric.grid, values, side="left"), minlength=len(numeric.grid) + 1
        )
        np.testing.assert_array_equal(column.cells, expected)
        assert (column.count, column.nulls) == (len(values), len(rows) - len(values))
        assert column.minimum == values.min() and column.maximum == values.max()
        categories = window.columns[CATEGORICAL]
        assert isinstance(categories, CategoricalWindow)
        assert categories.counts == rows[CATEGORICAL].dropna().value_counts().to_dict()
        assert window.score is not None and window.score.count == len(rows)
    whole = total.columns[NUMERIC]
    assert isinstance(whole, NumericWindow)
    np.testing.assert_array_equal(whole.cells, sum(w.columns[NUMERIC].cells for w in windows))  # type: ignore[union-attr]
    assert whole.nulls == 10


def test_a_window_reads_only_served_rows_of_the_asked_model_version(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    champion = served_frame(training_frame(600, seed=2), DAY_ONE, DAY, version=1)
    challenger = served_frame(training_frame(400, seed=3), DAY_ONE, DAY, version=2)
    shadow = served_frame(training_frame(300, seed=4), DAY_ONE, DAY, version=2).assign(served=False)
    log = write_log(tmp_path / "served", [champion, challenger, shadow])

    every_version, _ = summarise_range(log, reference.features, reference.score, DAY_ONE, DAY_ONE + DAY)
    second, _ = summarise_range(
        log, reference.features, reference.score, DAY_ONE, DAY_ONE + DAY, model_version=2
    )

    assert (every_version.rows, every_version.model_versions) == (1_000, [1, 2])
    assert (second.rows, second.model_versions) == (400, [2])


def test_empty_ranges_and_a_missing_log_give_empty_windows(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    missing = tmp_path / "no-log-yet"
    total, windows = summarise_range(
        missing, reference.features, reference.score, DAY_ONE, DAY_ONE + 2 * DAY, DAY
    )
    assert total.rows == 0 and [w.rows for w in windows] == [0, 0]

    # Traffic on the first and third day only: the quiet day is an empty window, not an error.
    frames = [served_frame(training_frame(500, seed=s), DAY_ONE + s * DAY, DAY) for s in (0, 2)]
    log = write_log(tmp_path / "served", frames)
    total, windows = summarise_range(
        log, reference.features, reference.score, DAY_ONE, DAY_ONE + 3 * DAY, DAY
    )
    assert [w.rows for w in windows] == [500, 0, 500] and total.rows == 1_000
    quiet = windows[1].columns[NUMERIC]
    assert isinstance(quiet, NumericWindow) and quiet.count == 0 and not quiet.cells.any()


def test_a_feature_missing_from_the_log_is_reported_absent_not_an_error(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    frame = served_frame(training_frame(500, seed=5), DAY_ONE, DAY).drop(columns=[CATEGORICAL])
    log = write_log(tmp_path / "served", [frame])
    total, _ = summarise_range(log, reference.features, reference.score, DAY_ONE, DAY_ONE + DAY)
    assert total.columns[CATEGORICAL] is None
    assert isinstance(reference.features[CATEGORICAL], CategoricalReference)
    assert isinstance(total.columns[NUMERIC], NumericWindow)
    assert pd.notna(total.columns[NUMERIC].mean)  # type: ignore[union-attr]


def test_the_event_clock_cuts_windows_on_transaction_time_for_replays(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    frame = served_frame(training_frame(900, seed=6), DAY_ONE, 3 * DAY)
    # Three simulated days replayed ten days later, all within one second of serving time.
    frame["transaction_time"] = frame["served_at"]
    frame["served_at"] = pd.Timestamp(DAY_ONE + 10 * DAY) + pd.to_timedelta(np.arange(900), unit="ms")
    log = write_log(tmp_path / "served", [frame])
    bounds = (DAY_ONE, DAY_ONE + 3 * DAY, DAY)
    total, by_event = summarise_range(log, reference.features, reference.score, *bounds, clock="event")
    assert [w.rows for w in by_event] == [300, 300, 300] and total.rows == 900
    served, _ = summarise_range(log, reference.features, reference.score, *bounds)
    assert served.rows == 0  # nothing was served on those days
