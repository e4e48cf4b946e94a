"""``python -m bench.distributed``: ``stance-analyze --engine ray`` against one process.

Sentences/s over the same archive (default 1,000 articles of the held-out passages, as in
``bench.articles``), each in the same run and in alternating rounds so that other work on the
machine weighs on all of them alike:

1. one process: ``stance-analyze`` in process, the int8 predictor on every core (the baseline);
2. the engine with 1 worker given every core;
3. the engine with 2 workers of one core each (target: at least 0.8x the baseline).

Both engine runs share one local Ray cluster, started and warmed up (one small untimed run)
before the rounds; each run includes its actors' start and model load, as the baseline
includes its model load. It prints the
figures, the median of the rounds, and the cores other processes kept busy; like the rest of
``bench/``, it is not part of the tests' pass/fail.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from bench.articles import archive, archive_parser, passages
from bench.machine import busy_cores
from bench.models import BenchModel, resolve_model
from stance.actors import FILE_NAME, Gazetteer
from stance.sentences import split_sentences

log = logging.getLogger("bench.distributed")

ROUNDS = 3
ENGINES = {"1 worker x 2 cores": (1, 2), "2 workers x 1 core": (2, 1)}
"""Engine runs by name: (workers, cores per worker)."""


def write_archive(texts: Sequence[str], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "archive.jsonl"
    lines = [json.dumps({"id": f"a{i}", "text": text}) for i, text in enumerate(texts)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def process_seconds(model: BenchModel, labels_dir: Path, source: Path, out: Path) -> float:
    """Seconds of ``stance-analyze`` in process over ``source``."""
    from training.analyze import main

    argv = [str(source), "--out", str(out), "--no-progress"]
    argv += ["--models-dir", str(model.models_dir), "--labels-dir", str(labels_dir)]
    start = time.perf_counter()
    if main(argv) != 0:
        raise RuntimeError("stance-analyze failed")
    return time.perf_counter() - start


def engine_seconds(
    model: BenchModel, gazetteer: Gazetteer, source: Path, out: Path, workers: int, cores: int
) -> float:
    from training import distributed

    job = distributed.Job(
        files=[source],
        out=out,
        output_format="parquet",
        model=model.path,
        precision="int8",
        gazetteer=gazetteer,
        workers=workers,
        worker_cpus=cores,
    )
    return distributed.run(job).seconds


def rounds(runs: dict[str, Callable[[Path], float]], n_rounds: int) -> dict[str, list[float]]:
    """Seconds of each run per round, the runs alternating within each round."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    with tempfile.TemporaryDirectory() as scratch:
        for round_number in range(n_rounds):
            for name, run in runs.items():
                out = Path(scratch) / f"{round_number}-{len(seconds[name])}-{name.replace(' ', '')}"
                seconds[name].append(run(out))
                log.info("round %d, %s: %.1f s", round_number + 1, name, seconds[name][-1])
    return seconds


def start_cluster(cores: int) -> None:
    import ray

    ray.init(num_cpus=cores + 1, include_dashboard=False, log_to_driver=False)


def warm_up(model: BenchModel, gazetteer: Gazetteer, texts: Sequence[str], scratch: Path) -> None:
    """One small untimed engine run: Ray Data starts its own helper actors on a cluster's
    first dataset, once, which no run should be charged for."""
    source = write_archive(texts, scratch / "warm-up")
    engine_seconds(model, gazetteer, source, scratch / "warm-up" / "out", workers=1, cores=1)


def per_round(baseline: Sequence[float], seconds: Sequence[float]) -> str:
    """Each round's ratio: how far other work on the machine moved the figures."""
    return ", ".join(f"{b / s:.2f}x" for b, s in zip(baseline, seconds, strict=True))


def main(argv: list[str] | None = None) -> int:
    args = archive_parser("python -m bench.distributed", __doc__, ROUNDS).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    import ray

    with tempfile.TemporaryDirectory() as scratch:
        model = resolve_model(args.models_dir, Path(scratch))
        gazetteer = Gazetteer.load(args.labels_dir / FILE_NAME)
        texts = archive(passages(), args.articles)
        n_sentences = sum(len(split_sentences(text)) for text in texts)
        source = write_archive(texts, Path(scratch))
        busy = busy_cores()
        start_cluster(os.cpu_count() or 1)
        warm_up(model, gazetteer, texts[:4], Path(scratch))
        runs: dict[str, Callable[[Path], float]] = {
            "one process": lambda out: process_seconds(model, args.labels_dir, source, out),
        }
        for name, (workers, cores) in ENGINES.items():
            runs[f"ray, {name}"] = partial(
                engine_seconds, model, gazetteer, source, workers=workers, cores=cores
            )
        try:
            seconds = rounds(runs, args.rounds)
        finally:
            ray.shutdown()
    rates = {name: n_sentences / statistics.median(times) for name, times in seconds.items()}
    baseline = rates["one process"]
    lines = [
        f"model {model.version}; {len(texts)} articles, {n_sentences} sentences; "
        f"{os.cpu_count()} cores, {busy:.2f} busy with other work before the rounds; "
        f"median of {args.rounds} rounds"
    ]
    lines += [
        f"{name}: {rate:.0f} sentences/s, {rate / baseline:.2f}x one process "
        f"(per round: {per_round(seconds['one process'], seconds[name])})"
        for name, rate in rates.items()
    ]
    lines.append("target: ray with 2 workers >= 0.8x one process")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
