"""Concurrent single predictions scored together: one online read and one model call per gather.

Each ``POST /predict`` costs a fixed part (Feast's request plan and response, the Redis
round trip, the model call, the log hand-off) and a small per-row part. When several
callers are waiting, :class:`MicroBatcher` scores the requests that reached the handler
in the same few event-loop turns in one :meth:`Predictor.predict` call, so the fixed
part is paid once per gather instead of once per request. It never waits on a timer: a
lone request is scored after at most ``gather_turns`` loop turns (microseconds), and a
gather only grows while requests keep arriving, up to ``max_rows``.

Every request of a gather gets its own answer; an error of the whole call (the online
store down, no champion) is every request's error, as it would have been one by one.
Any other failure of a gather is retried request by request, so one caller's bad luck
stays its own; no caller is ever left waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from serving.schemas import PredictRequest, PredictResponse
from skewless.errors import SkewlessError

__all__ = ["ON_LOOP_ROWS", "MicroBatcher"]

ON_LOOP_ROWS = 50  # batches up to this size are scored on the event loop (a few ms); gathers too

Predict = Callable[[Sequence[PredictRequest]], list[PredictResponse]]


class MicroBatcher:
    """Gathers concurrent ``/predict`` calls on one event loop into batched ``predict`` calls.

    Args:
        predict: scores a batch (``Predictor.predict``), in request order.
        max_rows: the largest gather.
        gather_turns: event-loop turns to wait for more requests while they keep coming.
        on_batch: called with each gather's size (a metric).
    """

    def __init__(
        self,
        predict: Predict,
        max_rows: int = 64,
        gather_turns: int = 3,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        if max_rows < 1:
            raise ValueError(f"max_rows must be at least 1, not {max_rows}")
        self._predict = predict
        self.max_rows = max_rows
        self.gather_turns = gather_turns
        self._on_batch = on_batch
        self._waiting: list[tuple[PredictRequest, asyncio.Future[PredictResponse]]] = []
        self._draining = False
        self._drainer: asyncio.Task[None] | None = None

    async def predict(self, request: PredictRequest) -> PredictResponse:
        """Score ``request``, together with whatever other requests are waiting."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[PredictResponse] = loop.create_future()
        self._waiting.append((request, answer))
        if not self._draining:
            self._draining = True
            self._drainer = loop.create_task(self._drain())  # kept: a task nobody holds can vanish
        return await answer

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await self._gather()
                batch, self._waiting = self._waiting[: self.max_rows], self._waiting[self.max_rows :]
                self._score(batch)
        finally:
            self._draining = False

    async def _gather(self) -> None:
        """Yield to the loop while more requests are reaching the handler (bounded)."""
        for _ in range(self.gather_turns):
            if len(self._waiting) >= self.max_rows:
                return
            seen = len(self._waiting)
            await asyncio.sleep(0)
            if len(self._waiting) == seen:
                return

    def _score(self, batch: list[tuple[PredictRequest, asyncio.Future[PredictResponse]]]) -> None:
        try:
            if self._on_batch is not None:
                self._on_batch(len(batch))
            try:
                responses = self._predict([request for request, _ in batch])
            except SkewlessError as error:  # the store down, no champion: every caller's answer alike
                _fail(batch, error)
                return
            except Exception:
                if len(batch) == 1:
                    raise
                # Something about one request (or a bug): score each alone, so one caller's
                # failure is not the whole gather's.
                for one in batch:
                    self._score([one])
                return
            for (_, answer), response in zip(batch, responses, strict=True):
                if not answer.done():
                    answer.set_result(response)
        except Exception as error:  # whatever went wrong, no caller is left waiting
            _fail(batch, error)


def _fail(batch: list[tuple[PredictRequest, asyncio.Future[PredictResponse]]], error: Exception) -> None:
    for _, answer in batch:
        if not answer.done():
            answer.set_exception(error)
