"""Ways to damage a model version on disk, for tests of what refuses it."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import numpy_helper

from stance.onnx import INT8_FILE


def inflate_int8_scales(version_dir: Path, factor: float = 100.0) -> None:
    """Break the int8 graph so that it still loads but computes other scores: every weight's
    dequantisation scale is multiplied by ``factor``."""
    path = version_dir / INT8_FILE
    model = onnx.load(str(path))
    for tensor in model.graph.initializer:
        if tensor.name.endswith("_scale"):
            tensor.CopyFrom(
                numpy_helper.from_array(numpy_helper.to_array(tensor) * factor, tensor.name)
            )
    onnx.save(model, str(path))
