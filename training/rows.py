"""What ``stance-analyze`` writes, one row per sentence: the one function both engines use
to turn articles into rows (the process engine in :mod:`training.analyze`, each Ray actor in
:mod:`training.distributed`). Kept apart from the CLI so that an actor imports little."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stance.actors import Gazetteer
from stance.articles import Analysis, analyze, split_sentences
from stance.predictor import Predictor

COLUMNS = ("document", "sentence", "start", "end", "label", "score", "actor", "truncated", "text")


@dataclass(frozen=True)
class Article:
    id: str
    text: str


def analyze_chunk(
    chunk: list[Article], predictor: Predictor, gazetteer: Gazetteer
) -> list[Analysis]:
    """The articles' sentences go through the predictor together, as batched as it can."""
    split = [split_sentences(article.text) for article in chunk]
    predictions = predictor.predict([s.text for sentences in split for s in sentences])
    analyses, start = [], 0
    for sentences in split:
        mine = predictions[start : start + len(sentences)]
        analyses.append(analyze(sentences, mine, predictor.labels, gazetteer))
        start += len(sentences)
    return analyses


def articles_rows(
    chunk: list[Article], predictor: Predictor, gazetteer: Gazetteer
) -> list[dict[str, Any]]:
    """The output rows of ``chunk``, one per sentence: what both engines write."""
    return [
        row
        for article, analysis in zip(chunk, analyze_chunk(chunk, predictor, gazetteer), strict=True)
        for row in sentence_rows(article.id, analysis)
    ]


def sentence_rows(document: str, analysis: Analysis) -> list[dict[str, Any]]:
    """A row per sentence, keyed by (document, sentence): the COLUMNS and every label's score."""
    return [
        {
            "document": document,
            "sentence": s.id,
            "start": s.start,
            "end": s.end,
            "label": s.label,
            "score": s.scores[s.label],
            "actor": s.actor,
            "truncated": s.truncated,
            "text": s.text,
            "scores": s.scores,
        }
        for s in analysis.sentences
    ]
