"""What computes logits from encoded inputs: torch (fp32) or ONNX Runtime (int8).

Both take and return numpy arrays, so the predictor does not care which one runs. torch and
transformers are imported only when the torch backend is loaded: the int8 path serves with
ONNX Runtime alone, which keeps the service's start-up short.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from stance.artifact import ArtifactError

Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "int8")


class Backend(Protocol):
    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray: ...


class TorchBackend:
    """The ``save_pretrained`` model under torch, in fp32."""

    def __init__(self, model: Any) -> None:
        self.model = model.eval()

    @classmethod
    def load(cls, directory: Path, n_labels: int, threads: int | None = None) -> TorchBackend:
        import torch
        from transformers import AutoModelForSequenceClassification
        from transformers.utils.logging import disable_progress_bar

        disable_progress_bar()
        if threads:
            torch.set_num_threads(threads)
        try:
            model = AutoModelForSequenceClassification.from_pretrained(directory)
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{directory}: cannot load model: {exc}") from exc
        if model.config.num_labels != n_labels:
            raise ArtifactError(f"{directory}: model has {model.config.num_labels} outputs")
        return cls(model)

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray:
        import torch

        device = next(self.model.parameters()).device
        with torch.inference_mode():
            inputs = {name: torch.from_numpy(a).to(device) for name, a in features.items()}
            return self.model(**inputs).logits.float().cpu().numpy()


def load_backend(
    directory: Path, precision: Precision, n_labels: int, threads: int | None = None
) -> Backend:
    if precision == "int8":
        from stance.onnx import OnnxBackend

        return OnnxBackend.for_version(directory, n_labels, threads)
    if precision == "fp32":
        return TorchBackend.load(directory, n_labels, threads)
    raise ValueError(f"unknown precision '{precision}'; use one of {', '.join(PRECISIONS)}")
