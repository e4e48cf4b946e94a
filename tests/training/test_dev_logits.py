"""The int8 ladder's fp32 dev figure: early stopping's dev logits, unless a refit replaced the
model they came from."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stance.labels import Example
from training.config import TrainConfig
from training.data import Splits
from training.evaluate import predict_logits
from training.pipeline import saved_dev_logits
from training.train import FineTuner, TrainedModel

LABELS = ["a", "b", "c"]
TOPICS = ("recognition", "trade", "aid")


def examples(n: int, start: int = 0) -> list[Example]:
    return [
        Example(f"Sentence {i} about {TOPICS[i % 3]} talks.", LABELS[i % 3])
        for i in range(start, start + n)
    ]


def splits() -> Splits:
    return Splits(LABELS, examples(16), examples(8, start=16), [], "hash", [])


def trained(base_model_path: Path, refit: bool) -> tuple[TrainedModel, TrainConfig]:
    config = TrainConfig(refit=refit, freeze_layers=2, epochs=1, batch_size=8, max_length=16)
    tuner = FineTuner(config, str(base_model_path), LABELS, progress=False)
    data = splits()
    return tuner.train(data.dataset("train"), data.dataset("dev")), config


def fresh_dev_logits(model: TrainedModel, config: TrainConfig) -> np.ndarray:
    texts = [e.text for e in splits().dev]
    return predict_logits(model.model, model.tokenizer, texts, config.max_length)


def test_without_refit_early_stoppings_dev_logits_are_the_saved_models(base_model_path) -> None:
    model, config = trained(base_model_path, refit=False)
    reused = saved_dev_logits(model, splits(), config)
    assert reused is model.dev_logits
    np.testing.assert_allclose(reused, fresh_dev_logits(model, config), atol=1e-4)


def test_after_a_refit_the_saved_models_dev_logits_are_computed_again(base_model_path) -> None:
    model, config = trained(base_model_path, refit=True)
    computed = saved_dev_logits(model, splits(), config)
    np.testing.assert_allclose(computed, fresh_dev_logits(model, config), atol=1e-6)
    assert not np.allclose(computed, model.dev_logits, atol=1e-4)
