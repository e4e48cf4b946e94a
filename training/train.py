"""Fine-tuning the base model: weighted cross-entropy, AdamW with warmup, early stopping."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from datasets import Dataset, concatenate_datasets
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    get_linear_schedule_with_warmup,
    set_seed,
)

from training.config import TrainConfig
from training.errors import TrainingError
from training.evaluate import macro_f1, predict_logits
from training.frozen import FrozenOutputs, memoise_frozen_layers, restore_frozen_layers

log = logging.getLogger(__name__)

NO_DECAY = ("bias", "LayerNorm.weight", "LayerNorm.bias")
MAX_GRAD_NORM = 1.0
LENGTH_POOL_BATCHES = 20


@dataclass(frozen=True)
class EpochRecord:
    epoch: int
    steps: int
    loss: float
    dev_macro_f1: float


@dataclass(frozen=True)
class RefitRecord:
    epochs: int
    sentences: int
    steps: int
    losses: list[float]


@dataclass
class TrainedModel:
    """The model to save, with what chose it: the early-stopping run's history and its logits
    on dev (the model that produced them is the one dev chose; with refit, not the one saved)."""

    model: PreTrainedModel
    tokenizer: Any
    dev_logits: np.ndarray
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    steps: int = 0
    refit: RefitRecord | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "best_epoch": self.best_epoch,
            "steps": self.steps,
            "history": [asdict(record) for record in self.history],
            "refit": asdict(self.refit) if self.refit else None,
        }


def load_base(base_path: str, labels: Sequence[str]) -> tuple[PreTrainedModel, Any]:
    """The base encoder with a fresh classification head for ``labels``; TrainingError if absent."""
    try:
        tokenizer = AutoTokenizer.from_pretrained(base_path)
        model = AutoModelForSequenceClassification.from_pretrained(
            base_path,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
    except (OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainingError(f"cannot load base model '{base_path}': {reason}") from exc
    return model, tokenizer


def class_weights(targets: Sequence[int], n_labels: int) -> torch.Tensor:
    """Inverse-frequency weights scaled so that a balanced corpus gets weight 1 everywhere."""
    found = np.bincount(np.asarray(targets, dtype=np.int64), minlength=n_labels).astype(float)
    weights = len(targets) / (n_labels * np.maximum(found, 1.0))
    return torch.tensor(weights, dtype=torch.float32)


class EarlyStopping:
    """Remembers the weights of the best dev score; says when patience has run out."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best = -1.0
        self.best_epoch = 0
        self.stale = 0
        self.state: dict[str, torch.Tensor] | None = None

    def should_stop(self, model: torch.nn.Module, epoch: int, score: float) -> bool:
        if score > self.best:
            self.best, self.best_epoch, self.stale = score, epoch, 0
            self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            self.stale += 1
        return self.stale >= self.patience

    def restore(self, model: torch.nn.Module) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)


@dataclass
class Loop:
    """The moving parts of one fine-tuning run."""

    config: TrainConfig
    model: PreTrainedModel
    tokenizer: Any
    texts: list[str]
    targets: list[int]
    total_steps: int
    optimiser: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LambdaLR
    loss_fn: torch.nn.Module
    generator: torch.Generator
    bar: tqdm
    steps: int = 0

    @property
    def done(self) -> bool:
        return self.steps >= self.total_steps

    def run_epoch(self, epoch: int) -> float:
        """One shuffled pass (or what is left of ``total_steps``); returns the mean loss."""
        self.model.train()
        losses: list[float] = []
        for batch in self.batches():
            if self.done:
                break
            losses.append(self.step(batch))
            self.bar.update(1)
            self.bar.set_postfix(epoch=epoch, loss=f"{np.mean(losses):.4f}")
        return float(np.mean(losses)) if losses else float("nan")

    def batches(self) -> list[list[int]]:
        """Shuffled batches of similar length: pools of shuffled examples are sorted by length
        before being cut into batches, so little compute is spent on padding."""
        order = torch.randperm(len(self.texts), generator=self.generator).tolist()
        pool_size = self.config.batch_size * LENGTH_POOL_BATCHES
        batches = []
        for start in range(0, len(order), pool_size):
            pool = sorted(order[start : start + pool_size], key=lambda i: len(self.texts[i]))
            size = self.config.batch_size
            batches += [pool[i : i + size] for i in range(0, len(pool), size)]
        shuffled = torch.randperm(len(batches), generator=self.generator).tolist()
        return [batches[i] for i in shuffled]

    def step(self, batch: list[int]) -> float:
        encoded = self.tokenizer(
            [self.texts[i] for i in batch],
            padding=True,
            truncation=True,
            max_length=self.config.max_length,
            return_tensors="pt",
        )
        device = self.model.device
        targets = torch.tensor([self.targets[i] for i in batch], device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.config.bf16):
            logits = self.model(**encoded.to(device)).logits
        loss = self.loss_fn(logits.float(), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), MAX_GRAD_NORM)
        self.optimiser.step()
        self.schedule.step()
        self.optimiser.zero_grad()
        self.steps += 1
        return float(loss.item())


@dataclass(frozen=True)
class FineTuner:
    """One recipe (``config``) applied to one base model and label set."""

    config: TrainConfig
    base_path: str
    labels: Sequence[str]
    progress: bool = True
    frozen_outputs: FrozenOutputs = field(default_factory=FrozenOutputs)

    def train(self, train: Dataset, dev: Dataset) -> TrainedModel:
        """Early stopping on dev chooses the number of epochs; with ``config.refit``, a fresh
        model is then trained on train + dev for that many epochs, so that the 15 % held out
        for choosing is not lost to the model that is saved."""
        chosen = self.fine_tune(train, dev)
        if not self.config.refit:
            return chosen
        model, record = self.refit(concatenate_datasets([train, dev]), chosen.best_epoch)
        return replace(chosen, model=model, refit=record)

    def fine_tune(self, train: Dataset, dev: Dataset) -> TrainedModel:
        """Train on ``train`` and keep the weights of the epoch with the best dev macro-F1."""
        loop = self.start(train, "train")
        stopping = EarlyStopping(self.config.patience)
        history: list[EpochRecord] = []
        with loop.bar, logging_redirect_tqdm():
            for epoch in range(1, self.config.epochs + 1):
                loss = loop.run_epoch(epoch)
                score = self.dev_score(loop, dev)
                history.append(EpochRecord(epoch, loop.steps, loss, score))
                loop.bar.set_postfix(epoch=epoch, loss=f"{loss:.4f}", dev_f1=f"{score:.3f}")
                log.info("epoch %d: loss %.4f, dev macro-F1 %.4f", epoch, loss, score)
                if stopping.should_stop(loop.model, epoch, score) or loop.done:
                    break
        stopping.restore(loop.model)
        dev_logits = self.logits(loop, dev)
        restore_frozen_layers(loop.model)
        move(loop.model, "cpu")
        return TrainedModel(
            loop.model, loop.tokenizer, dev_logits, history, stopping.best_epoch, loop.steps
        )

    def refit(self, data: Dataset, epochs: int) -> tuple[PreTrainedModel, RefitRecord]:
        """The early-stopping run again, from the base model, on ``data``: same seed and learning
        rate schedule (over ``config.epochs`` epochs of ``data``), stopped after ``epochs``."""
        log.info("refit: %d sentences, %d epochs", len(data), epochs)
        loop = self.start(data, "refit")
        loop.bar.reset(
            total=min(loop.total_steps, epochs * -(-len(data) // self.config.batch_size))
        )
        losses: list[float] = []
        with loop.bar, logging_redirect_tqdm():
            for epoch in range(1, epochs + 1):
                losses.append(loop.run_epoch(epoch))
                loop.bar.set_postfix(epoch=epoch, loss=f"{losses[-1]:.4f}")
                log.info("refit epoch %d: loss %.4f", epoch, losses[-1])
                if loop.done:
                    break
        loop.model.eval()
        restore_frozen_layers(loop.model)
        move(loop.model, "cpu")
        return loop.model, RefitRecord(epochs, len(data), loop.steps, losses)

    def start(self, data: Dataset, desc: str) -> Loop:
        """A fresh model from the base, seeded, with its optimiser and schedule over ``data``."""
        set_seed(self.config.seed)
        model, tokenizer = load_base(self.base_path, self.labels)
        freeze_lower_layers(model, self.config.freeze_layers)
        if self.config.freeze_layers:
            memoise_frozen_layers(model, self.config.freeze_layers, self.frozen_outputs)
        move(model, self.config.resolved_device())
        texts, targets = list(data["text"]), list(data["label"])
        total = -(-len(texts) // self.config.batch_size) * self.config.epochs
        if self.config.max_steps:
            total = min(total, self.config.max_steps)
        optimiser = make_optimiser(model, self.config)
        weights = class_weights(targets, len(self.labels)) if self.config.class_weighting else None
        if weights is not None:
            weights = weights.to(model.device)
        return Loop(
            config=self.config,
            model=model,
            tokenizer=tokenizer,
            texts=texts,
            targets=targets,
            total_steps=total,
            optimiser=optimiser,
            schedule=get_linear_schedule_with_warmup(
                optimiser, int(self.config.warmup_ratio * total), total
            ),
            loss_fn=torch.nn.CrossEntropyLoss(weight=weights),
            generator=torch.Generator().manual_seed(self.config.seed),
            bar=tqdm(
                total=total, desc=desc, unit="step", file=sys.stderr, disable=not self.progress
            ),
        )

    def logits(self, loop: Loop, data: Dataset) -> np.ndarray:
        return predict_logits(
            loop.model, loop.tokenizer, list(data["text"]), self.config.max_length
        )

    def dev_score(self, loop: Loop, dev: Dataset) -> float:
        predicted = self.logits(loop, dev).argmax(axis=1).tolist()
        return macro_f1(list(dev["label"]), predicted, len(self.labels))


def move(model: torch.nn.Module, device: str) -> None:
    torch.nn.Module.to(model, device)


def freeze_lower_layers(model: PreTrainedModel, layers: int) -> None:
    """Stop gradients at the embeddings and the ``layers`` lowest encoder layers. Weights the
    encoder shares across its layers (MPNet's relative position bias) are frozen too: a
    gradient to them would run the backward pass down through every frozen layer."""
    if not layers:
        return
    encoder: Any = model.base_model
    stack = list(encoder.encoder.layer)
    if layers >= len(stack):
        raise TrainingError(
            f"freeze_layers {layers} leaves no layer to train: the base model has {len(stack)}"
        )
    for module in [encoder.embeddings, *stack[:layers]]:
        module.requires_grad_(False)
    for name, weight in encoder.encoder.named_parameters():
        if not name.startswith("layer."):
            weight.requires_grad_(False)


def make_optimiser(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW without decay on biases and LayerNorm; fused, because the unfused CPU step over
    the ~100 weight tensors took about a fifth of each training step."""
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    groups = [
        {
            "params": [p for n, p in named if not n.endswith(NO_DECAY)],
            "weight_decay": config.weight_decay,
        },
        {"params": [p for n, p in named if n.endswith(NO_DECAY)], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.learning_rate, fused=True)
