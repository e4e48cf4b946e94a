"""The limit: useful FLOPs per sentence from the model config and the machine's measured peak.

FLOPs count multiply-adds as two. Per encoder layer and sequence of n tokens with hidden size
H and feed-forward size I: the Q, K, V and output projections cost 8·n·H², the feed-forward
4·n·H·I, and the attention scores and weighted sum 4·n²·H. The pooler and the head add 2·H² +
2·H·C per sentence; embedding look-ups, softmax and layer norms are ignored. Padding is not
counted, so the figures are the useful work a path does.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch


@dataclass(frozen=True)
class EncoderShape:
    layers: int
    hidden: int
    intermediate: int
    classes: int

    @classmethod
    def from_config(cls, model_dir: Path) -> EncoderShape:
        config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
        return cls(
            layers=config["num_hidden_layers"],
            hidden=config["hidden_size"],
            intermediate=config["intermediate_size"],
            classes=len(config["id2label"]),
        )

    def flops(self, tokens: int) -> float:
        h, n = self.hidden, tokens
        per_layer = 8 * n * h * h + 4 * n * h * self.intermediate + 4 * n * n * h
        return float(self.layers * per_layer + 2 * h * h + 2 * h * self.classes)


@dataclass(frozen=True)
class Limit:
    mean_tokens: float
    max_tokens: int
    gflops_per_sentence: float
    peak_gflops: float
    matmul_size: int
    threads: int

    @property
    def sentences_per_s_at_peak(self) -> float:
        return self.peak_gflops / self.gflops_per_sentence

    def fraction_of_peak(self, sentences_per_s: float) -> float:
        return sentences_per_s * self.gflops_per_sentence / self.peak_gflops


def matmul_peak_gflops(size: int, repeats: int) -> float:
    """Best-of-repeats fp32 GFLOP/s of a square matmul on all of torch's threads."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        times.append(time.perf_counter() - start)
    return 2 * size**3 / min(times) / 1e9


def measure_limit(models: Mapping[Path, Sequence[int]], matmul_size: int, repeats: int) -> Limit:
    """The limit for a version given each of its models' directory and token lengths per
    sentence: an ensemble's sentence costs the sum of its members' FLOPs."""
    first = next(iter(models.values()))
    flops = sum(
        statistics.fmean(EncoderShape.from_config(path).flops(n) for n in lengths)
        for path, lengths in models.items()
    )
    return Limit(
        mean_tokens=statistics.fmean(first),
        max_tokens=max(first),
        gflops_per_sentence=flops / 1e9,
        peak_gflops=matmul_peak_gflops(matmul_size, repeats),
        matmul_size=matmul_size,
        threads=torch.get_num_threads(),
    )


def token_lengths(model_dir: Path, texts: Sequence[str], max_length: int) -> list[int]:
    """Tokens per sentence as the model sees them: special tokens included, truncated."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
    return [len(ids) for ids in encoded["input_ids"]]
