"""The model artifact format: what a trained version directory holds and how it is read.

A version directory is what ``save_pretrained`` writes (weights, ``config.json`` with
``id2label``, tokenizer files) plus ``metadata.json`` described by :class:`ModelMetadata`; an
ensemble version holds complete version directories of its members instead of weights.
The service learns its label set from here and from nowhere else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

FORMAT_VERSION = 1
METADATA_FILE = "metadata.json"
CONFIG_FILE = "config.json"
REPORT_FILE = "report.md"
CONFUSION_FILE = "confusion_matrix.png"
PROBES_FILE = "probes.json"


class ArtifactError(ValueError):
    """A directory that is not a usable model version, with the reason."""


class Serving(BaseModel):
    """Whether the version's int8 graph may be served, as training's int8 gate decided.

    Versions saved before the gate existed have no record and count as servable at int8; the
    service's probe check (:mod:`stance.probes`) still stands between them and a broken graph.
    """

    int8: bool = True
    reason: str = ""


class ModelMetadata(BaseModel):
    format_version: int = FORMAT_VERSION
    version: str
    labels: list[str] = Field(min_length=2)
    base_model: str
    labels_hash: str
    created_at: str
    max_length: int = Field(gt=0)
    temperature: float = Field(default=1.0, gt=0)
    seed: int
    counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    metrics: dict[str, Any] = Field(default_factory=dict)
    baseline_metrics: dict[str, Any] = Field(default_factory=dict)
    durations: dict[str, float] = Field(default_factory=dict)
    packages: dict[str, str] = Field(default_factory=dict)
    promotion: dict[str, Any] = Field(default_factory=dict)
    serving: Serving = Field(default_factory=Serving)
    members: list[str] = Field(default_factory=list)
    """For an ensemble version (:mod:`stance.ensemble`), its members' directories, relative to
    its own; empty for a version of one model."""

    @property
    def macro_f1(self) -> float | None:
        value = self.metrics.get("macro_f1")
        return float(value) if value is not None else None


def write_metadata(directory: Path, metadata: ModelMetadata) -> None:
    path = Path(directory) / METADATA_FILE
    path.write_text(metadata.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read_metadata(directory: Path) -> ModelMetadata:
    """Read a version's metadata, checked against its ``config.json``; ArtifactError if unusable."""
    directory = Path(directory)
    path = directory / METADATA_FILE
    if not path.is_file():
        raise ArtifactError(f"{directory}: no {METADATA_FILE}; not a trained model version")
    try:
        metadata = ModelMetadata.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise ArtifactError(f"{path}: invalid metadata: {exc.errors()[0]['msg']}") from exc
    if metadata.format_version != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: format_version {metadata.format_version}, this code reads {FORMAT_VERSION}"
        )
    labels = config_labels(directory)
    if labels != metadata.labels:
        raise ArtifactError(
            f"{directory}: id2label {labels} disagrees with metadata {metadata.labels}"
        )
    return metadata


def config_labels(directory: Path) -> list[str]:
    """The label names in id order, from the ``id2label`` that ``save_pretrained`` wrote."""
    path = Path(directory) / CONFIG_FILE
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        id2label = config["id2label"]
        return [id2label[str(i)] for i in range(len(id2label))]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{path}: missing or unreadable id2label ({exc})") from exc
