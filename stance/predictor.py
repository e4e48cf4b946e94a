"""Turning texts into stance predictions with a trained model version.

One class serves every caller: the service's micro-batcher, the suggestion ranking, the
evaluation of saved versions and the benchmarks. It reads everything it needs (labels, max
length, temperature) from the artifact; the tokenizer (:mod:`stance.encoding`) and the backend
that computes logits (:mod:`stance.backends`) are chosen at load time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from stance.artifact import ModelMetadata, read_metadata
from stance.backends import PRECISIONS, Backend, Precision, load_backend
from stance.encoding import TextEncoder

__all__ = [
    "PRECISIONS",
    "Precision",
    "Prediction",
    "Predictor",
    "PredictorProtocol",
    "batched_logits",
    "softmax",
]


@dataclass(frozen=True)
class Prediction:
    label: str
    scores: dict[str, float]
    truncated: bool


class PredictorProtocol(Protocol):
    """What the service needs of a predictor; tests pass a fake that honours it."""

    labels: list[str]
    version: str
    metadata: ModelMetadata

    @property
    def precision(self) -> str: ...

    @property
    def precision_reason(self) -> str: ...

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


class Predictor:
    def __init__(
        self,
        backend: Backend,
        encoder: TextEncoder,
        metadata: ModelMetadata,
        precision: Precision = "fp32",
        batch_size: int = 64,
        precision_reason: str = "",
    ) -> None:
        self.backend = backend
        self.encoder = encoder
        self.metadata = metadata
        self.precision = precision
        self.precision_reason = precision_reason
        self.labels = list(metadata.labels)
        self.version = metadata.version
        self.max_length = metadata.max_length
        self.temperature = metadata.temperature
        self.batch_size = batch_size

    @classmethod
    def load(
        cls,
        directory: Path,
        precision: Precision = "fp32",
        batch_size: int = 64,
        threads: int | None = None,
    ) -> Predictor:
        """Load a version directory at ``precision``, or at fp32 where training's int8 gate
        refused the version's int8 graph; ArtifactError if it is not a usable model."""
        directory = Path(directory)
        metadata = read_metadata(directory)
        served, reason = served_precision(metadata, precision)
        encoder = TextEncoder.load(directory, metadata.max_length)
        backend = load_backend(directory, served, len(metadata.labels), threads)
        return cls(backend, encoder, metadata, served, batch_size, reason)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        logits, truncated = self._run(texts)
        probabilities = softmax(logits, self.temperature).tolist()
        return [self._prediction(p, t) for p, t in zip(probabilities, truncated, strict=True)]

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Raw logits in input order, shape (len(texts), len(labels))."""
        return self._run(texts)[0]

    def _run(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        return batched_logits(self.encoder, self.backend, texts, len(self.labels), self.batch_size)

    def _prediction(self, probabilities: list[float], truncated: bool) -> Prediction:
        scores = {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return Prediction(self.labels[best], scores, truncated)


def served_precision(metadata: ModelMetadata, requested: Precision) -> tuple[Precision, str]:
    """The precision a version is served at when ``requested`` is asked for, and why."""
    if requested == "int8" and not metadata.serving.int8:
        return "fp32", "int8 was asked for, but training's int8 gate refused the graph: " + (
            metadata.serving.reason or "no reason recorded"
        )
    return requested, metadata.serving.reason if requested == "int8" else "fp32 as configured"


def batched_logits(
    encoder: TextEncoder, backend: Backend, texts: Sequence[str], n_labels: int, batch_size: int
) -> tuple[np.ndarray, list[bool]]:
    """Logits and truncation flags in input order, computed in length-sorted batches."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    logits = np.empty((len(texts), n_labels), dtype=np.float32)
    truncated = [False] * len(texts)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        encoded = encoder([texts[i] for i in chunk])
        logits[chunk] = backend(encoded.features)
        for i, flag in zip(chunk, encoded.truncated, strict=True):
            truncated[i] = flag
    return logits, truncated


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    scaled = logits / temperature
    scaled = scaled - scaled.max(axis=1, keepdims=True)
    exp = np.exp(scaled)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))
