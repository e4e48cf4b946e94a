"""Measuring a model: test metrics, calibration with temperature scaling, and the baseline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)
from sklearn.pipeline import Pipeline, make_pipeline
from tokenizers import Tokenizer
from transformers import PreTrainedModel

from stance.backends import TorchBackend
from stance.encoding import TextEncoder
from stance.labels import NONE, Example, NearDuplicateIndex, split
from stance.onnx import INT8_FILE, OnnxBackend
from stance.predictor import Predictor, batched_logits, softmax
from training.data import Splits
from training.errors import TrainingError

ECE_BINS = 10
PREDICT_BATCH = 64


def predict_logits(
    model: PreTrainedModel, tokenizer: Any, texts: Sequence[str], max_length: int
) -> np.ndarray:
    """Logits in input order, through the service's own encoder and batching: what is measured
    here is what the service will compute."""
    encoder = TextEncoder(
        Tokenizer.from_str(tokenizer.backend_tokenizer.to_str()), max_length, tokenizer.pad_token
    )
    n_labels = int(model.config.num_labels or 0)
    return batched_logits(encoder, TorchBackend(model), texts, n_labels, PREDICT_BATCH)[0]


def macro_f1(y_true: Sequence[int], y_pred: Sequence[int], n_labels: int) -> float:
    return float(
        f1_score(y_true, y_pred, labels=list(range(n_labels)), average="macro", zero_division=0)
    )


def classification_metrics(
    y_true: Sequence[int],
    probabilities: np.ndarray,
    labels: Sequence[str],
    files: Sequence[str] = (),
) -> dict[str, Any]:
    """Macro-F1, accuracy, per-class P/R/F1 (also ``<label>_f1``), confusion matrix and ECE;
    given the label file of each example, also ``by_file``: n, macro-F1 and accuracy per file.
    With a ``none`` label, ``macro_f1`` is the stance figure (see :func:`none_metrics`)."""
    ids = list(range(len(labels)))
    y_pred = probabilities.argmax(axis=1)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=ids, zero_division=0
    )
    per_class = {
        label: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, label in enumerate(labels)
    }
    metrics = {
        "n": len(y_true),
        "macro_f1": macro_f1(y_true, y_pred, len(labels)),
        "accuracy": float(accuracy_score(y_true, y_pred)) if len(y_true) else 0.0,
        **{f"{label}_f1": per_class[label]["f1"] for label in labels},
        "per_class": per_class,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=ids).tolist(),
        "ece": expected_calibration_error(probabilities, y_true),
    }
    if NONE in labels:
        metrics.update(none_metrics(list(y_true), y_pred.tolist(), labels))
    if files:
        metrics["by_file"] = scores_by_file(y_true, y_pred.tolist(), files, len(labels))
    return metrics


def none_metrics(y_true: list[int], y_pred: list[int], labels: Sequence[str]) -> dict[str, Any]:
    """The figures of a model that can answer ``none``.

    ``macro_f1`` becomes macro-F1 over the three stance labels on the stance sentences alone,
    where a ``none`` answer counts as a miss: the headline stays comparable with a three-label
    model scored on the same sentences (None where there are no stance sentences).
    ``four_label_macro_f1`` is over every sentence and label; ``stance_lost_to_none`` the share
    of stance sentences answered ``none``.
    """
    none = labels.index(NONE)
    predictions = [p for t, p in zip(y_true, y_pred, strict=True) if t != none]
    none_p, none_r, _, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=[none], zero_division=0
    )
    return {
        "macro_f1": headline_f1(y_true, y_pred, labels),
        "four_label_macro_f1": macro_f1(y_true, y_pred, len(labels)),
        "n_stance": len(predictions),
        "none_precision": float(none_p[0]),
        "none_recall": float(none_r[0]),
        "stance_lost_to_none": (
            sum(p == none for p in predictions) / len(predictions) if predictions else None
        ),
    }


def headline_f1(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> Any:
    """Macro-F1, over the stance labels on the stance sentences where ``none`` is a label (see
    :func:`none_metrics`); None when there is no sentence to score."""
    if NONE not in labels:
        return macro_f1(y_true, y_pred, len(labels))
    none = labels.index(NONE)
    pairs = [(t, p) for t, p in zip(y_true, y_pred, strict=True) if t != none]
    if not pairs:
        return None
    stance_ids = [i for i in range(len(labels)) if i != none]
    truths, predictions = [t for t, _ in pairs], [p for _, p in pairs]
    return float(f1_score(truths, predictions, labels=stance_ids, average="macro", zero_division=0))


def scores_by_file(
    y_true: Sequence[int], y_pred: Sequence[int], files: Sequence[str], n_labels: int
) -> dict[str, dict[str, float]]:
    """n, macro-F1 and accuracy on each label file's share of the examples: where a round of
    labels is harder than the rest, the corpus-wide figure hides it."""
    rows: dict[str, tuple[list[int], list[int]]] = {}
    for true, predicted, name in zip(y_true, y_pred, files, strict=True):
        truths, predictions = rows.setdefault(name, ([], []))
        truths.append(true)
        predictions.append(predicted)
    return {
        name: {
            "n": len(truths),
            "macro_f1": macro_f1(truths, predictions, n_labels),
            "accuracy": float(accuracy_score(truths, predictions)),
        }
        for name, (truths, predictions) in sorted(rows.items())
    }


def expected_calibration_error(
    probabilities: np.ndarray, y_true: Sequence[int], bins: int = ECE_BINS
) -> float:
    """Mean |accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    if len(y_true) == 0:
        return 0.0
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, bins + 1)
    error = 0.0
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            error += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(error)


@dataclass(frozen=True)
class Calibration:
    temperature: float
    dev_ece_before: float
    dev_ece_after: float
    fitted_temperature: float

    def as_dict(self) -> dict[str, float | bool]:
        return {**asdict(self), "kept": self.temperature != 1.0}


def calibrate(dev_logits: np.ndarray, dev_y: Sequence[int]) -> Calibration:
    """Fit a temperature on dev; keep it only if it lowers dev ECE, else use 1.0."""
    fitted = fit_temperature(dev_logits, dev_y)
    before = expected_calibration_error(softmax(dev_logits), dev_y)
    after = expected_calibration_error(softmax(dev_logits, fitted), dev_y)
    chosen = fitted if after < before else 1.0
    return Calibration(chosen, before, min(before, after), fitted)


def fit_temperature(logits: np.ndarray, y_true: Sequence[int]) -> float:
    """The temperature minimising dev negative log-likelihood (optimised in log space)."""
    if len(y_true) == 0:
        return 1.0
    log_t = torch.zeros(1, requires_grad=True)
    inputs = torch.tensor(logits, dtype=torch.float64)
    targets = torch.tensor(list(y_true), dtype=torch.long)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(inputs / log_t.exp(), targets)
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(np.clip(log_t.exp().item(), 0.05, 20.0))


def baseline_model(seed: int) -> Pipeline:
    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
        LogisticRegression(class_weight="balanced", max_iter=5000, C=10.0, random_state=seed),
    )


def baseline_metrics(
    train: Sequence[Example],
    test: Sequence[Example],
    labels: Sequence[str],
    seed: int,
    files: Sequence[str] = (),
) -> dict[str, Any]:
    """TF-IDF + logistic regression fitted on ``train``, measured like the model on ``test``."""
    model = baseline_model(seed).fit([e.text for e in train], label_ids(train, labels))
    probabilities = np.zeros((len(test), len(labels)))
    if test:
        probabilities[:, model.classes_] = model.predict_proba([e.text for e in test])
    return classification_metrics(label_ids(test, labels), probabilities, labels, files)


def confusion_text(matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> str:
    """The confusion matrix as aligned text: rows are true labels, columns predictions."""
    width = max(len(label) for label in [*labels, "true \\ pred"]) + 2
    lines = ["true \\ pred".ljust(width) + "".join(label.rjust(width) for label in labels)]
    for label, row in zip(labels, matrix, strict=True):
        lines.append(label.ljust(width) + "".join(str(n).rjust(width) for n in row))
    return "\n".join(lines)


def evaluate_model(
    model: PreTrainedModel,
    tokenizer: Any,
    dev_logits: np.ndarray,
    splits: Splits,
    max_length: int,
) -> tuple[dict[str, Any], np.ndarray]:
    """Test metrics of ``model`` with the temperature fitted on ``dev_logits`` (the logits of
    the model early stopping chose) and what calibration did; and the calibrated test
    probabilities, which an ensemble averages."""
    calibration = calibrate(dev_logits, label_ids(splits.dev, splits.labels))
    test_logits = predict_logits(model, tokenizer, [e.text for e in splits.test], max_length)
    test_y = label_ids(splits.test, splits.labels)
    probabilities = softmax(test_logits, calibration.temperature)
    metrics = classification_metrics(test_y, probabilities, splits.labels, splits.test_files)
    metrics["ece_before_scaling"] = expected_calibration_error(softmax(test_logits), test_y)
    metrics["calibration"] = calibration.as_dict()
    return metrics, probabilities


def int8_metrics(
    directory: Path,
    test: Sequence[Example],
    labels: Sequence[str],
    max_length: int,
    fp32_macro_f1: float | None,
) -> dict[str, float | None]:
    """Test macro-F1 of the version's ONNX Runtime int8 graph, beside fp32's (no temperature:
    it does not change the argmax)."""
    encoder = TextEncoder.load(directory, max_length)
    backend = OnnxBackend(Path(directory) / INT8_FILE).checked(len(labels))
    logits, _ = batched_logits(encoder, backend, [e.text for e in test], len(labels), PREDICT_BATCH)
    predicted = logits.argmax(axis=1).tolist()
    score = headline_f1(label_ids(test, labels), predicted, labels)
    return beside_fp32(score, fp32_macro_f1)


def served_int8_metrics(
    int8: Predictor, test: Sequence[Example], fp32_macro_f1: float | None
) -> dict[str, float | None]:
    """:func:`int8_metrics` for a version loaded at int8: one model or an ensemble's members."""
    return beside_fp32(score_predictor(int8, test)["macro_f1"], fp32_macro_f1)


def beside_fp32(score: float | None, fp32_macro_f1: float | None) -> dict[str, float | None]:
    """An int8 macro-F1 and its change from fp32's (None where either is missing)."""
    if score is None or fp32_macro_f1 is None:
        return {"macro_f1": score, "delta_macro_f1": None}
    return {"macro_f1": score, "delta_macro_f1": score - fp32_macro_f1}


def label_ids(examples: Sequence[Example], labels: Sequence[str]) -> list[int]:
    ids = {label: i for i, label in enumerate(labels)}
    return [ids[e.label] for e in examples]


def score_on(directory: Path, test: Sequence[Example], files: Sequence[str] = ()) -> dict[str, Any]:
    """Metrics of the version in ``directory`` on ``test``, skipping labels it does not know;
    given each example's label file, also per file (``by_file``)."""
    return score_predictor(Predictor.load(directory), test, files)


def score_predictor(
    predictor: Predictor, test: Sequence[Example], files: Sequence[str] = ()
) -> dict[str, Any]:
    """:func:`score_on` for a loaded predictor."""
    keep = [i for i, e in enumerate(test) if e.label in predictor.labels]
    if not keep:
        raise TrainingError(
            f"no sentence to score has a label this model answers ({', '.join(predictor.labels)})"
        )
    known = [test[i] for i in keep]
    probabilities, _ = predictor.probabilities([e.text for e in known])
    metrics = classification_metrics(
        label_ids(known, predictor.labels),
        probabilities,
        predictor.labels,
        [files[i] for i in keep] if files else (),
    )
    return {**metrics, "skipped_unknown_labels": len(test) - len(known)}


def answered(examples: Sequence[Example], labels: Sequence[str]) -> list[Example]:
    """The examples whose label is one of ``labels``: a three-label model has no ``none``."""
    return [e for e in examples if e.label in labels]


def unseen(held_out: Sequence[Example], corpus: Sequence[Example]) -> list[Example]:
    """The held-out examples that are not in the corpus, nor within a couple of words of one."""
    index = NearDuplicateIndex(e.text for e in corpus)
    fresh = [e for e in held_out if not index.matches(e.text)]
    if not fresh:
        raise TrainingError("every held-out sentence is already in the labelled corpus")
    return fresh


def score_held_out(
    predictor: Predictor, held_out: Sequence[Example], corpus: Sequence[Example]
) -> dict[str, Any]:
    """The predictor and the TF-IDF baseline on held-out sentences, leaving out those that are
    in the corpus or within a couple of words of one: a model scored on what it trained on looks
    better than it is. The baseline is fitted on the training side of the corpus's fixed split,
    as ``stance-train`` fits it, on the labels the predictor answers (a three-label version
    meets a three-label baseline)."""
    fresh = unseen(held_out, corpus)
    metrics = score_predictor(predictor, fresh)
    scored = answered(fresh, predictor.labels)
    train = answered(split(corpus)[0], predictor.labels)
    baseline = baseline_metrics(train, scored, predictor.labels, predictor.metadata.seed)
    return {**metrics, "skipped_in_labels": len(held_out) - len(fresh), "baseline": baseline}
