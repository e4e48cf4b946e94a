"""ONNX Runtime int8 inference: the ``onnx-int8`` precision of :class:`stance.predictor.Predictor`.

The model is exported with torch's dynamo exporter and its weights quantised to int8 by ONNX
Runtime's dynamic quantiser (what optimum's ORTQuantizer does; optimum itself pins
transformers < 4.58). The legacy TorchScript exporter is not used: on transformers 5 it bakes the
attention-mask shapes into the graph and the logits drift. Exporting takes 10-20 s, so a version
can carry ``onnx/model.int8.onnx`` (see :func:`write_int8`); without it the export happens at
load time, into a temporary directory.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from transformers.modeling_outputs import SequenceClassifierOutput

INT8_FILE = Path("onnx") / "model.int8.onnx"
TRACE_TEXTS = ["an example sentence for tracing", "another"]


def export(model: torch.nn.Module, tokenizer: Any, target: Path) -> Path:
    """fp32 ONNX graph with dynamic batch and sequence axes."""
    example = dict(tokenizer(TRACE_TEXTS, padding=True, return_tensors="pt"))
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    target.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*axis name", category=UserWarning)
        torch.onnx.export(
            model.eval(),
            (),
            str(target),
            kwargs=example,
            input_names=list(example),
            output_names=["logits"],
            dynamic_shapes={name: {0: batch, 1: sequence} for name in example},
            dynamo=True,
            verbose=False,
        )
    return target


def quantize(source: Path, target: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8)
    return target


def write_int8(model: torch.nn.Module, tokenizer: Any, directory: Path) -> Path:
    """Write ``<directory>/onnx/model.int8.onnx`` so that loading the version need not export."""
    with tempfile.TemporaryDirectory() as scratch:
        fp32 = export(model, tokenizer, Path(scratch) / "model.onnx")
        return quantize(fp32, Path(directory) / INT8_FILE)


def int8_model(model: torch.nn.Module, tokenizer: Any, directory: Path) -> OnnxClassifier:
    """The version's int8 ONNX model, exported now (and not kept) if the version has none."""
    saved = Path(directory) / INT8_FILE
    if saved.is_file():
        return OnnxClassifier(saved)
    with tempfile.TemporaryDirectory() as scratch:
        return OnnxClassifier(write_int8(model, tokenizer, Path(scratch)))


class OnnxClassifier(torch.nn.Module):
    """An ONNX Runtime session behind the ``model(**encoded).logits`` call Predictor makes."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime

        super().__init__()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        self.session = onnxruntime.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.input_names = {i.name for i in self.session.get_inputs()}

    def forward(self, **encoded: torch.Tensor) -> SequenceClassifierOutput:
        feeds = {name: t.numpy() for name, t in encoded.items() if name in self.input_names}
        [logits] = self.session.run(["logits"], feeds)
        return SequenceClassifierOutput(logits=torch.from_numpy(logits))
