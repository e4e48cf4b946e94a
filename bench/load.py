"""Load on a running server: concurrent single-sentence clients, and large batch requests."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import aiohttp
import httpx

from bench.timing import LatencySummary


@dataclass(frozen=True)
class LoadResult:
    target: str
    concurrency: int
    requests: int
    errors: dict[str, int]
    seconds: float
    requests_per_s: float
    latency: LatencySummary
    passes_per_s: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class BatchResult:
    texts_per_request: int
    requests: int
    seconds: float
    sentences_per_s: float
    latency: LatencySummary


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)


async def client_loop(
    client: aiohttp.ClientSession,
    url: str,
    texts: Sequence[str],
    tickets: Iterator[int],
    deadline: float,
    tally: Tally,
) -> None:
    """One client: send the next sentence as soon as the last answer arrives, until done."""
    for ticket in tickets:
        if time.perf_counter() > deadline:
            return
        start = time.perf_counter()
        try:
            async with client.post(url, json={"text": texts[ticket % len(texts)]}) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.errors[type(exc).__name__] += 1
            continue
        if response.status != 200:
            tally.errors[f"HTTP {response.status}"] += 1
            continue
        tally.latencies.append(time.perf_counter() - start)


async def drive(
    url: str,
    texts: Sequence[str],
    concurrency: int,
    requests: int,
    time_limit_s: float,
    timeout_s: float,
) -> tuple[Tally, float]:
    """``concurrency`` keep-alive clients on aiohttp: its C HTTP parser keeps the load
    generator's own CPU cost (which shares the cores with the server) small; httpx's pure-Python
    one cost 12 ms of CPU per request at 64 clients and became the bottleneck."""
    tally = Tally()
    tickets = iter(range(requests))
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        start = time.perf_counter()
        deadline = start + time_limit_s
        await asyncio.gather(
            *(client_loop(client, url, texts, tickets, deadline, tally) for _ in range(concurrency))
        )
        return tally, time.perf_counter() - start


def concurrent_load(
    target: str,
    base_url: str,
    texts: Sequence[str],
    concurrency: int,
    requests: int,
    time_limit_s: float,
    timeout_s: float,
    passes: int = 1,
) -> LoadResult:
    """Warm up with one request per client, then measure ``passes`` runs of ``requests``
    single-sentence requests and keep the median run by throughput, as the in-process figures
    keep the median of their repeats: one pass on a shared machine moves by 10 % from run to run."""
    url = f"{base_url}/classify"
    asyncio.run(drive(url, texts, concurrency, concurrency, time_limit_s, timeout_s))
    runs = [
        measured(target, concurrency, url, texts, requests, time_limit_s, timeout_s)
        for _ in range(passes)
    ]
    return median_run(runs)


def median_run(runs: Sequence[LoadResult]) -> LoadResult:
    """The run with the median throughput (the lower middle one of an even count), carrying
    every run's throughput in ``passes_per_s``."""
    ranked = sorted(runs, key=lambda run: run.requests_per_s)
    median = ranked[(len(ranked) - 1) // 2]
    return replace(median, passes_per_s=[run.requests_per_s for run in runs])


def measured(
    target: str,
    concurrency: int,
    url: str,
    texts: Sequence[str],
    requests: int,
    time_limit_s: float,
    timeout_s: float,
) -> LoadResult:
    tally, seconds = asyncio.run(drive(url, texts, concurrency, requests, time_limit_s, timeout_s))
    done = len(tally.latencies)
    return LoadResult(
        target,
        concurrency,
        done,
        dict(tally.errors),
        seconds,
        done / seconds,
        LatencySummary.of(tally.latencies),
    )


def batch_load(
    base_url: str, texts: Sequence[str], size: int, requests: int, timeout_s: float
) -> BatchResult:
    """Sequential ``POST /classify/batch`` requests of ``size`` texts each, after one warm-up."""
    batches = [
        [texts[(r * size + i) % len(texts)] for i in range(size)] for r in range(requests + 1)
    ]
    latencies = []
    with httpx.Client(timeout=timeout_s, trust_env=False) as client:
        for number, batch in enumerate(batches):
            start = time.perf_counter()
            response = client.post(f"{base_url}/classify/batch", json={"texts": batch})
            response.raise_for_status()
            if number:
                latencies.append(time.perf_counter() - start)
    seconds = sum(latencies)
    return BatchResult(
        size, requests, seconds, size * requests / seconds, LatencySummary.of(latencies)
    )
