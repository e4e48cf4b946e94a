"""Faster inference: torch dynamic int8 and ONNX Runtime against fp32, on speed and macro-F1."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

from sklearn.metrics import f1_score

from bench.throughput import measure
from stance.backends import Backend, TorchBackend
from stance.labels import Example
from stance.onnx import TRACE_TEXTS, OnnxBackend, export
from stance.predictor import Member, Predictor

log = logging.getLogger(__name__)

F1_TOLERANCE = 0.01


@dataclass(frozen=True)
class Variant:
    name: str
    prepare_s: float
    sentences_per_s: float
    single_ms: float
    macro_f1: float
    agreement: float


def torch_variants(model_dir: Path, batch_size: int) -> dict[str, Callable[[], Predictor]]:
    def dynamic_int8() -> Predictor:
        import torch

        def quantised(member: Member, _: int) -> Backend:
            model = cast(TorchBackend, member.backend).model
            return TorchBackend(
                torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
            )

        return with_backends(Predictor.load(model_dir, "fp32", batch_size=batch_size), quantised)

    return {
        "torch fp32": lambda: Predictor.load(model_dir, "fp32", batch_size=batch_size),
        "torch int8 (dynamic)": dynamic_int8,
    }


def onnx_variants(
    model_dir: Path, work_dir: Path, batch_size: int
) -> dict[str, Callable[[], Predictor]]:
    def fp32() -> Predictor:
        def exported(member: Member, i: int) -> Backend:
            model = cast(TorchBackend, member.backend).model
            example = member.encoder(TRACE_TEXTS).features
            return OnnxBackend(export(model, example, work_dir / "onnx" / f"model-{i}.onnx"))

        return with_backends(Predictor.load(model_dir, "fp32", batch_size=batch_size), exported)

    return {
        "onnxruntime fp32": fp32,
        "onnxruntime int8 (service int8)": lambda: Predictor.load(
            model_dir, "int8", batch_size=batch_size
        ),
    }


def with_backends(base: Predictor, convert: Callable[[Member, int], Backend]) -> Predictor:
    """``base`` with each model's backend converted: every member of an ensemble version."""
    members = [replace(m, backend=convert(m, i)) for i, m in enumerate(base.members)]
    return Predictor(members, base.metadata, "fp32", base.batch_size)


def compare_precisions(
    model_dir: Path,
    work_dir: Path,
    examples: Sequence[Example],
    texts: Sequence[str],
    batch_size: int,
    repeats: int,
    with_onnx: bool,
) -> list[Variant]:
    """Each variant's preparation time, throughput, batch-1 latency, test macro-F1 and agreement."""
    makers = torch_variants(model_dir, batch_size)
    if with_onnx:
        makers |= onnx_variants(model_dir, work_dir, batch_size)
    reference: list[str] | None = None
    variants = []
    for name, make in makers.items():
        log.info("precision: %s", name)
        start = time.perf_counter()
        predictor = make()
        prepare_s = time.perf_counter() - start
        predicted = [p.label for p in predictor.predict([e.text for e in examples])]
        reference = reference or predicted
        batched = measure(name, predictor.predict, texts, batch_size, repeats)
        single = measure(name, predictor.predict, texts[: max(8, len(texts) // 8)], 1, repeats)
        variants.append(
            Variant(
                name=name,
                prepare_s=prepare_s,
                sentences_per_s=batched.sentences_per_s,
                single_ms=single.ms_per_batch,
                macro_f1=macro_f1(examples, predicted, predictor.labels),
                agreement=sum(a == b for a, b in zip(predicted, reference, strict=True))
                / len(predicted),
            )
        )
    return variants


def macro_f1(examples: Sequence[Example], predicted: Sequence[str], labels: Sequence[str]) -> float:
    truth = [e.label for e in examples]
    return float(f1_score(truth, predicted, labels=list(labels), average="macro", zero_division=0))
