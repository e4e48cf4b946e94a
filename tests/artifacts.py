"""Model versions on disk for tests: ensembles built of tiny members, and ways to damage a
version, for tests of what refuses it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import onnx
from onnx import numpy_helper

from stance.artifact import ModelMetadata, Serving, write_metadata
from stance.ensemble import write_labels_config
from stance.labels import LABELS
from stance.onnx import INT8_FILE

ArtifactFactory = Callable[..., Path]


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


def make_ensemble(
    directory: Path,
    artifact_factory: ArtifactFactory,
    member_labels: tuple[tuple[str, ...], ...] = (LABELS, LABELS),
    serving: Serving | None = None,
) -> Path:
    """An ensemble version in ``directory`` of tiny random members made by ``artifact_factory``
    (the conftest fixture), one per label set."""
    names = []
    for seed, labels in enumerate(member_labels):
        artifact_factory(directory / "members", f"m{seed}", labels=labels, seed=seed)
        names.append(f"members/m{seed}")
    write_labels_config(directory, LABELS)
    metadata = ModelMetadata(
        version=directory.name,
        labels=list(LABELS),
        base_model="tiny + tiny",
        labels_hash="00000000",
        created_at=datetime.now(UTC).isoformat(),
        max_length=32,
        seed=0,
        members=names,
        serving=serving or Serving(),
    )
    write_metadata(directory, metadata)
    return directory
