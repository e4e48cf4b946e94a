"""Probe sentences kept in a version with the fp32 scores they got at training time.

Before the service serves a version it runs the probes through the graph it is about to serve
and refuses it when a label changes or a score moves by more than a tolerance: the test-split
gate at training time judged one export, and the graph on disk may be another (exported at
load, copied, or read by another ONNX Runtime). The probes are the test sentences the fp32
model is surest of, a few per label, so a healthy int8 graph agrees on every one of them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from stance.artifact import PROBES_FILE, ArtifactError
from stance.predictor import Prediction

PER_LABEL = 4
TOLERANCE = 0.1


class Scorer(Protocol):
    labels: list[str]

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...


@dataclass(frozen=True)
class Probes:
    texts: list[str]
    scores: list[dict[str, float]]

    def write(self, directory: Path) -> Path:
        path = Path(directory) / PROBES_FILE
        path.write_text(json.dumps(asdict(self), indent=1) + "\n", encoding="utf-8")
        return path

    @classmethod
    def read(cls, directory: Path) -> Probes | None:
        """The version's probes, or None for a version saved before probes were kept."""
        path = Path(directory) / PROBES_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls([str(t) for t in data["texts"]], [dict(s) for s in data["scores"]])
        except (ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{path}: unreadable probes ({exc})") from exc


def choose_probes(scorer: Scorer, texts: Sequence[str], per_label: int = PER_LABEL) -> Probes:
    """The ``per_label`` texts the scorer is surest of for each label it predicts."""
    return probes_among(texts, scorer.predict(list(texts)), scorer.labels, per_label)


def probes_among(
    texts: Sequence[str],
    predictions: Sequence[Prediction],
    labels: Sequence[str],
    per_label: int = PER_LABEL,
) -> Probes:
    """:func:`choose_probes` from predictions already made for ``texts``."""
    ranked = sorted(
        zip(texts, predictions, strict=True), key=lambda pair: -pair[1].scores[pair[1].label]
    )
    chosen: list[tuple[str, Prediction]] = []
    for label in labels:
        chosen += [pair for pair in ranked if pair[1].label == label][:per_label]
    return Probes([text for text, _ in chosen], [p.scores for _, p in chosen])


def check_probes(scorer: Scorer, probes: Probes, tolerance: float = TOLERANCE) -> None:
    """ArtifactError unless no score moves by more than ``tolerance`` and every probe whose
    fp32 lead over the runner-up exceeds ``tolerance`` keeps its label (a near-tie may flip
    on rounding alone, as in a barely trained model, without the graph being broken)."""
    predictions = scorer.predict(probes.texts)
    flipped = 0
    worst = 0.0
    for expected, got in zip(probes.scores, predictions, strict=True):
        flipped += lead(expected) > tolerance and top_label(expected) != got.label
        worst = max([worst, *(abs(got.scores.get(k, 0.0) - v) for k, v in expected.items())])
    if flipped or worst > tolerance:
        raise ArtifactError(
            f"probe check failed: {flipped} of {len(probes.texts)} probe sentences changed label "
            f"and the largest score change is {worst:.3f} (tolerance {tolerance}); "
            "the graph does not reproduce the scores the version was trained to give"
        )


def top_label(scores: dict[str, float]) -> str:
    return max(scores, key=scores.__getitem__)


def lead(scores: dict[str, float]) -> float:
    """How far the top score is above the runner-up."""
    first, second = sorted(scores.values(), reverse=True)[:2]
    return first - second
