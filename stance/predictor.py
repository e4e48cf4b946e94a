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

from stance.artifact import ArtifactError, ModelMetadata, read_metadata
from stance.backends import PRECISIONS, Backend, Precision, load_backend
from stance.encoding import TextEncoder

__all__ = [
    "PRECISIONS",
    "Precision",
    "Prediction",
    "Member",
    "Predictor",
    "PredictorProtocol",
    "batched_logits",
    "load_member",
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


@dataclass(frozen=True)
class Member:
    """One model of a version: its tokenizer, the backend that computes its logits, and the
    temperature calibrated for it on dev."""

    encoder: TextEncoder
    backend: Backend
    temperature: float
    n_labels: int

    def probabilities(self, texts: Sequence[str], batch_size: int) -> tuple[np.ndarray, list[bool]]:
        logits, truncated = batched_logits(
            self.encoder, self.backend, texts, self.n_labels, batch_size
        )
        return softmax(logits, self.temperature), truncated


class Predictor:
    """A version's predictions: the calibrated probabilities of its one model, or the mean of
    its members' for an ensemble version (:mod:`stance.ensemble`)."""

    def __init__(
        self,
        members: Sequence[Member],
        metadata: ModelMetadata,
        precision: Precision = "fp32",
        batch_size: int = 64,
        precision_reason: str = "",
    ) -> None:
        if not members:
            raise ArtifactError(f"{metadata.version}: a version needs at least one model")
        self.members = list(members)
        self.metadata = metadata
        self.precision = precision
        self.precision_reason = precision_reason
        self.labels = list(metadata.labels)
        self.version = metadata.version
        self.max_length = metadata.max_length
        self.batch_size = batch_size

    @classmethod
    def single(
        cls,
        backend: Backend,
        encoder: TextEncoder,
        metadata: ModelMetadata,
        precision: Precision = "fp32",
        batch_size: int = 64,
        precision_reason: str = "",
    ) -> Predictor:
        member = Member(encoder, backend, metadata.temperature, len(metadata.labels))
        return cls([member], metadata, precision, batch_size, precision_reason)

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
        if metadata.members:
            from stance.ensemble import load_ensemble

            return load_ensemble(directory, metadata, precision, batch_size, threads)
        served, reason = served_precision(metadata, precision)
        member = load_member(directory, metadata, served, threads)
        return cls([member], metadata, served, batch_size, reason)

    @property
    def encoder(self) -> TextEncoder:
        """The first member's tokenizer: the only one, but for an ensemble version."""
        return self.members[0].encoder

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        return self.predictions(*self.probabilities(texts))

    def probabilities(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        """Calibrated probabilities in input order, shape (len(texts), len(labels)), averaged
        over the members, and whether any member truncated each text."""
        runs = [member.probabilities(texts, self.batch_size) for member in self.members]
        mean = np.mean([probabilities for probabilities, _ in runs], axis=0)
        truncated = [any(flags) for flags in zip(*(flags for _, flags in runs), strict=True)]
        return mean, truncated

    def predictions(self, probabilities: np.ndarray, truncated: Sequence[bool]) -> list[Prediction]:
        """One prediction per row of probabilities over this version's labels."""
        rows = probabilities.tolist()
        return [self._prediction(p, t) for p, t in zip(rows, truncated, strict=True)]

    def _prediction(self, probabilities: list[float], truncated: bool) -> Prediction:
        scores = {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return Prediction(self.labels[best], scores, truncated)


def load_member(
    directory: Path, metadata: ModelMetadata, precision: Precision, threads: int | None = None
) -> Member:
    """The model saved in a (single-model) version directory, at ``precision``."""
    encoder = TextEncoder.load(directory, metadata.max_length)
    backend = load_backend(directory, precision, len(metadata.labels), threads)
    return Member(encoder, backend, metadata.temperature, len(metadata.labels))


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
