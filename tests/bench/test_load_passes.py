"""A concurrency level measured several times reports its median run."""

from __future__ import annotations

from bench.load import LoadResult, median_run
from bench.report import throughput_cell
from bench.timing import LatencySummary


def run(requests_per_s: float, p50_ms: float) -> LoadResult:
    latency = LatencySummary(p50_ms=p50_ms, p95_ms=p50_ms, p99_ms=p50_ms, mean_ms=p50_ms)
    return LoadResult("service", 64, 100, {}, 100 / requests_per_s, requests_per_s, latency)


def test_the_median_run_is_reported_with_its_own_latency() -> None:
    chosen = median_run([run(210.0, 300.0), run(180.0, 350.0), run(195.0, 320.0)])
    assert (chosen.requests_per_s, chosen.latency.p50_ms) == (195.0, 320.0)


def test_every_run_throughput_is_kept_in_input_order() -> None:
    chosen = median_run([run(210.0, 300.0), run(180.0, 350.0), run(195.0, 320.0)])
    assert chosen.passes_per_s == [210.0, 180.0, 195.0]


def test_the_report_cell_shows_the_range_of_the_runs() -> None:
    chosen = median_run([run(210.0, 300.0), run(180.0, 350.0), run(195.0, 320.0)])
    assert throughput_cell(chosen) == "195.0 (180–210)"


def test_a_single_run_is_reported_without_a_range() -> None:
    assert throughput_cell(median_run([run(195.0, 320.0)])) == "195.0"
