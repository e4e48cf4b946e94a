"""The issue's targets, each a ratio of two figures from the same run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.results import NAIVE, SERVICE, Results

MB = 1e6
READY_LIMIT_S = 5.0
RSS_LIMIT_BYTES = 1000 * MB


@dataclass(frozen=True)
class Check:
    measure: str
    target: str
    measured: str | None
    passed: bool | None


def service_vs_naive_at_32(results: Results) -> Check:
    measure, target = "service throughput at 32 clients", "≥ 3× the naive endpoint"
    service, naive = results.load_at(SERVICE, 32), results.load_at(NAIVE, 32)
    if service is None or naive is None:
        return Check(measure, target, None, None)
    ratio = service.requests_per_s / naive.requests_per_s
    detail = f"{ratio:.2f}× ({service.requests_per_s:.1f} vs {naive.requests_per_s:.1f} req/s)"
    return Check(measure, target, detail, ratio >= 3)


def service_vs_raw_at_64(results: Results) -> Check:
    measure = "service throughput at 64 clients"
    target = "≥ 80 % of the predictor's best raw batched throughput"
    peak = results.peak
    if peak is None:
        return Check(measure, target, None, None)
    detail = (
        f"{100 * peak.ratio:.0f} % (median of {peak.rounds} alternating rounds' ratios; "
        f"medians {peak.service_per_s:.1f} req/s at {peak.concurrency} clients vs "
        f"{peak.predictor_per_s:.1f} sentences/s at batch {peak.batch_size})"
    )
    return Check(measure, target, detail, peak.ratio >= 0.8)


def lone_latency(results: Results) -> Check:
    measure = "p50 latency of a lone request"
    target = "≤ 1.5× the predictor's batch-1 forward time"
    lone = results.lone
    if lone is None:
        return Check(measure, target, None, None)
    detail = (
        f"{lone.ratio:.2f}× (median of {lone.rounds} alternating rounds' ratios; p50 "
        f"{lone.service_p50_ms:.1f} ms vs {lone.forward_p50_ms:.1f} ms over the same "
        f"{lone.requests} sentences)"
    )
    return Check(measure, target, detail, lone.ratio <= 1.5)


def cold_start(results: Results) -> Check:
    measure, target = "cold start to ready", f"≤ {READY_LIMIT_S:.0f} s"
    startup = results.startup(SERVICE)
    if startup is None:
        return Check(measure, target, None, None)
    return Check(measure, target, f"{startup.ready_s:.2f} s", startup.ready_s <= READY_LIMIT_S)


def peak_rss(results: Results) -> Check:
    measure, target = "peak RSS", "≤ 1 GB"
    startup = results.startup(SERVICE)
    if startup is None:
        return Check(measure, target, None, None)
    peak = startup.rss_peak_bytes
    return Check(measure, target, f"{peak / MB:.0f} MB (after all load)", peak <= RSS_LIMIT_BYTES)


CHECKS: tuple[Callable[[Results], Check], ...] = (
    service_vs_naive_at_32,
    service_vs_raw_at_64,
    lone_latency,
    cold_start,
    peak_rss,
)


def check_targets(results: Results) -> list[Check]:
    return [check(results) for check in CHECKS]
