"""The prediction API as a client sees it: uvicorn on loopback (in this process; a process of its own
where SIGTERM is the subject)."""

from __future__ import annotations

import signal
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

from feature_repo.operations import historical_features, open_feature_store
from skewless.model_input import FeatureEncoding
from tests.serving.client import call, transaction
from tests.serving.conftest import LiveApi, served_log, start_api, stop_api
from tests.worlds import TrainedWorld

pytestmark = pytest.mark.integration


def test_predict_answers_with_score_decision_and_model(api: LiveApi, served: TrainedWorld) -> None:
    status, body = call(api, "POST", "/predict", transaction(served.parity_row))
    assert status == 200, body
    assert 0 <= body["fraud_probability"] <= 1 and body["decision"] in ("review", "approve")
    assert body["model_name"] == "fraud_detection" and body["model_version"] == served.outcome.run.version
    assert body["missing_features"] == [] and body["degraded"] is False and body["request_id"]


def test_api_feature_vector_equals_the_training_row(api: LiveApi, served: TrainedWorld) -> None:
    """Training-serving parity: same transaction, same features, same encoded vector."""
    row = served.parity_row
    status, body = call(api, "POST", "/predict", transaction(row))
    assert status == 200, body
    deadline = time.monotonic() + 10
    logged = pd.DataFrame()
    while logged.empty and time.monotonic() < deadline:
        log = served_log(served.settings)
        logged = log[log["request_id"] == body["request_id"]] if not log.empty else log
        time.sleep(0.2)
    assert len(logged) == 1
    status, info = call(api, "GET", "/model")
    features = info["features"]
    train = served.training_set.frame.query("split == 'train'")
    encoding = FeatureEncoding.fit(train, features, ["age_band", "merchant_category", "txn_channel"])
    served_vector = encoding.encode(logged.reset_index(drop=True))
    training_vector = encoding.encode(pd.DataFrame([row]).reset_index(drop=True))
    np.testing.assert_allclose(served_vector, training_vector, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert abs(body["fraud_probability"] - float(logged["score"].iloc[0])) < 1e-12


def test_unknown_customer_is_scored_with_missing_features(api: LiveApi, served: TrainedWorld) -> None:
    status, body = call(api, "POST", "/predict", transaction(served.parity_row, customer_id=987_654_321))
    assert status == 200, body
    assert "txn_count_7d" in body["missing_features"] and "merchant_category" not in body["missing_features"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount": -5}, "amount"),
        ({"merchant_country": "France"}, "merchant_country"),
        ({"channel": "fax"}, "channel"),
        ({"customer_id": "abc"}, "customer_id"),
        ({"surprise": 1}, "surprise"),
        ({"transaction_time": "2026-01-01T00:00:00"}, "transaction_time"),  # no UTC offset
    ],
)
def test_bad_input_is_422_naming_the_field(
    api: LiveApi, served: TrainedWorld, change: dict[str, Any], field: str
) -> None:
    status, body = call(api, "POST", "/predict", transaction(served.parity_row, **change))
    assert status == 422
    assert any(field in map(str, error["loc"]) for error in body["detail"])


def test_batch_and_its_size_limit(api: LiveApi, served: TrainedWorld) -> None:
    one = transaction(served.parity_row)
    status, body = call(api, "POST", "/predict/batch", {"transactions": [one] * 3})
    assert status == 200 and len(body["predictions"]) == 3
    status, body = call(api, "POST", "/predict/batch", {"transactions": [one] * 51})
    assert status == 413 and "limit of 50" in body["detail"]
    status, _ = call(api, "POST", "/predict/batch", {"transactions": []})
    assert status == 422


def test_health_model_metrics_and_openapi(api: LiveApi, served: TrainedWorld) -> None:
    assert call(api, "GET", "/health/live")[0] == 200
    status, ready = call(api, "GET", "/health/ready")
    assert status == 200 and ready["online_store"] == "reachable"
    status, info = call(api, "GET", "/model")
    assert info["alias"] == "champion" and info["feature_service"] == "fraud_detection_v1"
    call(api, "POST", "/predict", transaction(served.parity_row))
    status, text = call(api, "GET", "/metrics")
    for name in (
        "skewless_request_duration_seconds_bucket",
        "skewless_prediction_score_bucket",
        "skewless_features_missing_total",
        "skewless_online_store_errors_total",
        "skewless_model_info",
    ):
        assert name in text
    assert 'endpoint="/predict",status="200"' in text
    status, openapi = call(api, "GET", "/openapi.json")
    assert {"/predict", "/predict/batch", "/health/live", "/health/ready", "/model", "/metrics"} <= set(
        openapi["paths"]
    )
    assert {"PredictRequest", "PredictResponse", "BatchRequest", "HealthResponse"} <= set(
        openapi["components"]["schemas"]
    )


@pytest.mark.slow
def test_sigterm_flushes_the_served_log(served: TrainedWorld) -> None:
    api = start_api(served.settings, SKEWLESS_LOG_FLUSH_SECONDS="600", SKEWLESS_LOG_FLUSH_ROWS="100000")
    ids = []
    for amount in (10.0, 20.0, 30.0, 40.0, 50.0):
        status, body = call(api, "POST", "/predict", transaction(served.parity_row, amount=amount))
        assert status == 200
        ids.append(body["request_id"])
    assert not set(ids) & set(served_log(served.settings).get("request_id", pd.Series(dtype=str)))
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why.
    assert stop_api(api) in (0, -signal.SIGTERM)
    logged = served_log(served.settings)
    assert set(ids) <= set(logged["request_id"])
    assert not list(served.settings.layout.served_log_dir.rglob("*.tmp"))


def test_a_row_older_than_its_ttl_is_served_missing_as_training_reads_it(
    api: LiveApi, served: TrainedWorld
) -> None:
    """Feast's online store returns an entity's last row however old; the point-in-time join
    finds nothing older than the view's TTL. A customer back after 40 quiet days must be
    scored like a customer without history, not on statistics training never saw."""
    row = served.parity_row
    later = (pd.Timestamp(row["transaction_time"]) + pd.Timedelta(days=40)).isoformat()
    status, back = call(api, "POST", "/predict", transaction(row, transaction_time=later))
    assert status == 200, back
    # customer_activity (TTL 30 days) and merchant_stats (2 days) expired; the profile (10 years) did not.
    assert {"txn_count_7d", "amount_mean_30d", "merchant_txn_count_30d"} <= set(back["stale_features"])
    assert "credit_limit" not in back["stale_features"] and "credit_limit" not in back["missing_features"]
    assert set(back["stale_features"]) <= set(back["missing_features"])
    # The on-demand transforms were rerun without the expired inputs: the vector is that of
    # a customer the store never saw, at the same time and merchant, apart from the profile.
    status, unknown = call(
        api, "POST", "/predict", transaction(row, transaction_time=later, customer_id=987_654_322)
    )
    assert status == 200, unknown
    deadline, log = time.monotonic() + 10, pd.DataFrame()
    while time.monotonic() < deadline and not {back["request_id"], unknown["request_id"]} <= set(
        log.get("request_id", [])
    ):
        time.sleep(0.2)
        log = served_log(served.settings)
    rows = log.set_index("request_id").loc[[back["request_id"], unknown["request_id"]]]
    activity = [
        "txn_count_7d",
        "amount_mean_30d",
        "amount_to_mean_30d",
        "seconds_since_last_txn",
        "txn_count_1h_now",
    ]
    expired_vector, unknown_vector = rows[activity].to_numpy(dtype=float)
    np.testing.assert_array_equal(expired_vector, unknown_vector)
    # The features that did not expire are what the point-in-time join gives for that request:
    # the transforms still read the profile (home country, account opening) and the request.
    # (The expired ones are not compared: offline holds this customer's later activity, which
    # this online store, materialized up to the parity row, never received.)
    status, info = call(api, "GET", "/model")
    request = pd.DataFrame([transaction(row, transaction_time=later)]).assign(request_id=back["request_id"])
    request["transaction_time"] = pd.to_datetime(request["transaction_time"], utc=True)
    store = open_feature_store(served.settings)
    offline = historical_features(store, info["feature_service"], request).iloc[0]
    served_row = rows.loc[back["request_id"]]
    kept = ["age_band", "credit_limit", "txn_amount", "txn_channel", "is_foreign", "hour_of_day", "is_night"]
    kept += ["account_age_days", "is_new_account"]
    assert served_row[kept].notna().all(), served_row[kept]
    assert served_row[kept].to_dict() == offline[kept].to_dict()
    # In time, the same customer's row is fresh and served as it is.
    status, fresh = call(api, "POST", "/predict", transaction(row))
    assert status == 200 and fresh["stale_features"] == [] and fresh["missing_features"] == []
