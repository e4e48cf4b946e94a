"""Turning texts into stance predictions with a trained model version.

One class serves every caller: the service's micro-batcher, the suggestion ranking and the
benchmarks. It reads everything it needs (labels, max length, temperature) from the artifact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from stance.artifact import ArtifactError, ModelMetadata, read_metadata

Precision = Literal["fp32", "int8", "onnx-int8"]


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

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


class Predictor:
    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: object,
        metadata: ModelMetadata,
        batch_size: int = 64,
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.metadata = metadata
        self.labels = list(metadata.labels)
        self.version = metadata.version
        self.max_length = metadata.max_length
        self.temperature = metadata.temperature
        self.batch_size = batch_size

    @classmethod
    def load(
        cls, directory: Path, precision: Precision = "fp32", batch_size: int = 64
    ) -> Predictor:
        """Load a version directory; ArtifactError if it is not a usable model."""
        directory = Path(directory)
        metadata = read_metadata(directory)
        try:
            tokenizer = AutoTokenizer.from_pretrained(directory)
            model = AutoModelForSequenceClassification.from_pretrained(directory)
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{directory}: cannot load model: {exc}") from exc
        if model.config.num_labels != len(metadata.labels):
            raise ArtifactError(f"{directory}: model has {model.config.num_labels} outputs")
        if precision == "int8":
            model = quantize_dynamic(model)
        elif precision == "onnx-int8":
            from stance.onnx import int8_model

            model = int8_model(model, tokenizer, directory)
        return cls(model, tokenizer, metadata, batch_size=batch_size)

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False)  # type: ignore[operator]
        return [len(ids) for ids in encoded["input_ids"]]

    def logits(self, texts: Sequence[str]) -> torch.Tensor:
        """Raw logits in input order, computed in length-sorted batches."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = torch.empty((len(texts), len(self.labels)))
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                encoded = self.tokenizer(  # type: ignore[operator]
                    [texts[i] for i in chunk],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                out[chunk] = self.model(**encoded).logits.float()
        return out

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if not texts:
            return []
        probabilities = torch.softmax(self.logits(texts) / self.temperature, dim=-1).tolist()
        truncated = [n > self.max_length for n in self.token_lengths(texts)]
        return [self._prediction(p, t) for p, t in zip(probabilities, truncated, strict=True)]

    def _prediction(self, probabilities: list[float], truncated: bool) -> Prediction:
        scores = {label: float(p) for label, p in zip(self.labels, probabilities, strict=True)}
        best = max(range(len(probabilities)), key=probabilities.__getitem__)
        return Prediction(self.labels[best], scores, truncated)


def quantize_dynamic(model: torch.nn.Module) -> torch.nn.Module:
    """int8 weights for the linear layers, activations quantised on the fly (CPU only)."""
    return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
