"""The service and naive sections: start each server cold, then load it."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.config import BenchConfig, Paths
from bench.load import batch_load, concurrent_load
from bench.models import BenchModel
from bench.paired import LoneConfig, PeakConfig, lone_pair, peak_pair
from bench.process import RunningServer, free_port, running_server, venv_script
from bench.results import NAIVE, SERVICE, Results, Startup
from bench.throughput import best, predictor_classifier

log = logging.getLogger(__name__)


def service_command() -> list[str]:
    script = venv_script("stance-serve")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from service.cli import main; main()"]


def naive_command(model_dir: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.naive_server",
        "--model-dir",
        str(model_dir),
        "--port",
        str(port),
    ]


def service_env(model: BenchModel, paths: Paths, precision: str, port: int) -> dict[str, str]:
    return {
        "STANCE_MODELS_DIR": str(model.models_dir),
        "STANCE_LABELS_DIR": str(paths.labels_dir.resolve()),
        "STANCE_INCOMING_LABELS": str((paths.out_dir / "incoming.jsonl").resolve()),
        "STANCE_HOST": "127.0.0.1",
        "STANCE_PORT": str(port),
        "STANCE_PRECISION": precision,
    }


def run_service(results: Results, config: BenchConfig, paths: Paths, texts: Sequence[str]) -> None:
    port = free_port()
    env = service_env(results.model, paths, results.precision, port)
    log_path = paths.out_dir / "logs" / "service.log"
    with running_server(
        SERVICE, service_command(), env, port, log_path, config.ready_timeout_s
    ) as server:
        rss_ready = server.peak_rss_bytes()
        load_levels(results, server, config, texts)
        measure_pairs(results, server, config, texts)
        log.info("service: batch endpoint, %d texts per request", config.batch_request_texts)
        results.batch = batch_load(
            server.url,
            texts,
            config.batch_request_texts,
            config.batch_requests,
            config.request_timeout_s,
        )
        results.startups.append(
            Startup(SERVICE, server.startup_s, rss_ready, server.peak_rss_bytes())
        )


def measure_pairs(
    results: Results, server: RunningServer, config: BenchConfig, texts: Sequence[str]
) -> None:
    """The service against the predictor in this process, in alternation (``bench.paired``)."""
    url = f"{server.url}/classify"
    limits = (config.level_time_limit_s, config.request_timeout_s)
    batch_size = (
        best(results.throughput, "predictor").batch_size
        if results.throughput
        else max(config.batch_sizes)
    )
    classify = predictor_classifier(results.model.path, results.precision, batch_size)
    log.info("service: lone requests alternating with in-process batch-1 calls")
    lone = LoneConfig(config.lone_rounds, config.lone_per_round, limits)
    results.lone = lone_pair(server.name, url, classify, texts, lone)
    concurrency = max(config.concurrency)
    log.info(
        "service: %d clients alternating with in-process batches of %d", concurrency, batch_size
    )
    peak = PeakConfig(
        concurrency,
        batch_size,
        config.peak_rounds,
        config.peak_sentences,
        config.requests_at(concurrency),
        limits,
    )
    results.peak = peak_pair(server.name, url, classify, texts, peak)


def run_naive(results: Results, config: BenchConfig, paths: Paths, texts: Sequence[str]) -> None:
    port = free_port()
    command = naive_command(results.model.path, port)
    log_path = paths.out_dir / "logs" / "naive.log"
    with running_server(NAIVE, command, {}, port, log_path, config.ready_timeout_s) as server:
        rss_ready = server.peak_rss_bytes()
        load_levels(results, server, config, texts)
        results.startups.append(
            Startup(NAIVE, server.startup_s, rss_ready, server.peak_rss_bytes())
        )


def load_levels(
    results: Results, server: RunningServer, config: BenchConfig, texts: Sequence[str]
) -> None:
    for concurrency in config.concurrency:
        log.info("%s: %d concurrent clients", server.name, concurrency)
        results.load.append(
            concurrent_load(
                server.name,
                server.url,
                texts,
                concurrency,
                config.requests_at(concurrency),
                config.level_time_limit_s,
                config.request_timeout_s,
                config.load_passes,
            )
        )
