"""The prediction API as a client sees it: uvicorn on loopback (in this process; a process of its own
where SIGTERM is the subject)."""

from __future__ import annotations

import http.client
import json
import signal
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from feature_repo.operations import historical_features, lookup_online_features, open_feature_store
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


def test_batch_scoring_gives_the_transaction_the_score_predict_gives(
    api: LiveApi, served: TrainedWorld, tmp_path: Path
) -> None:
    """`skewless score` (historical features as of the transaction) and /predict (the online store)
    agree on the same transaction: batch and real-time inference are one model on one service."""
    from skewless.registry import CHAMPION
    from tests.conftest import QUIET
    from training.batch_scoring import score_transactions

    body = transaction(served.parity_row)
    status, answer = call(api, "POST", "/predict", body)
    assert status == 200, answer
    scored = score_transactions(
        served.settings, served.registry, pd.DataFrame([body]), CHAMPION, tmp_path, QUIET
    )
    [written] = pd.read_parquet(scored.files[0]).to_dict("records")
    assert abs(written["score"] - answer["fraud_probability"]) < 1e-12
    assert written["model_version"] == answer["model_version"] and written["decision"] == answer["decision"]


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
def test_sigterm_flushes_the_served_log(served: TrainedWorld, tmp_path: Path) -> None:
    printed = tmp_path / "serve.log"
    api = start_api(
        served.settings, printed, SKEWLESS_LOG_FLUSH_SECONDS="600", SKEWLESS_LOG_FLUSH_ROWS="100000"
    )
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
    # What the operator saw: where the API listens, then a line per request.
    text = printed.read_text()
    assert f"Skewless API for 'fraud_detection@champion' (embedded profile) on {api.url}" in text
    assert text.count('"POST /predict HTTP/1.1" 200') == 5


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
    # `skewless lookup` (lookup_online_features) applies the same TTL rule: it shows what the model got.
    looked_up = lookup_online_features(store, info["feature_service"], [request.iloc[0].to_dict()])
    assert looked_up["txn_count_7d"] == [None] and looked_up["merchant_txn_count_30d"] == [None]
    np.testing.assert_array_equal(
        np.array([looked_up[name][0] for name in activity], dtype=float), expired_vector
    )
    assert {name: looked_up[name][0] for name in kept} == served_row[kept].to_dict()
    # In time, the same customer's row is fresh and served as it is.
    status, fresh = call(api, "POST", "/predict", transaction(row))
    assert status == 200 and fresh["stale_features"] == [] and fresh["missing_features"] == []


def _raw(api: LiveApi, path: str, data: bytes, timeout: float = 30) -> tuple[int, bytes, float]:
    """POST raw bytes; returns (status, body, seconds)."""
    request = urllib.request.Request(f"{api.url}{path}", data=data, method="POST",
                                     headers={"content-type": "application/json"})  # fmt: skip
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read(), time.perf_counter() - started


ABUSE = [  # (what is sent in place of a good field, as raw JSON text), from issue 15's list
    ("amount", "NaN"), ("amount", "Infinity"), ("amount", "-Infinity"), ("amount", "1e309"),
    ("amount", '"12.5"'), ("amount", "true"), ("merchant_id", '"3"'), ("customer_id", "5.0"),
    ("transaction_time", '"7"'), ("transaction_time", '"9999-12-31T23:59:59-14:00"'),
    ("transaction_time", '"0001-01-01T00:00:00+14:00"'), ("transaction_time", '"1999-12-31T23:59:59Z"'),
    ("transaction_time", "1714567890"),
]  # fmt: skip


@pytest.mark.parametrize(("field", "literal"), ABUSE, ids=[f"{f}={v}" for f, v in ABUSE])
def test_abusive_values_are_refused_with_422_naming_the_field_never_echoing_it(
    api: LiveApi, served: TrainedWorld, field: str, literal: str
) -> None:
    good = json.dumps(transaction(served.parity_row, **{field: "PLACEHOLDER"}))
    status, raw, _ = _raw(api, "/predict", good.replace('"PLACEHOLDER"', literal).encode())
    assert status == 422, raw[:300]
    detail = json.loads(raw)["detail"]
    assert [problem["loc"] for problem in detail] == [["body", field]]
    echoed = literal.strip('"')
    assert echoed not in raw.decode() and "input" not in detail[0]


def _post_head(api: LiveApi, headers: dict[str, str], chunks: int = 0) -> tuple[int, str, float]:
    """Send a request's head (and ``chunks`` chunked 64 KiB pieces of a body), then read the answer."""
    host, port = api.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    started = time.perf_counter()
    connection.putrequest("POST", "/predict/batch")
    for name, value in headers.items():
        connection.putheader(name, value)
    connection.endheaders()
    piece = b'{"customer_id": 1},' * 3_500
    try:
        for _ in range(chunks):
            connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered and closed before the body was all sent: what it should do
    response = connection.getresponse()
    answer = response.status, response.read().decode(), time.perf_counter() - started
    connection.close()
    return answer


def test_not_json_is_400_and_a_huge_body_is_refused_before_it_is_read(api: LiveApi) -> None:
    status, raw, _ = _raw(api, "/predict", b"{not json")
    assert status == 400 and json.loads(raw) == {"detail": "the body is not valid JSON"}
    # 30 MB announced: refused from the head alone, in milliseconds, with a short answer
    status, text, seconds = _post_head(
        api, {"content-type": "application/json", "content-length": "31457280"}
    )
    assert status == 413 and "larger than 1,048,576 bytes" in text and len(text) < 200 and seconds < 1.0
    # the same streamed without a length: refused once the bytes received pass the cap
    status, text, seconds = _post_head(
        api, {"content-type": "application/json", "transfer-encoding": "chunked"}, chunks=480
    )
    assert status == 413 and "larger than 1,048,576 bytes" in text and seconds < 5.0
    started = time.perf_counter()
    assert call(api, "GET", "/health/live")[0] == 200 and time.perf_counter() - started < 0.5
