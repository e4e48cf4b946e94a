"""The onnx-int8 precision the bench selected: same predictions as fp32 on a tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stance.predictor import Predictor

TEXTS = ["Russia recognised the Taliban government.", "short", "The UN urged caution. " * 4]


@pytest.mark.slow
def test_onnx_int8_logits_match_fp32(artifact_factory, tmp_path: Path) -> None:
    version = artifact_factory(tmp_path, "tiny")
    fp32 = Predictor.load(version)
    onnx_int8 = Predictor.load(version, precision="onnx-int8")
    assert torch.allclose(onnx_int8.logits(TEXTS), fp32.logits(TEXTS), atol=0.05)
