"""Frozen lower layers run once per sentence: the stand-ins change no figure, only the time."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from datasets import Dataset
from torch import nn
from transformers import (
    BertConfig,
    BertForSequenceClassification,
    MPNetConfig,
    MPNetForSequenceClassification,
    PreTrainedModel,
)

from training.config import TrainConfig
from training.frozen import FrozenOutputs, memoise_frozen_layers, restore_frozen_layers
from training.train import FineTuner, freeze_lower_layers

SIZES = {"hidden_size": 32, "num_hidden_layers": 4, "num_attention_heads": 2}
SIZES["intermediate_size"] = 64


def tiny_bert() -> PreTrainedModel:
    torch.manual_seed(0)
    return BertForSequenceClassification(BertConfig(vocab_size=100, num_labels=3, **SIZES))


def tiny_mpnet() -> PreTrainedModel:
    torch.manual_seed(0)
    return MPNetForSequenceClassification(MPNetConfig(vocab_size=100, num_labels=3, **SIZES))


MODELS = [pytest.param(tiny_bert, id="bert"), pytest.param(tiny_mpnet, id="mpnet")]


def batch(lengths: list[int], seed: int = 1) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.randint(5, 100, (len(lengths), width), generator=generator)
    mask = torch.tensor([[1] * n + [0] * (width - n) for n in lengths])
    return {"input_ids": ids * mask + 1 * (1 - mask), "attention_mask": mask}


def logits(model: nn.Module, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(**inputs).logits


def count_calls(layer: nn.Module) -> list[int]:
    calls = [0]
    layer.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize("make", MODELS)
def test_stored_outputs_give_the_plain_models_logits(make: Callable[[], PreTrainedModel]) -> None:
    model, inputs = make(), batch([7, 4, 9])
    plain = logits(model, inputs)
    memoise_frozen_layers(model, 2, FrozenOutputs())
    assert torch.allclose(logits(model, inputs), plain, atol=1e-6)
    assert torch.allclose(logits(model, inputs), plain, atol=1e-6)


@pytest.mark.parametrize("make", MODELS)
def test_a_sentence_seen_before_skips_the_frozen_layers(
    make: Callable[[], PreTrainedModel],
) -> None:
    model = make()
    calls = count_calls(model.base_model.encoder.layer[0])
    memoise_frozen_layers(model, 2, FrozenOutputs())
    logits(model, batch([7, 4, 9]))
    logits(model, {name: rows[[2, 0]] for name, rows in batch([7, 4, 9]).items()})
    assert calls == [1]


def test_a_batch_padded_otherwise_reads_the_same_outputs() -> None:
    model, inputs = tiny_bert(), batch([7, 4, 9])
    plain = logits(model, inputs)
    memoise_frozen_layers(model, 2, FrozenOutputs())
    logits(model, inputs)
    narrower = {name: rows[[1, 0], :7] for name, rows in inputs.items()}
    assert torch.allclose(logits(model, narrower), plain[[1, 0]], atol=1e-6)


def test_a_left_padded_batch_is_refused() -> None:
    model = tiny_bert()
    memoise_frozen_layers(model, 2, FrozenOutputs())
    inputs = batch([5, 3])
    inputs["attention_mask"] = inputs["attention_mask"].flip(1)
    with pytest.raises(ValueError, match="right-padded"):
        logits(model, inputs)


@pytest.mark.parametrize("make", MODELS)
def test_restoring_gives_back_the_real_model(make: Callable[[], PreTrainedModel]) -> None:
    model = make()
    classes = [type(layer) for layer in model.base_model.encoder.layer]
    keys = set(model.state_dict())
    memoise_frozen_layers(model, 3, FrozenOutputs())
    restore_frozen_layers(model)
    assert [type(layer) for layer in model.base_model.encoder.layer] == classes
    assert isinstance(model.base_model.embeddings.dropout, nn.Dropout)
    assert set(model.state_dict()) == keys
    assert not model._forward_pre_hooks


@pytest.mark.parametrize("make", MODELS)
def test_only_the_upper_layers_and_head_get_gradients(make: Callable[[], PreTrainedModel]) -> None:
    model = make()
    freeze_lower_layers(model, 2)
    memoise_frozen_layers(model, 2, FrozenOutputs())
    model.train()
    model(**batch([7, 4, 9])).logits.sum().backward()
    graded = {name for name, weight in model.named_parameters() if weight.grad is not None}
    trainable = {name for name, weight in model.named_parameters() if weight.requires_grad}
    assert graded == trainable
    assert all(".layer.0." not in name and ".layer.1." not in name for name in trainable)
    assert not any("embeddings" in name or "relative_attention" in name for name in trainable)


def test_fine_tuning_with_frozen_layers_saves_a_plain_model_with_the_base_weights(
    base_model_path,
) -> None:
    texts = [f"Sentence number {i} about {'recognition' if i % 2 else 'trade'}." for i in range(24)]
    data = Dataset.from_dict({"text": texts, "label": [i % 3 for i in range(24)]})
    config = TrainConfig(freeze_layers=4, epochs=2, batch_size=8, max_length=16, threads=2)
    tuner = FineTuner(config, str(base_model_path), ["a", "b", "c"], progress=False)
    trained = tuner.train(data.select(range(18)), data.select(range(18, 24)))
    base = BertForSequenceClassification.from_pretrained(base_model_path)
    layers = trained.model.base_model.encoder.layer
    assert all(type(layer).__name__ == "BertLayer" for layer in layers)
    base_layers = base.bert.encoder.layer
    assert torch.equal(layers[3].output.dense.weight, base_layers[3].output.dense.weight)
    assert not torch.equal(layers[4].output.dense.weight, base_layers[4].output.dense.weight)
    assert len(tuner.frozen_outputs.rows) == 24
