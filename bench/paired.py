"""The two targets that compare the service with the predictor in process, measured in
alternation: a lone request against a batch-1 call, and 64 clients against batched calls.

Each target is a ratio of two figures taken on one machine whose speed drifts by 10 to 20 %
over minutes (other tenants share the host). Taken minutes apart and on different sentences,
the lone ratio moved between 1.16× and 1.58× and the 64-client one between 66 % and 85 % from
run to run. Short blocks of in-process calls and of HTTP requests, alternating over the same
sentences, let the drift cancel.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench.load import drive
from bench.throughput import Classify


@dataclass(frozen=True)
class LonePair:
    target: str
    rounds: int
    per_round: int
    requests: int
    errors: int
    forward_p50_ms: float
    service_p50_ms: float
    round_ratios: list[float]

    @property
    def ratio(self) -> float:
        """The median over rounds of each round's service p50 over its forward p50."""
        return statistics.median(self.round_ratios)


@dataclass(frozen=True)
class LoneConfig:
    rounds: int
    per_round: int
    limits: tuple[float, float]
    """The load generator's time limit per round and timeout per request, in seconds."""


def lone_pair(
    target: str, url: str, classify: Classify, texts: Sequence[str], config: LoneConfig
) -> LonePair:
    """``config.rounds`` times: ``config.per_round`` sentences through ``classify`` one at a
    time, then the same sentences as single ``POST /classify`` requests from one client."""
    classify([texts[0]])
    asyncio.run(drive(url, texts, 1, 1, *config.limits))
    forward: list[float] = []
    service: list[float] = []
    ratios: list[float] = []
    errors = 0
    for number in range(config.rounds):
        block = nth_block(texts, number, config.per_round)
        block_forward = [call_seconds(classify, text) for text in block]
        tally, _ = asyncio.run(drive(url, block, 1, len(block), *config.limits))
        if tally.latencies:
            ratios.append(statistics.median(tally.latencies) / statistics.median(block_forward))
        forward += block_forward
        service += tally.latencies
        errors += sum(tally.errors.values())
    return LonePair(
        target,
        config.rounds,
        config.per_round,
        len(service),
        errors,
        1000 * statistics.median(forward),
        1000 * statistics.median(service),
        ratios,
    )


@dataclass(frozen=True)
class PeakPair:
    target: str
    concurrency: int
    batch_size: int
    rounds: int
    errors: int
    service_per_s: float
    predictor_per_s: float
    service_runs: list[float]
    predictor_runs: list[float]

    @property
    def ratio(self) -> float:
        """The median over rounds of each round's service rate over its predictor rate."""
        pairs = zip(self.service_runs, self.predictor_runs, strict=True)
        return statistics.median(service / predictor for service, predictor in pairs)


def peak_pair(
    target: str,
    url: str,
    classify: Classify,
    texts: Sequence[str],
    config: PeakConfig,
) -> PeakPair:
    """``config.rounds`` times: a block of sentences through ``classify`` in batches, then
    ``config.requests`` single-sentence requests over the same block from
    ``config.concurrency`` clients; each side's rate in every round, and their medians."""
    classify(list(texts[: config.batch_size]))
    asyncio.run(drive(url, texts, config.concurrency, config.concurrency, *config.limits))
    predictor_runs: list[float] = []
    service_runs: list[float] = []
    errors = 0
    for number in range(config.rounds):
        block = nth_block(texts, number, config.sentences)
        predictor_runs.append(batched_rate(classify, block, config.batch_size))
        tally, seconds = asyncio.run(
            drive(url, block, config.concurrency, config.requests, *config.limits)
        )
        service_runs.append(len(tally.latencies) / seconds)
        errors += sum(tally.errors.values())
    return PeakPair(
        target,
        config.concurrency,
        config.batch_size,
        config.rounds,
        errors,
        statistics.median(service_runs),
        statistics.median(predictor_runs),
        service_runs,
        predictor_runs,
    )


@dataclass(frozen=True)
class PeakConfig:
    concurrency: int
    batch_size: int
    rounds: int
    sentences: int
    requests: int
    limits: tuple[float, float]
    """The load generator's time limit per round and timeout per request, in seconds."""


def nth_block(texts: Sequence[str], number: int, size: int) -> list[str]:
    """The ``number``-th run of ``size`` consecutive sentences, wrapping around the sample."""
    return [texts[(number * size + i) % len(texts)] for i in range(size)]


def batched_rate(classify: Classify, block: Sequence[str], batch_size: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(block), batch_size):
        classify(list(block[i : i + batch_size]))
    return len(block) / (time.perf_counter() - start)


def call_seconds(classify: Classify, text: str) -> float:
    start = time.perf_counter()
    classify([text])
    return time.perf_counter() - start
