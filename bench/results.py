"""Everything one run measured, kept together so the report and the plot read one object."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.limit import Limit
from bench.load import BatchResult, LoadResult
from bench.machine import Machine
from bench.models import BenchModel
from bench.paired import LonePair, PeakPair
from bench.precision import Variant
from bench.throughput import Beside, ThroughputRow
from bench.train_time import TrainResult
from stance.predictor import Precision

SERVICE = "service"
NAIVE = "naive"


@dataclass(frozen=True)
class Startup:
    server: str
    ready_s: float
    rss_ready_bytes: int
    rss_peak_bytes: int


@dataclass
class Results:
    started_at: str
    mode: str
    machine: Machine
    model: BenchModel
    texts: str
    precision: Precision
    seconds: float = 0.0
    load_by_section: dict[str, float] = field(default_factory=dict)
    limit: Limit | None = None
    throughput: list[ThroughputRow] = field(default_factory=list)
    beside: Beside | None = None
    precisions: list[Variant] = field(default_factory=list)
    startups: list[Startup] = field(default_factory=list)
    load: list[LoadResult] = field(default_factory=list)
    batch: BatchResult | None = None
    lone: LonePair | None = None
    peak: PeakPair | None = None
    train: TrainResult | None = None
    failures: dict[str, str] = field(default_factory=dict)

    def load_at(self, target: str, concurrency: int) -> LoadResult | None:
        return next(
            (r for r in self.load if r.target == target and r.concurrency == concurrency), None
        )

    def startup(self, server: str) -> Startup | None:
        return next((s for s in self.startups if s.server == server), None)

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, default=str) + "\n", encoding="utf-8")
