"""Stratified K-fold over train+dev: how much a macro-F1 figure moves with the data it sees."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from training.config import TrainConfig
from training.data import Splits, carve_dev, cv_folds, to_dataset
from training.evaluate import baseline_metrics, label_ids, macro_f1, predict_logits
from training.train import FineTuner

log = logging.getLogger(__name__)


def cross_validate(
    config: TrainConfig, base_path: str, splits: Splits, k: int, progress: bool = True
) -> dict[str, Any]:
    """Fine-tuned and baseline macro-F1 on each held-out fold; the test split is never used."""
    labels = splits.labels
    tuner = FineTuner(config, base_path, labels, progress)
    tuned: list[float] = []
    baseline: list[float] = []
    folds = cv_folds(splits.train_pool, labels, k, config.seed)
    for fold, (learn, held_out) in enumerate(folds, start=1):
        train, dev = carve_dev(learn, labels, config.dev_fraction, config.seed)
        trained = tuner.train(to_dataset(train, labels), to_dataset(dev, labels))
        logits = predict_logits(
            trained.model, trained.tokenizer, [e.text for e in held_out], config.max_length
        )
        tuned.append(macro_f1(label_ids(held_out, labels), logits.argmax(axis=1), len(labels)))
        baseline.append(baseline_metrics(learn, held_out, labels, config.seed)["macro_f1"])
        log.info("fold %d/%d: macro-F1 %.4f, baseline %.4f", fold, k, tuned[-1], baseline[-1])
    return {"k": k, "fine_tuned": summarise(tuned), "baseline": summarise(baseline)}


def summarise(scores: list[float]) -> dict[str, Any]:
    return {
        "mean": float(np.mean(scores)),
        "sd": float(np.std(scores, ddof=1)) if len(scores) > 1 else 0.0,
        "folds": scores,
    }
