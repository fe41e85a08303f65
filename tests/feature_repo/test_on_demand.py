"""On-demand views over a joined table: the inputs a function reads, its timestamps, its batches."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest
from feast import Entity, FeatureView, Field, FileSource, RequestSource, ValueType
from feast.infra.offline_stores.offline_store import RetrievalJob
from feast.on_demand_feature_view import on_demand_feature_view
from feast.types import Float64, UnixTimestamp

from feature_repo.operations.on_demand import (
    OnDemandRetrievalJob,
    _python_values,
    names_read,
    on_demand_fields,
    transform_on_demand,
    with_on_demand_features,
)


def test_a_python_views_inputs_are_the_names_its_function_subscripts() -> None:
    from feature_repo.definitions import transaction_context

    read = names_read(transaction_context)
    assert read is not None
    assert {"amount", "transaction_time", "amount_mean_30d", "txn_times_1h", "home_country"} <= read
    # features of its source views that the function never reads are not handed to it
    assert not {"txn_count_7d", "credit_limit", "age_band"} & read


@pytest.mark.parametrize(
    "body",
    [
        "return {'y': inputs.get('x')}",  # a method call: any name may be read
        "return {'y': [v for v in inputs.values()]}",
        "key = 'x'\n    return {'y': inputs[key]}",  # not a constant subscript
        "inputs = dict(inputs)\n    return {'y': inputs['x']}",  # rebound
    ],
)
def test_a_function_that_reads_its_inputs_otherwise_is_handed_every_source_column(body: str) -> None:
    view = SimpleNamespace(
        mode="python", feature_transformation=SimpleNamespace(udf_string=f"def f(inputs):\n    {body}\n")
    )
    assert names_read(view) is None  # type: ignore[arg-type]  # only mode and source are read


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", None])
def test_timestamps_reach_the_function_as_arrows_own_python_values(unit: str, zone: str | None) -> None:
    kind = pa.timestamp(unit, tz=zone)
    column = pa.chunked_array(
        [pa.array([None, 1_700_000_000, None], kind), pa.array([5, None, 2_000_000_000], kind)]
    )
    got, expected = _python_values(column), column.to_pylist()
    assert got == expected
    assert [type(v) for v in got] == [type(v) for v in expected]
    pairs = zip(got, expected, strict=True)
    zones = [(getattr(a, "tzinfo", None), getattr(b, "tzinfo", None)) for a, b in pairs]
    assert all(ours is arrows for ours, arrows in zones)
    empty = pa.chunked_array([pa.array([None, None], kind)])
    assert _python_values(empty) == [None, None]


_request = RequestSource(
    name="payment", schema=[Field(name="amount", dtype=Float64), Field(name="paid_at", dtype=UnixTimestamp)]
)


@on_demand_feature_view(
    sources=[_request],
    schema=[Field(name="half", dtype=Float64), Field(name="paid_hour", dtype=Float64)],
    mode="python",
)
def _halves(inputs: dict[str, list]) -> dict[str, list]:
    return {
        "half": [None if a is None or a > 100 else a / 2 for a in inputs["amount"]],
        "paid_hour": [None if t is None else float(t.hour) for t in inputs["paid_at"]],
    }


def test_batches_equal_one_call_even_when_a_batch_is_all_null() -> None:
    amounts = [500.0, 600.0, 700.0, 1.0, 2.0, None, 4.0]  # the first batch of 3: "half" all null
    times = [datetime(2026, 3, 1, h, tzinfo=UTC) for h in range(7)]
    table = pa.table({"amount": amounts, "paid_at": pa.array(times, pa.timestamp("us", tz="UTC"))})
    whole = _halves.transform_arrow(table, False)  # Feast's own call, one batch
    for rows in (3, 1, 100):
        got = transform_on_demand(_halves, table, False, batch_rows=rows)
        assert got.schema == whole.schema and got.equals(whole)
        assert got["half"].to_pylist() == [None, None, None, 0.5, 1.0, None, 2.0]
    named = transform_on_demand(_halves, table, True, batch_rows=3)
    assert set(named.column_names) == {"_halves__half", "_halves__paid_hour"}


class _Joined(RetrievalJob):  # type: ignore[misc]  # Feast is untyped
    """A store's job: its joined table, its own extra method, Feast's base to_arrow."""

    def __init__(self, table: pa.Table, refs: list[str]) -> None:
        self.table, self.refs = table, refs

    def _to_arrow_internal(self, timeout: int | None = None) -> pa.Table:
        return self.table

    def _to_df_internal(self, timeout: int | None = None) -> Any:
        return self.table.to_pandas()

    @property
    def full_feature_names(self) -> bool:
        return False

    @property
    def on_demand_feature_views(self) -> list[Any]:
        return [_halves]

    @property
    def metadata(self) -> Any:
        return SimpleNamespace(features=self.refs)

    def explain(self) -> str:  # a method of the store's own job, beyond Feast's API
        return "the store's own"


def test_a_wrapped_stores_job_answers_as_feasts_own_and_keeps_its_methods(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    times = [datetime(2026, 3, 1, h, tzinfo=UTC) for h in range(5)]
    table = pa.table(
        {"amount": [1.0, 500.0, None, 4.0, 6.0], "paid_at": pa.array(times, pa.timestamp("us", tz="UTC"))}
    )
    inner = _Joined(table, ["_halves:half"])  # only "half" asked for
    wrapped = OnDemandRetrievalJob(inner, batch_rows=2)
    function, calls = _halves.feature_transformation.udf, []
    monkeypatch.setattr(
        _halves.feature_transformation, "udf", lambda inputs: calls.append(sorted(inputs)) or function(inputs)
    )
    got = wrapped.to_df()
    assert calls == [["amount", "paid_at"]] * 3  # the wrapper's way: batches of 2, only what it reads
    feasts = inner.to_df()  # Feast's RetrievalJob.to_df on the inner job: one call
    assert len(calls) == 4
    assert list(got.columns) == list(feasts.columns) == ["amount", "paid_at", "half"]
    assert got.equals(feasts)
    assert wrapped.explain() == "the store's own"
    assert OnDemandRetrievalJob(_Joined(table, []), batch_rows=2).to_df().columns[-1] == "paid_hour"


_card = Entity(name="card", join_keys=["card"], value_type=ValueType.INT64)
_cards = FeatureView(
    name="cards",
    entities=[_card],
    schema=[Field(name="x", dtype=Float64)],
    source=FileSource(name="cards_source", path="cards.parquet", timestamp_field="ts"),
)


@on_demand_feature_view(sources=[_cards], schema=[Field(name="y", dtype=Float64)], mode="python")
def _scaled(inputs: dict[str, list]) -> dict[str, list]:
    return {"y": [x * 10 + card for x, card in zip(inputs["x"], inputs["card"], strict=True)]}


@pytest.mark.parametrize("full_feature_names", [True, False])
def test_a_feature_under_both_names_and_an_entity_column_reach_the_function_as_feast_hands_them(
    full_feature_names: bool,
) -> None:
    """The table holds the entity key the function reads, and the feature both as the view's
    (``cards__x``) and as another column named ``x``: Feast hands the function the view's value."""
    table = pa.table({"card": [1, 2, 3], "x": [100.0, 200.0, 300.0], "cards__x": [1.0, 2.0, 3.0]})
    feasts = _scaled.transform_arrow(table, full_feature_names)  # Feast's own call
    ours = transform_on_demand(_scaled, table, full_feature_names, batch_rows=2)
    assert ours.column_names == feasts.column_names
    assert ours.equals(feasts)
    assert ours.column(0).to_pylist() == [11.0, 22.0, 33.0]


def test_the_executors_schema_is_what_the_driver_appends() -> None:
    times = [datetime(2026, 3, 1, h, tzinfo=UTC) for h in range(3)]
    table = pa.table({"amount": [1.0, 500.0, None], "paid_at": pa.array(times, pa.timestamp("us", tz="UTC"))})
    for refs in ([], ["_halves:half"], ["_halves:paid_hour", "_halves:half"]):
        for full in (False, True):
            appended = with_on_demand_features(table, [_halves], refs, full, batch_rows=2)
            fields = on_demand_fields([_halves], refs, full)
            assert sorted(f.name for f in fields) == sorted(appended.column_names[2:]), (refs, full)
            for field in fields:
                assert appended.schema.field(field.name).type == field.type
