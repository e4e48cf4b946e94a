"""Dynamic micro-batching: concurrent requests share one forward pass.

The worker takes the oldest waiting request and adds the ones already queued behind it, up to
``max_texts`` texts. When the queue runs dry it yields to the event loop once, so requests that
are a step away from arriving can join, and then starts; it never waits longer than ``wait_s``
for stragglers, so a lone request starts at once. Requests that arrive while a forward pass runs
queue up and form the next batch. One request is never split, so all of a batch response comes
from one model version.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from service.metrics import Metrics
from service.model_holder import ModelHolder

if TYPE_CHECKING:
    from stance.predictor import Prediction, PredictorProtocol

logger = logging.getLogger(__name__)


class NoModelError(RuntimeError):
    """No model is in service (none trained yet, or the service is shutting down)."""


@dataclass(frozen=True)
class Outcome:
    model_version: str
    predictions: list[Prediction]


@dataclass
class _Job:
    texts: Sequence[str]
    future: asyncio.Future[Outcome] = field(repr=False)


class MicroBatcher:
    def __init__(
        self, holder: ModelHolder, metrics: Metrics, max_texts: int, wait_s: float
    ) -> None:
        self._holder = holder
        self._metrics = metrics
        self._max_texts = max_texts
        self._wait_s = wait_s
        self._queue: deque[_Job] = deque()
        self._arrived = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stance-inference")
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._serve(), name="stance-micro-batcher")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
        while self._queue:
            _fail([self._queue.popleft()], NoModelError("the service is shutting down"))
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def predict(self, texts: Sequence[str]) -> Outcome:
        if self._worker is None or self._worker.done():
            raise NoModelError("the micro-batcher is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(texts, future))
        self._arrived.set()
        return await future

    async def _serve(self) -> None:
        while True:
            await self._arrived.wait()
            self._arrived.clear()
            while self._queue:
                jobs = await self._gather()
                await self._run_safely(jobs)

    async def _gather(self) -> list[_Job]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait_s
        jobs = [self._queue.popleft()]
        size = len(jobs[0].texts)
        while size < self._max_texts:
            if not self._queue:
                if loop.time() >= deadline:
                    break
                await asyncio.sleep(0)
                if not self._queue:
                    break
                continue
            if size + len(self._queue[0].texts) > self._max_texts:
                break
            jobs.append(self._queue.popleft())
            size += len(jobs[-1].texts)
        return jobs

    async def _run_safely(self, jobs: list[_Job]) -> None:
        try:
            await self._run([job for job in jobs if not job.future.done()])
        except asyncio.CancelledError:
            _fail(jobs, NoModelError("the service is shutting down"))
            raise
        except Exception as exc:
            logger.exception("prediction failed", extra={"requests": len(jobs)})
            _fail(jobs, exc)

    async def _run(self, jobs: list[_Job]) -> None:
        predictor = self._holder.predictor
        if predictor is None:
            _fail(jobs, NoModelError("no model loaded"))
            return
        if not jobs:
            return
        texts = [text for job in jobs for text in job.texts]
        loop = asyncio.get_running_loop()
        predictions = await loop.run_in_executor(self._executor, predictor.predict, texts)
        self._metrics.observe_batch((p.label for p in predictions), len(texts))
        _resolve(jobs, predictor, predictions)


def _resolve(jobs: list[_Job], predictor: PredictorProtocol, predictions: list[Prediction]) -> None:
    start = 0
    for job in jobs:
        end = start + len(job.texts)
        if not job.future.done():
            job.future.set_result(Outcome(predictor.version, predictions[start:end]))
        start = end


def _fail(jobs: list[_Job], exc: Exception) -> None:
    for job in jobs:
        if not job.future.done():
            job.future.set_exception(exc)
