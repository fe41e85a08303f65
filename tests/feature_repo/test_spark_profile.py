"""The spark profile against the embedded one, on the same simulated world.

Spark runs in local mode (``local[2]``, UTC, UI off, driver on loopback), Feast's registry and
MLflow on the local production stack, the online store a three-primary Redis Cluster. The
pipeline's tables, the point-in-time training set (on-demand features included), the model it
trains and the API's answers must all equal the embedded profile's.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlglot

from feature_repo.operations import (
    feature_service_schema,
    historical_features,
    open_feature_store,
    open_profile_spark_session,
    write_historical_features,
)
from feature_repo.operations.on_demand import OnDemandRetrievalJob
from feature_repo.pipeline import build_features, build_features_on_spark
from feature_repo.pipeline.portable import pipeline_query, render, to_spark
from simulation import simulate
from skewless.errors import ConfigurationError, InputError
from skewless.layout import DataLayout
from skewless.progress import Progress
from skewless.registry import CHAMPION
from tests.factories import make_workspace, tiny_config
from tests.serving.client import call
from tests.serving.conftest import start_api, stop_api
from tests.worlds import SparkWorld, TrainedWorld
from training.batch_scoring import REQUIRED_COLUMNS, score_transactions
from training.dataset import SPLITS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUIET = Progress(quiet=True)
TABLES = ("customer_activity", "merchant_stats", "customer_profile")


def _table(layout: DataLayout, name: str) -> pd.DataFrame:
    path = layout.feature_table_file(name) if name == "customer_profile" else layout.feature_table_dir(name)
    return pq.read_table(path).to_pandas()


def test_every_pipeline_query_transpiles_and_an_unknown_parameter_is_refused() -> None:
    for name in TABLES:
        spark_sql = to_spark(render(pipeline_query(name), _parameters()))
        assert "read_parquet" not in spark_sql and "$" not in spark_sql
        sqlglot.parse_one(spark_sql, read="spark")  # Spark's grammar takes it back
    with pytest.raises(ConfigurationError, match=r"\$nope"):
        render("SELECT * FROM transactions WHERE transaction_time < $nope", _parameters())


def _parameters() -> dict[str, object]:
    from datetime import date

    from feature_repo.pipeline.build import pipeline_parameters

    return dict(pipeline_parameters(date(2026, 1, 1), date(2026, 2, 1)))


def test_spark_pipeline_writes_the_duckdb_pipelines_tables(tmp_path: Path, spark_world: SparkWorld) -> None:
    """Byte-level values, not approximately: the SQL is one source, rounded the same way on both."""
    duck = DataLayout(tmp_path / "duckdb")
    spark = DataLayout(tmp_path / "spark")
    simulate(tiny_config(scenario="pipeline_break"), duck, QUIET)  # a feature fault from its drift date
    simulate(tiny_config(scenario="pipeline_break"), spark, QUIET)
    duck_summary = build_features(duck, QUIET)
    spark_summary = build_features_on_spark(spark, QUIET, open_profile_spark_session(spark_world.settings))
    assert spark_summary == duck_summary
    for name in TABLES:
        expected, got = _table(duck, name), _table(spark, name)
        assert len(got) > 100
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
    files = sorted(p.name for p in spark.feature_table_dir("customer_activity").iterdir())
    assert files == sorted(p.name for p in duck.feature_table_dir("customer_activity").iterdir())


def test_training_set_equals_the_embedded_profiles(
    spark_world: SparkWorld, trained_world: TrainedWorld
) -> None:
    got, expected = spark_world.outcome.training_set, trained_world.training_set
    on_demand = ["txn_count_1h_now", "seconds_since_last_txn", "amount_zscore_30d"]
    assert set(on_demand) <= set(got.features)
    frame = got.frame.reset_index(drop=True)
    pd.testing.assert_frame_equal(frame, expected.frame.reset_index(drop=True), check_exact=True)
    assert frame["txn_count_7d"].notna().mean() > 0.9  # features really joined, not two empty sets
    assert got.content_hash == expected.content_hash
    # and as the executors wrote it: partitioned by split, the same rows in each
    parts = got.path.with_name(f"{got.content_hash[:16]}-by-split")
    assert sorted(p.name for p in parts.iterdir() if p.is_dir()) == [f"split={s}" for s in sorted(SPLITS)]
    for split in SPLITS:
        written = pq.read_table(parts / f"split={split}").to_pandas().drop(columns="__skewless_row")
        same = got.frame[got.frame["split"] == split].drop(columns="split").reset_index(drop=True)
        written = written.sort_values("transaction_id", ignore_index=True)[same.columns]
        for name in same.columns:  # the times in the set's own unit (Spark's parquet has its own)
            if isinstance(same[name].dtype, pd.DatetimeTZDtype):
                written[name] = pd.to_datetime(written[name], utc=True).astype(same[name].dtype)
        pd.testing.assert_frame_equal(written, same, check_exact=True, check_dtype=False)
    # Equal training sets, deterministic LightGBM: the same model, so the same evaluation (but the
    # scoring latencies, measured).
    assert replace(spark_world.outcome.evaluation, latency_ms={}) == replace(
        trained_world.outcome.evaluation, latency_ms={}
    )


def _refuse_collecting_the_join(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any collect of Feast's joined answer to the driver (where it would run the on-demand views)
    fails the test."""

    def collected(*args: object, **kwargs: object) -> None:
        raise AssertionError("the joined set was collected to the driver")

    for method in ("to_arrow", "to_df", "_to_arrow_internal", "_to_df_internal"):
        monkeypatch.setattr(OnDemandRetrievalJob, method, collected)


def test_the_executors_add_the_on_demand_features_as_the_driver_does(
    spark_world: SparkWorld, trained_world: TrainedWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_feature_store(spark_world.settings)
    service = spark_world.outcome.training_set.feature_service
    features, _ = feature_service_schema(store, service)
    requests = spark_world.outcome.training_set.frame[
        ["transaction_id", "customer_id", "merchant_id", "amount", "merchant_country", "channel",
         "transaction_time", "split"]
    ].sample(n=400, random_state=3)  # fmt: skip
    on_driver = historical_features(store, service, requests, columns=features)

    _refuse_collecting_the_join(monkeypatch)
    written = write_historical_features(store, service, requests, tmp_path / "set", "split", features)
    assert written.values() == sorted(SPLITS)
    whole = written.read()
    assert whole["txn_count_1h_now"].notna().mean() > 0.5  # an on-demand feature, really computed
    pd.testing.assert_frame_equal(whole[on_driver.columns], on_driver, check_exact=True)
    for split in SPLITS:  # a partition at a time: that partition's requests, in their order
        expected = on_driver[requests["split"].to_numpy() == split].reset_index(drop=True)
        pd.testing.assert_frame_equal(written.read(split)[on_driver.columns], expected, check_exact=True)
    with pytest.raises(InputError, match="no partition split=nope"):
        written.read("nope")
    # the requests' columns not written join by row when read back, as they were
    lean = write_historical_features(
        store, service, requests, tmp_path / "lean", "split", features, written_requests=()
    )
    assert "transaction_id" not in pq.read_schema(next((tmp_path / "lean").rglob("*.parquet"))).names
    pd.testing.assert_frame_equal(lean.read()[on_driver.columns], on_driver, check_exact=True)
    with pytest.raises(InputError, match="Arrow skips"):
        write_historical_features(store, service, requests.assign(_part="a"), tmp_path / "x", "_part")
    with pytest.raises(InputError, match="without missing or empty values"):
        write_historical_features(store, service, requests.assign(split=""), tmp_path / "x", "split")
    with pytest.raises(ConfigurationError, match="spark profile"):
        write_historical_features(
            open_feature_store(trained_world.settings), service, requests, tmp_path / "x", "split"
        )


def test_predict_after_spark_materialization_into_redis_cluster_equals_embedded(
    spark_world: SparkWorld, trained_copy: TrainedWorld
) -> None:
    """The embedded API runs on a copy of the trained world: it logs what it serves, and other
    modules read the shared world's served log."""
    trained_world = trained_copy
    from serving.replay import request_body

    holdout = trained_world.training_set.split("holdout")
    parity = trained_world.parity_row["transaction_time"]
    rows = holdout[holdout["transaction_time"] >= parity].head(30)
    bodies = [request_body(row) for _, row in rows.iterrows()]
    embedded = start_api(trained_world.settings)
    spark = start_api(spark_world.settings, **spark_world.environment())
    try:
        answers = []
        for api in (embedded, spark):
            status, body = call(api, "POST", "/predict/batch", {"transactions": bodies})
            assert status == 200, body
            answers.append([{k: v for k, v in p.items() if k != "request_id"} for p in body["predictions"]])
        assert answers[1] == answers[0]
        assert sum(not answer["missing_features"] for answer in answers[1]) > len(bodies) // 2
    finally:
        stop_api(embedded)
        stop_api(spark)


def test_batch_scores_on_spark_are_the_embedded_profiles(
    spark_world: SparkWorld, trained_world: TrainedWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``skewless score`` on the spark profile: point-in-time features from Feast's Spark store, joined
    and transformed by the executors (never collected to the driver) and written by day, the same
    scores as the embedded profile's for the same transactions."""
    holdout = trained_world.training_set.split("holdout")
    days = holdout["transaction_time"].dt.floor("D")
    rows = holdout[days.isin(sorted(days.unique())[:2])]  # two days: two partitions (one Spark job on spark)
    transactions = rows[["transaction_id", *REQUIRED_COLUMNS]].reset_index(drop=True)
    written = {}
    for name, world in (("spark", spark_world), ("embedded", trained_world)):
        if name == "spark":
            _refuse_collecting_the_join(monkeypatch)
        else:
            monkeypatch.undo()
        scored = score_transactions(
            world.settings, world.registry, transactions, CHAMPION, tmp_path / name, QUIET
        )
        assert scored.days == 2 and scored.rows == len(transactions)
        frame = pd.concat([pd.read_parquet(path) for path in scored.files], ignore_index=True)
        written[name] = frame.drop(columns=["model_version"]).sort_values("transaction_id", ignore_index=True)
    assert written["spark"]["amount_mean_30d"].notna().mean() > 0.9  # features joined, not all missing
    assert not any(spark_world.settings.layout.staging_dir.iterdir())  # the executors' features removed
    nothing = score_transactions(
        spark_world.settings, spark_world.registry, transactions.head(0), CHAMPION, tmp_path / "none", QUIET
    )
    assert (nothing.rows, nothing.files) == (0, [])  # no Spark job for no transactions
    with pytest.raises(InputError, match="skewless_day"):
        score_transactions(
            spark_world.settings, spark_world.registry, transactions.assign(skewless_day="x"), CHAMPION,
            tmp_path / "refused", QUIET,
        )  # fmt: skip
    pd.testing.assert_frame_equal(written["spark"], written["embedded"], check_exact=True)


def test_spark_profile_without_a_spark_yaml_is_refused(tmp_path: Path) -> None:
    settings = make_workspace(tmp_path)  # embedded: no Spark in its yaml
    with pytest.raises(ConfigurationError, match="does not run on Spark"):
        open_profile_spark_session(settings)
