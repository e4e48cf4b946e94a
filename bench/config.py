"""What one benchmark run measures: the full run behind ``make bench`` and a quick one for tests."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
SECTIONS = ("limit", "model", "beside", "precision", "service", "naive", "train")
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s != "train")


@dataclass(frozen=True)
class BenchConfig:
    batch_sizes: tuple[int, ...] = (1, 8, 32, 64)
    concurrency: tuple[int, ...] = (1, 8, 32, 64)
    sentences: int = 256
    min_sentences: int = 64
    repeats: int = 5
    min_requests: int = 300
    requests_per_client: int = 20
    load_passes: int = 3
    lone_rounds: int = 10
    lone_per_round: int = 40
    peak_rounds: int = 5
    peak_sentences: int = 256
    level_time_limit_s: float = 60.0
    batch_request_texts: int = 256
    batch_requests: int = 4
    precision_batch_size: int = 32
    matmul_size: int = 2048
    matmul_repeats: int = 5
    onnx: bool = True
    ready_timeout_s: float = 180.0
    request_timeout_s: float = 120.0

    def sentences_for(self, batch_size: int) -> int:
        """Four batches' worth, within bounds: enough calls for a stable median, no more."""
        return min(self.sentences, max(self.min_sentences, 4 * batch_size))

    def requests_at(self, concurrency: int) -> int:
        return max(self.min_requests, self.requests_per_client * concurrency)


FULL = BenchConfig()
QUICK = replace(
    FULL,
    batch_sizes=(1, 8),
    concurrency=(1, 4),
    sentences=16,
    min_sentences=8,
    repeats=1,
    min_requests=8,
    requests_per_client=2,
    load_passes=1,
    lone_rounds=2,
    lone_per_round=4,
    peak_rounds=1,
    peak_sentences=8,
    level_time_limit_s=20.0,
    batch_request_texts=16,
    batch_requests=1,
    precision_batch_size=8,
    matmul_size=256,
    matmul_repeats=2,
    onnx=False,
    ready_timeout_s=60.0,
    request_timeout_s=30.0,
)


@dataclass(frozen=True)
class Paths:
    models_dir: Path
    labels_dir: Path
    out_dir: Path
    results: Path
    beside_models_dir: Path | None = None

    @property
    def plot(self) -> Path:
        return self.results.with_suffix(".png")
