"""A lone request against the predictor's own batch-1 call, measured in alternation.

The lone-latency target is a ratio of two times taken on one machine whose speed drifts by
10 to 20 % over minutes (other tenants share the host). Taken minutes apart and on different
sentences, the ratio moved between 1.16× and 1.58× from run to run. Short blocks of in-process
calls and of HTTP requests, alternating over the same sentences, let the drift cancel.
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
    requests: int
    errors: int
    forward_p50_ms: float
    service_p50_ms: float

    @property
    def ratio(self) -> float:
        return self.service_p50_ms / self.forward_p50_ms


def lone_pair(
    target: str,
    url: str,
    classify: Classify,
    texts: Sequence[str],
    rounds: int,
    per_round: int,
    time_limit_s: float,
    timeout_s: float,
) -> LonePair:
    """``rounds`` times: ``per_round`` sentences through ``classify`` one at a time, then the
    same sentences as single ``POST /classify`` requests from one client."""
    classify([texts[0]])
    asyncio.run(drive(url, texts, 1, 1, time_limit_s, timeout_s))
    forward: list[float] = []
    service: list[float] = []
    errors = 0
    for number in range(rounds):
        block = [texts[(number * per_round + i) % len(texts)] for i in range(per_round)]
        forward += [call_seconds(classify, text) for text in block]
        tally, _ = asyncio.run(drive(url, block, 1, len(block), time_limit_s, timeout_s))
        service += tally.latencies
        errors += sum(tally.errors.values())
    return LonePair(
        target,
        rounds,
        len(service),
        errors,
        1000 * statistics.median(forward),
        1000 * statistics.median(service),
    )


def call_seconds(classify: Classify, text: str) -> float:
    start = time.perf_counter()
    classify([text])
    return time.perf_counter() - start
