"""Model throughput: the project's predictor against a plain transformers pipeline, same model."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.config import BenchConfig
from bench.naive import naive_classifier
from bench.timing import median_seconds
from stance.predictor import Precision, Predictor

log = logging.getLogger(__name__)

Classify = Callable[[list[str]], object]


@dataclass(frozen=True)
class ThroughputRow:
    path: str
    batch_size: int
    sentences_per_s: float
    ms_per_batch: float


def predictor_classifier(model_dir: Path, precision: Precision, batch_size: int) -> Classify:
    predictor = Predictor.load(model_dir, precision=precision, batch_size=batch_size)
    return predictor.predict


def measure(
    name: str, classify: Classify, texts: Sequence[str], batch_size: int, repeats: int
) -> ThroughputRow:
    """Classify ``texts`` in consecutive calls of ``batch_size`` sentences; median of repeats."""
    log.info("%s, batch %d: %d sentences x %d", name, batch_size, len(texts), repeats)
    chunks = [list(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
    classify(chunks[0])

    def run_all() -> None:
        for chunk in chunks:
            classify(chunk)

    seconds = median_seconds(run_all, repeats)
    return ThroughputRow(name, batch_size, len(texts) / seconds, 1000 * seconds / len(chunks))


def model_throughput(
    model_dir: Path,
    precision: Precision,
    max_length: int,
    texts: Sequence[str],
    config: BenchConfig,
) -> list[ThroughputRow]:
    batch_sizes = config.batch_sizes
    paths = {
        f"predictor {precision}": predictor_classifier(model_dir, precision, max(batch_sizes)),
        "pipeline fp32": naive_classifier(model_dir, max_length),
    }
    return [
        measure(name, classify, texts[: config.sentences_for(size)], size, config.repeats)
        for size in batch_sizes
        for name, classify in paths.items()
    ]


@dataclass(frozen=True)
class Beside:
    """Another model's predictor, timed in the same run: batch 1 and the largest batch."""

    version: str
    base_model: str
    rows: list[ThroughputRow]


def beside_throughput(
    models_dir: Path, precision: Precision, texts: Sequence[str], config: BenchConfig
) -> Beside:
    from stance.artifact import read_metadata
    from stance.registry import ModelStore

    path = ModelStore(models_dir).current_path()
    if path is None:
        raise FileNotFoundError(f"{models_dir} has no current model to time beside")
    metadata = read_metadata(path)
    sizes = (min(config.batch_sizes), max(config.batch_sizes))
    classify = predictor_classifier(path, precision, sizes[-1])
    rows = [
        measure(f"beside {precision}", classify, texts[: config.sentences_for(size)], size, 3)
        for size in sizes
    ]
    return Beside(metadata.version, metadata.base_model, rows)


def best(rows: Sequence[ThroughputRow], path_prefix: str) -> ThroughputRow:
    return max((r for r in rows if r.path.startswith(path_prefix)), key=lambda r: r.sentences_per_s)
