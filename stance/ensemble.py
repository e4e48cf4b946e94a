"""Ensemble versions: one version that averages the calibrated probabilities of its members.

Each member is a complete single-model version directory under ``members/`` of the ensemble's
own directory, trained on the same labels and split; the ensemble's ``metadata.json`` lists
them, and its ``config.json`` carries only the label names, so that everything that reads a
version's labels reads an ensemble's the same way. A large and a small model trained on the
same sentences err on different ones: averaging them is right more often than either alone
(the comparison is in training/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from stance.artifact import CONFIG_FILE, ArtifactError, ModelMetadata, read_metadata
from stance.backends import Precision
from stance.predictor import Member, Predictor, load_member, served_precision

MEMBERS_DIR = "members"


def member_paths(directory: Path, metadata: ModelMetadata) -> list[Path]:
    return [Path(directory) / name for name in metadata.members]


def model_paths(directory: Path, metadata: ModelMetadata) -> list[Path]:
    """The directories of a version's models: its members, or the version itself."""
    return member_paths(directory, metadata) if metadata.members else [Path(directory)]


def read_members(directory: Path, metadata: ModelMetadata) -> list[ModelMetadata]:
    """Each member's metadata; ArtifactError unless every one is a single-model version that
    answers the ensemble's labels, in the same order."""
    members = []
    for path in member_paths(directory, metadata):
        member = read_metadata(path)
        if member.members:
            raise ArtifactError(f"{path}: a member of an ensemble cannot be an ensemble")
        if member.labels != metadata.labels:
            raise ArtifactError(
                f"{path}: member answers {member.labels}, the ensemble {metadata.labels}"
            )
        members.append(member)
    return members


def load_ensemble(
    directory: Path,
    metadata: ModelMetadata,
    precision: Precision,
    batch_size: int,
    threads: int | None = None,
) -> Predictor:
    """The ensemble's predictor at ``precision``: at fp32 if the ensemble's int8 gate refused
    int8, and otherwise each member at the precision its own gate allows."""
    served, reason = served_precision(metadata, precision)
    loaded: list[Member] = []
    refused: list[str] = []
    paths = member_paths(directory, metadata)
    for path, member in zip(paths, read_members(directory, metadata), strict=True):
        member_served, member_reason = served_precision(member, served)
        if member_served != served:
            refused.append(f"{path.name}: {member_reason}")
        loaded.append(load_member(path, member, member_served, threads))
    if refused:
        served, reason = "fp32", "; ".join(refused)
    return Predictor(loaded, metadata, served, batch_size, reason)


def write_labels_config(directory: Path, labels: Sequence[str]) -> None:
    """The ensemble's ``config.json``: the ``id2label`` that every version carries."""
    config = {
        "id2label": {str(i): label for i, label in enumerate(labels)},
        "label2id": {label: i for i, label in enumerate(labels)},
    }
    text = json.dumps(config, indent=2) + "\n"
    (Path(directory) / CONFIG_FILE).write_text(text, encoding="utf-8")
