"""``python -m bench``: run the sections, then write ``results.md``, the plot and the raw JSON."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

from bench.config import (
    BENCH_DIR,
    DEFAULT_SECTIONS,
    FULL,
    QUICK,
    REPO_ROOT,
    SECTIONS,
    BenchConfig,
    Paths,
)
from bench.limit import measure_limit, token_lengths
from bench.machine import busy_cores, describe_machine
from bench.models import resolve_model
from bench.naive import model_dirs
from bench.plot import write_plot
from bench.precision import compare_precisions
from bench.process import OFFLINE_ENV
from bench.report import write_report
from bench.results import Results
from bench.servers import run_naive, run_service
from bench.texts import TextSample, load_sample
from bench.throughput import beside_throughput, model_throughput
from bench.train_time import time_training
from stance.artifact import ArtifactError
from stance.predictor import Precision

log = logging.getLogger("bench")

USAGE_ERROR = 2


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny configuration (for tests)")
    parser.add_argument("--models-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--labels-dir", type=Path, default=REPO_ROOT / "labels")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "out", help="raw results, logs")
    parser.add_argument("--results", type=Path, default=BENCH_DIR / "results.md")
    parser.add_argument(
        "--precision",
        choices=get_args(Precision),
        default=None,
        help="predictor and service precision (default: the service's default)",
    )
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(DEFAULT_SECTIONS))
    parser.add_argument("--train", action="store_true", help="also time the default training")
    parser.add_argument(
        "--beside",
        type=Path,
        metavar="MODELS_DIR",
        help="also time the predictor of this store's current model (say, all-MiniLM-L6-v2 "
        "beside an all-mpnet-base-v2 default) in the same run, to print beside the measured one",
    )
    parser.add_argument("--no-onnx", action="store_true", help="skip the ONNX Runtime variants")
    return parser.parse_args(argv)


def service_default_precision() -> Precision:
    try:
        from service.config import Settings
    except ImportError:
        return "fp32"
    default = Settings.model_fields["precision"].default
    return default if default in get_args(Precision) else "fp32"


def exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM as SystemExit, so that ``subprocess.call`` kills the training it waits on and
    each server's context manager stops its server; by default the children outlive the bench."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, exit_on_sigterm)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    os.environ.update(OFFLINE_ENV)
    config = QUICK if args.quick else FULL
    config = replace(config, onnx=config.onnx and not args.no_onnx)
    paths = Paths(args.models_dir, args.labels_dir, args.out, args.results, args.beside)
    sections = set(args.sections) | ({"train"} if args.train else set())
    precision = args.precision or service_default_precision()
    try:
        results = run(config, paths, sections, precision, args.quick)
    except (ArtifactError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return USAGE_ERROR
    results.write_json(paths.out_dir / "results.json")
    write_report(results, paths.results, paths.plot.name)
    write_plot(results, paths.plot)
    log.info("wrote %s and %s", paths.results, paths.plot)
    return 1 if results.failures else 0


def run(
    config: BenchConfig, paths: Paths, sections: set[str], precision: Precision, quick: bool
) -> Results:
    start = time.perf_counter()
    paths.out_dir.mkdir(parents=True, exist_ok=True)
    sample = load_sample(paths.labels_dir)
    results = Results(
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        mode="quick" if quick else "full",
        machine=describe_machine(),
        model=resolve_model(paths.models_dir, paths.out_dir),
        texts=sample.source,
        precision=precision,
    )
    for name, section in section_runners(config, paths, sample).items():
        if name in sections:
            attempt(results, name, section)
    results.seconds = time.perf_counter() - start
    return results


Section = Callable[[Results], None]


def section_runners(config: BenchConfig, paths: Paths, sample: TextSample) -> dict[str, Section]:
    texts = sample.cycled(config.sentences)

    def limit(r: Results) -> None:
        lengths = {
            path: token_lengths(path, sample.texts, r.model.max_length)
            for path in model_dirs(r.model.path)
        }
        r.limit = measure_limit(lengths, config.matmul_size, config.matmul_repeats)

    def model(r: Results) -> None:
        r.throughput = model_throughput(
            r.model.path, r.precision, r.model.max_length, texts, config
        )

    def beside(r: Results) -> None:
        if paths.beside_models_dir is None:
            return
        r.beside = beside_throughput(paths.beside_models_dir, r.precision, texts, config)

    def precision(r: Results) -> None:
        r.precisions = compare_precisions(
            r.model.path,
            paths.out_dir,
            sample.examples,
            texts[: config.sentences_for(config.precision_batch_size)],
            config.precision_batch_size,
            config.repeats,
            config.onnx,
        )

    def train(r: Results) -> None:
        r.train = time_training(paths.labels_dir, paths.out_dir)

    return {
        "limit": limit,
        "model": model,
        "beside": beside,
        "precision": precision,
        "service": lambda r: run_service(r, config, paths, texts),
        "naive": lambda r: run_naive(r, config, paths, texts),
        "train": train,
    }


def attempt(results: Results, name: str, section: Section) -> None:
    """Run one section; a failure is recorded in the report instead of losing the others."""
    results.load_by_section[name] = busy_cores()
    log.info("section %s (%.2f cores busy with other work)", name, results.load_by_section[name])
    try:
        section(results)
    except Exception as exc:
        log.exception("section %s failed", name)
        results.failures[name] = f"{type(exc).__name__}: {exc}"
