"""Concurrent single /predict requests scored together: each caller still gets its own answer."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from serving.micro_batch import MicroBatcher
from serving.schemas import PredictRequest, PredictResponse
from skewless.errors import OnlineStoreError
from tests.serving.client import call, transaction
from tests.serving.conftest import LiveApi
from tests.worlds import TrainedWorld


def _request(customer: int) -> PredictRequest:
    return PredictRequest(
        customer_id=customer, merchant_id=7, amount=12.5 + customer, merchant_country="FR", channel="online"
    )


class RecordingPredict:
    """Answers each request with its own customer id in ``request_id``; records every call's size."""

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on_call = fail_on_call

    def __call__(self, requests: Sequence[PredictRequest]) -> list[PredictResponse]:
        self.calls.append(len(requests))
        if self.fail_on_call == len(self.calls):
            raise OnlineStoreError("online store unavailable: test")
        return [
            PredictResponse(
                request_id=str(r.customer_id),
                fraud_probability=0.5,
                decision="approve",
                threshold=0.9,
                model_name="m",
                model_version=1,
                missing_features=[],
                stale_features=[],
                degraded=False,
            )  # fmt: skip
            for r in requests
        ]


def _run_concurrently(batcher: MicroBatcher, customers: list[int]) -> list[Any]:
    async def main() -> list[Any]:
        calls = [batcher.predict(_request(c)) for c in customers]
        return await asyncio.gather(*calls, return_exceptions=True)

    return asyncio.run(main())


def test_concurrent_requests_are_scored_in_one_call_each_answered_alone() -> None:
    predict = RecordingPredict()
    sizes: list[int] = []
    answers = _run_concurrently(MicroBatcher(predict, max_rows=64, on_batch=sizes.append), list(range(1, 11)))
    assert predict.calls == [10] and sizes == [10]
    assert [a.request_id for a in answers] == [str(c) for c in range(1, 11)]


def test_a_gather_never_exceeds_max_rows_and_a_lone_request_is_scored_alone() -> None:
    predict = RecordingPredict()
    batcher = MicroBatcher(predict, max_rows=4)
    answers = _run_concurrently(batcher, list(range(1, 11)))
    assert predict.calls == [4, 4, 2]
    assert [a.request_id for a in answers] == [str(c) for c in range(1, 11)]
    _run_concurrently(batcher, [42])
    assert predict.calls[-1] == 1


def test_a_failed_call_fails_its_callers_and_the_next_gather_works() -> None:
    predict = RecordingPredict(fail_on_call=1)
    batcher = MicroBatcher(predict, max_rows=3)
    answers = _run_concurrently(batcher, [1, 2, 3, 4])
    assert [type(a).__name__ for a in answers] == ["OnlineStoreError"] * 3 + ["PredictResponse"]
    assert _run_concurrently(batcher, [5])[0].request_id == "5"


def test_max_rows_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_rows must be at least 1"):
        MicroBatcher(RecordingPredict(), max_rows=0)


def _gathered(api: LiveApi) -> tuple[float, float]:
    _, text = call(api, "GET", "/metrics")
    count = re.search(r"^skewless_predict_gather_rows_count ([\d.e+]+)$", text, re.MULTILINE)
    total = re.search(r"^skewless_predict_gather_rows_sum ([\d.e+]+)$", text, re.MULTILINE)
    assert count and total, "the gather histogram is missing from /metrics"
    return float(count.group(1)), float(total.group(1))


@pytest.mark.integration
def test_concurrent_http_callers_get_the_scores_they_would_get_alone(
    api: LiveApi, served: TrainedWorld
) -> None:
    rows = served.training_set.frame.query("split == 'holdout'").head(16)
    bodies = [transaction(row) for _, row in rows.iterrows()]
    assert len(bodies) == 16
    alone = []
    for body in bodies:
        status, answer = call(api, "POST", "/predict", body)
        assert status == 200, answer
        alone.append(answer["fraud_probability"])
    count_before, rows_before = _gathered(api)
    together: list[Any] = [None] * len(bodies)
    for _ in range(5):  # a round where no two requests overlap would prove nothing: retry it
        start = threading.Barrier(len(bodies))

        def send(i: int, start: threading.Barrier = start) -> None:
            start.wait()
            together[i] = call(api, "POST", "/predict", bodies[i])

        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        count, total = _gathered(api)
        if total - rows_before > count - count_before:
            break
    assert total - rows_before > count - count_before, "no two concurrent requests were scored together"
    assert [status for status, _ in together] == [200] * len(bodies)
    assert [answer["fraud_probability"] for _, answer in together] == pytest.approx(alone, abs=1e-12)
    assert len({answer["request_id"] for _, answer in together}) == len(bodies)


def test_an_unexpected_failure_is_retried_alone_so_only_its_caller_fails() -> None:
    def predict(requests: Sequence[PredictRequest]) -> list[PredictResponse]:
        if any(r.customer_id == 3 for r in requests):
            raise ValueError("bad row")
        return RecordingPredict()(requests)

    answers = _run_concurrently(MicroBatcher(predict, max_rows=8), [1, 2, 3, 4])
    assert [type(a).__name__ for a in answers] == ["PredictResponse"] * 2 + ["ValueError", "PredictResponse"]


def test_a_failing_size_callback_leaves_no_caller_waiting() -> None:
    def boom(size: int) -> None:
        raise RuntimeError("metrics down")

    answers = _run_concurrently(MicroBatcher(RecordingPredict(), max_rows=8, on_batch=boom), [1, 2])
    assert [type(a).__name__ for a in answers] == ["RuntimeError", "RuntimeError"]
