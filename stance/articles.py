"""An article's analysis: its sentences with their stance and actor, and a summary by actor.

Splitting (:mod:`stance.sentences`) and assembling are here; predicting is the caller's (the
service through its micro-batcher, ``stance-analyze`` through the predictor in process), so
that both give the same rows for the same article.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stance.actors import Gazetteer
from stance.labels import NONE
from stance.predictor import Prediction
from stance.sentences import Sentence, split_sentences

__all__ = ["ActorSummary", "Analysis", "AnalyzedSentence", "Summary", "analyze", "split_sentences"]


@dataclass(frozen=True)
class AnalyzedSentence:
    id: int
    start: int
    end: int
    text: str
    label: str
    scores: dict[str, float]
    truncated: bool
    actor: str | None


@dataclass(frozen=True)
class ActorSummary:
    actor: str
    counts: dict[str, int]
    most_confident: int
    """Id of the actor's sentence whose label has the highest score."""


@dataclass(frozen=True)
class Summary:
    counts: dict[str, int]
    stance_share: float
    """Share of the sentences that take a stance (all of them for a model without ``none``)."""
    actors: list[ActorSummary] = field(default_factory=list)


@dataclass(frozen=True)
class Analysis:
    sentences: list[AnalyzedSentence]
    summary: Summary


def analyze(
    sentences: Sequence[Sentence],
    predictions: Sequence[Prediction],
    labels: Sequence[str],
    gazetteer: Gazetteer,
) -> Analysis:
    """Put the predictions of ``sentences`` together; a sentence with no stance has no actor."""
    rows = [
        AnalyzedSentence(
            id=i,
            start=s.start,
            end=s.end,
            text=s.text,
            label=p.label,
            scores=p.scores,
            truncated=p.truncated,
            actor=gazetteer.speaker(s.text) if p.label != NONE else None,
        )
        for i, (s, p) in enumerate(zip(sentences, predictions, strict=True))
    ]
    return Analysis(rows, summarise(rows, labels))


def summarise(rows: Sequence[AnalyzedSentence], labels: Sequence[str]) -> Summary:
    stance = [row for row in rows if row.label != NONE]
    by_actor: dict[str, list[AnalyzedSentence]] = {}
    for row in stance:
        if row.actor is not None:
            by_actor.setdefault(row.actor, []).append(row)
    actors = [
        ActorSummary(
            actor,
            label_counts(held, labels),
            max(held, key=lambda row: row.scores[row.label]).id,
        )
        for actor, held in sorted(by_actor.items(), key=lambda item: (-len(item[1]), item[0]))
    ]
    share = len(stance) / len(rows) if rows else 0.0
    return Summary(label_counts(rows, labels), share, actors)


def label_counts(rows: Sequence[AnalyzedSentence], labels: Sequence[str]) -> dict[str, int]:
    return {label: sum(row.label == label for row in rows) for label in labels}
