"""The micro-batcher: concurrent requests share a forward pass; a lone one does not wait."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from service.batching import MicroBatcher, NoModelError, Outcome
from service.metrics import Metrics
from service.model_holder import ModelHolder
from stance.predictor import Prediction
from stance.registry import ModelStore

from .fakes import FakeLoader, point_current


async def started_batcher(
    models_dir: Path, loader: FakeLoader, max_texts: int = 64, wait_s: float = 0.005
) -> MicroBatcher:
    holder = await serving_holder(models_dir, loader)
    batcher = MicroBatcher(holder, Metrics(), max_texts=max_texts, wait_s=wait_s)
    batcher.start()
    return batcher


async def serving_holder(models_dir: Path, loader: FakeLoader) -> ModelHolder:
    point_current(models_dir, "v1")
    holder = ModelHolder(ModelStore(models_dir), loader, Metrics())
    await holder.reload()
    return holder


def test_concurrent_requests_share_one_forward_pass(models_dir: Path, loader: FakeLoader) -> None:
    async def scenario() -> list[Outcome]:
        batcher = await started_batcher(models_dir, loader)
        outcomes = await asyncio.gather(*(batcher.predict([f"text {i}"]) for i in range(5)))
        await batcher.stop()
        return outcomes

    outcomes = asyncio.run(scenario())

    fake = loader.loaded["v1"]
    assert fake.batches[1:] == [[f"text {i}" for i in range(5)]]
    assert [o.predictions[0] for o in outcomes] == [fake.predict_one(f"text {i}") for i in range(5)]


def test_a_micro_batch_holds_at_most_max_texts(models_dir: Path, loader: FakeLoader) -> None:
    async def scenario() -> None:
        batcher = await started_batcher(models_dir, loader, max_texts=2)
        await asyncio.gather(*(batcher.predict([f"text {i}"]) for i in range(5)))
        await batcher.stop()

    asyncio.run(scenario())

    assert [len(batch) for batch in loader.loaded["v1"].batches[1:]] == [2, 2, 1]


def test_a_request_bigger_than_max_texts_is_not_split(models_dir: Path, loader: FakeLoader) -> None:
    async def scenario() -> Outcome:
        batcher = await started_batcher(models_dir, loader, max_texts=2)
        outcome = await batcher.predict(["a", "b", "c", "d", "e"])
        await batcher.stop()
        return outcome

    outcome = asyncio.run(scenario())

    assert loader.loaded["v1"].batches[1:] == [["a", "b", "c", "d", "e"]]
    assert len(outcome.predictions) == 5


def test_each_request_gets_its_own_slice_of_the_batch(models_dir: Path, loader: FakeLoader) -> None:
    requests = [["a"], ["b", "c", "d"], ["e", "f"]]

    async def scenario() -> list[Outcome]:
        batcher = await started_batcher(models_dir, loader)
        outcomes = await asyncio.gather(*(batcher.predict(texts) for texts in requests))
        await batcher.stop()
        return outcomes

    outcomes = asyncio.run(scenario())

    fake = loader.loaded["v1"]
    assert [o.predictions for o in outcomes] == [
        [fake.predict_one(t) for t in texts] for texts in requests
    ]


def test_a_lone_request_does_not_wait_for_the_batch_window(
    models_dir: Path, loader: FakeLoader
) -> None:
    async def scenario() -> float:
        batcher = await started_batcher(models_dir, loader, wait_s=5.0)
        started = time.perf_counter()
        await batcher.predict(["alone"])
        elapsed = time.perf_counter() - started
        await batcher.stop()
        return elapsed

    assert asyncio.run(scenario()) < 1.0


def test_a_batch_in_flight_finishes_on_the_model_it_started_with(
    models_dir: Path, loader: FakeLoader
) -> None:
    async def scenario() -> tuple[str, str]:
        holder = await serving_holder(models_dir, loader)
        batcher = MicroBatcher(holder, Metrics(), max_texts=64, wait_s=0.005)
        batcher.start()
        old = loader.loaded["v1"]
        running, release = threading.Event(), threading.Event()
        unblocked = old.predict

        def blocking_predict(texts: Sequence[str]) -> list[Prediction]:
            running.set()
            release.wait(timeout=10)
            return unblocked(texts)

        old.predict = blocking_predict
        in_flight = asyncio.create_task(batcher.predict(["in flight"]))
        await asyncio.to_thread(running.wait, 10)
        point_current(models_dir, "v2")
        await holder.reload()
        release.set()
        first, second = await in_flight, await batcher.predict(["after"])
        await batcher.stop()
        return first.model_version, second.model_version

    assert asyncio.run(scenario()) == ("v1", "v2")


def test_requests_after_stop_are_refused(models_dir: Path, loader: FakeLoader) -> None:
    async def scenario() -> None:
        batcher = await started_batcher(models_dir, loader)
        await batcher.stop()
        await batcher.predict(["late"])

    with pytest.raises(NoModelError):
        asyncio.run(scenario())


def test_a_cancelled_request_is_left_out_of_the_batch(models_dir: Path, loader: FakeLoader) -> None:
    async def scenario() -> None:
        batcher = await started_batcher(models_dir, loader)
        gone = asyncio.create_task(batcher.predict(["gone"]))
        kept = asyncio.create_task(batcher.predict(["kept"]))
        await asyncio.sleep(0)
        gone.cancel()
        await kept
        await batcher.stop()

    asyncio.run(scenario())

    assert loader.loaded["v1"].batches[1:] == [["kept"]]
