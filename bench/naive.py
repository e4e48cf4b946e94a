"""The obvious way to run a version with transformers: a pipeline per model, scores averaged.

A one-model version is a pipeline; an ensemble version (``members/``) is one pipeline per
member, whose scores are averaged as the service averages its members' probabilities. Both
the in-process baseline (``bench.throughput``) and the naive endpoint (``bench.naive_server``)
use it, so that the project is always measured against the same model run the obvious way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from stance.artifact import read_metadata
from stance.ensemble import model_paths

Answer = dict[str, Any]
NaiveClassify = Callable[[list[str]], list[Answer]]


def model_dirs(version_dir: Path) -> list[Path]:
    """The directories of a version's models: its members, or the version itself."""
    return model_paths(version_dir, read_metadata(version_dir))


def naive_classifier(version_dir: Path, max_length: int | None = None) -> NaiveClassify:
    from transformers import pipeline

    pipelines = [
        pipeline("text-classification", model=str(path), device=-1)
        for path in model_dirs(version_dir)
    ]
    limits = {"max_length": max_length} if max_length else {}

    def classify(texts: list[str]) -> list[Answer]:
        answers: list[Any] = [
            run(texts, batch_size=len(texts), truncation=True, top_k=None, **limits)
            for run in pipelines
        ]
        return [mean_answer([answer[i] for answer in answers]) for i in range(len(texts))]

    return classify


def mean_answer(answers: Sequence[Sequence[Answer]]) -> Answer:
    """The label with the highest mean score over the models' answers, and that score."""
    scores: dict[str, float] = {}
    for answer in answers:
        for item in answer:
            scores[item["label"]] = scores.get(item["label"], 0.0) + item["score"] / len(answers)
    label = max(scores, key=scores.__getitem__)
    return {"label": label, "score": scores[label]}
