"""``bf16``: the training steps run under bfloat16 autocast; everything else stays float32."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from datasets import Dataset

from training import train
from training.config import TrainConfig
from training.train import FineTuner, TrainedModel

Seen = list[tuple[bool, torch.dtype]]


def data(n: int) -> Dataset:
    texts = [f"Sentence {i} about {'recognition' if i % 2 else 'trade'} talks." for i in range(n)]
    return Dataset.from_dict({"text": texts, "label": [i % 3 for i in range(n)]})


def classifier_outputs(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """(training?, dtype) of every output of the models' classification head."""
    seen: Seen = []
    load_base: Callable[..., Any] = train.load_base

    def hooked(*args: Any) -> Any:
        model, tokenizer = load_base(*args)
        model.classifier.register_forward_hook(
            lambda module, _inputs, output: seen.append((module.training, output.dtype))
        )
        return model, tokenizer

    monkeypatch.setattr(train, "load_base", hooked)
    return seen


def fine_tune(base_model_path: Any, bf16: bool, freeze_layers: int = 0) -> TrainedModel:
    config = TrainConfig(
        bf16=bf16, freeze_layers=freeze_layers, epochs=1, batch_size=8, max_length=16, threads=2
    )
    tuner = FineTuner(config, str(base_model_path), ["a", "b", "c"], progress=False)
    examples = data(24)
    return tuner.train(examples.select(range(16)), examples.select(range(16, 24)))


def test_bf16_training_steps_run_in_bfloat16(base_model_path, monkeypatch) -> None:
    seen = classifier_outputs(monkeypatch)
    fine_tune(base_model_path, bf16=True)
    assert {dtype for training, dtype in seen if training} == {torch.bfloat16}


def test_bf16_scores_dev_in_float32(base_model_path, monkeypatch) -> None:
    seen = classifier_outputs(monkeypatch)
    trained = fine_tune(base_model_path, bf16=True)
    assert {dtype for training, dtype in seen if not training} == {torch.float32}
    assert trained.dev_logits.dtype == "float32"


def test_bf16_saves_a_float32_model(base_model_path) -> None:
    trained = fine_tune(base_model_path, bf16=True, freeze_layers=2)
    assert {weight.dtype for weight in trained.model.parameters()} == {torch.float32}


def test_without_bf16_training_steps_run_in_float32(base_model_path, monkeypatch) -> None:
    seen = classifier_outputs(monkeypatch)
    fine_tune(base_model_path, bf16=False)
    assert {dtype for training, dtype in seen if training} == {torch.float32}
