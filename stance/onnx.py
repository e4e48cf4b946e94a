"""ONNX Runtime int8 inference: the ``int8`` precision of :class:`stance.predictor.Predictor`.

The model is exported with torch's dynamo exporter and its weights quantised to int8 by ONNX
Runtime's dynamic quantiser (what optimum's ORTQuantizer does; optimum itself pins
transformers < 4.58). The legacy TorchScript exporter is not used: on transformers 5 it bakes the
attention-mask shapes into the graph and the logits drift. Training saves the int8 graph in the
version (``onnx/model.int8.onnx``, see :func:`write_int8`); a version without one is exported at
load time (10-20 s, and it needs torch), into a temporary directory.
"""

from __future__ import annotations

import inspect
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import numpy as np

from stance.artifact import ArtifactError
from stance.encoding import TextEncoder

INT8_FILE = Path("onnx") / "model.int8.onnx"
Scheme = Literal["all", "ffn_down_fp32", "ffn_fp32"]
SCHEMES: tuple[Scheme, ...] = ("all", "ffn_down_fp32", "ffn_fp32")
"""From fastest to most faithful: which MatMuls stay fp32 (see :func:`excluded_nodes`)."""
EXPORT_LOGGERS = ("torch.onnx", "onnxscript", "onnx_ir")
"""The exporter and the graph optimiser it runs, which log every rewrite at INFO."""
TRACE_TEXTS = ["an example sentence for tracing", "another"]


def export(model: Any, example: dict[str, np.ndarray], target: Path) -> Path:
    """fp32 ONNX graph of ``model`` with dynamic batch and sequence axes."""
    import torch

    accepted = inspect.signature(model.forward).parameters
    inputs = {name: torch.from_numpy(a) for name, a in example.items() if name in accepted}
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    target.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), quiet_logger(*EXPORT_LOGGERS):
        warnings.filterwarnings("ignore", message=".*axis name", category=UserWarning)
        warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)
        torch.onnx.export(
            model.eval(),
            (),
            str(target),
            kwargs=inputs,
            input_names=list(inputs),
            output_names=["logits"],
            dynamic_shapes={name: {0: batch, 1: sequence} for name in inputs},
            dynamo=True,
            verbose=False,
        )
    return target


@contextmanager
def quiet_logger(*names: str) -> Iterator[None]:
    """Keep the exporter's and quantiser's chatter (not JSON) out of the service's logs."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def quantize(source: Path, target: Path, exclude: Sequence[str] = ()) -> Path:
    """Dynamic int8 with one weight scale per output channel: on the default model that cuts
    the int8 graph's drift from fp32 to about a third (mean largest probability change 0.009 →
    0.003 over the training sentences, worst 0.65 → 0.24) at the speed of one scale per tensor.
    The nodes named in ``exclude`` stay fp32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    with quiet_logger(""):  # the quantiser reports every tensor it skips on the root logger
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=list(exclude),
        )
    return target


def export_fp32(model: Any, directory: Path, target: Path) -> Path:
    """The fp32 ONNX graph of the model saved in ``directory`` (its tokenizer gives the tracing
    inputs)."""
    example = TextEncoder.load(directory, max_length=32)(TRACE_TEXTS).features
    return export(model, example, target)


def excluded_nodes(fp32_graph: Path, scheme: Scheme, intermediate_size: int) -> list[str]:
    """The MatMuls a scheme keeps in fp32: the feed-forward down-projections (weights of
    ``intermediate_size`` rows), and with ``ffn_fp32`` the up-projections too. Their inputs
    (after GELU) have the widest range in the network, which one dynamic scale per tensor
    rounds worst: on an all-mpnet-base-v2 model int8 lost 0.052 test macro-F1 with every
    MatMul quantised, 0.017 with the down-projections kept fp32, 0.006 with both."""
    if scheme == "all":
        return []
    import onnx

    graph = onnx.load(str(fp32_graph), load_external_data=False).graph
    shapes = {tensor.name: list(tensor.dims) for tensor in graph.initializer}
    kept = []
    for node in graph.node:
        dims = next((shapes[name] for name in node.input if name in shapes), None)
        if node.op_type != "MatMul" or dims is None or len(dims) != 2:
            continue
        down = dims[0] == intermediate_size
        up = dims[1] == intermediate_size
        if down or (up and scheme == "ffn_fp32"):
            kept.append(node.name)
    return kept


def write_int8(
    model: Any, directory: Path, target_directory: Path | None = None, scheme: Scheme = "all"
) -> Path:
    """Write ``<target_directory>/onnx/model.int8.onnx`` for the model saved in ``directory``;
    by default into the version itself."""
    with tempfile.TemporaryDirectory() as scratch:
        fp32 = export_fp32(model, directory, Path(scratch) / "model.onnx")
        exclude = excluded_nodes(fp32, scheme, model.config.intermediate_size)
        return quantize(fp32, Path(target_directory or directory) / INT8_FILE, exclude)


class OnnxBackend:
    """An ONNX Runtime session that takes and returns numpy arrays.

    Each text runs on its own, unpadded, ``threads`` texts at a time with one thread each.
    Dynamic int8 quantisation scales activations over the whole input, so texts batched together
    would change each other's scores (by up to 0.25 on the test split); alone, a text gets the
    same scores whatever else is being served. On 2 CPU cores this is also the faster schedule
    (197 sentences/s against 140 for length-sorted batches of 64). The worker threads are kept
    for the backend's lifetime, not started per batch; they end when it is garbage-collected.
    """

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        try:
            self.session = onnxruntime.InferenceSession(
                str(path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ArtifactError(f"{path}: cannot load ONNX model: {exc}") from exc
        self.workers = threads or os.cpu_count() or 1
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="stance-onnx")
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.outputs = {o.name: o.shape for o in self.session.get_outputs()}

    @classmethod
    def for_version(cls, directory: Path, n_labels: int, threads: int | None = None) -> OnnxBackend:
        """The version's saved int8 graph, or one exported now if it has none."""
        saved = Path(directory) / INT8_FILE
        if saved.is_file():
            return cls(saved, threads).checked(n_labels)
        from stance.backends import TorchBackend

        model = TorchBackend.load(directory, n_labels).model
        with tempfile.TemporaryDirectory() as scratch:
            return cls(write_int8(model, directory, Path(scratch)), threads).checked(n_labels)

    def checked(self, n_labels: int) -> OnnxBackend:
        shape = self.outputs.get("logits")
        if shape is None or shape[-1] != n_labels:
            raise ArtifactError(f"ONNX model has outputs {self.outputs}, not {n_labels} logits")
        return self

    def __call__(self, features: dict[str, np.ndarray]) -> np.ndarray:
        rows = [self.unpadded_row(features, i) for i in range(len(features["input_ids"]))]
        if len(rows) == 1 or self.workers == 1:
            return np.concatenate([self.run_one(row) for row in rows])
        return np.concatenate(list(self.pool.map(self.run_one, rows)))

    def unpadded_row(self, features: dict[str, np.ndarray], i: int) -> dict[str, np.ndarray]:
        length = int(features["attention_mask"][i].sum())
        return {
            name: array[i : i + 1, :length]
            for name, array in features.items()
            if name in self.input_names
        }

    def run_one(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        [logits] = self.session.run(["logits"], feeds)
        return np.asarray(logits, dtype=np.float32)
