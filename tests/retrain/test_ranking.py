"""stance.suggest: the margin, the order, and what counts as already labelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stance.predictor import Prediction
from stance.suggest import labelled_texts, margin, rank, unlabelled


def prediction(*scores: float) -> Prediction:
    named = dict(zip(("supportive", "cautious", "opposed"), scores, strict=True))
    return Prediction(max(named, key=named.__getitem__), named, False)


def test_the_margin_is_the_top_score_minus_the_runner_up() -> None:
    assert margin({"a": 0.5, "b": 0.2, "c": 0.3}) == pytest.approx(0.2)


def test_ranking_puts_the_smallest_margin_first_and_keeps_input_order_on_ties() -> None:
    texts = ["sure", "torn", "tie one", "tie two"]
    predictions = [
        prediction(0.9, 0.05, 0.05),
        prediction(0.4, 0.39, 0.21),
        prediction(0.6, 0.3, 0.1),
        prediction(0.1, 0.3, 0.6),
    ]

    ranked = rank(texts, predictions, k=3)

    assert [s.text for s in ranked] == ["torn", "tie one", "tie two"]
    assert ranked[0].label == "supportive"


def test_unlabelled_drops_blanks_labelled_near_copies_and_repeats() -> None:
    labelled = ["Moscow formally accepted the credentials of the Taliban envoy."]
    texts = [
        "",
        "Moscow officially accepted the credentials of the Taliban envoy.",
        "Doha hosted a third round of talks.",
        "  Doha hosted a third   round of talks!",
    ]

    pool = unlabelled(texts, labelled)

    assert (pool.texts, pool.labelled, pool.repeated) == (
        ["Doha hosted a third round of talks."],
        1,
        1,
    )


def test_labelled_texts_read_the_corpus_and_an_incoming_file_outside_it(tmp_path: Path) -> None:
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "a.jsonl").write_text(json.dumps({"text": "One.", "label": "opposed"}) + "\nbroken\n")
    incoming = tmp_path / "inbox.jsonl"
    incoming.write_text(json.dumps({"text": "Two.", "label": "cautious"}) + "\n")

    assert labelled_texts(labels, incoming) == ["One.", "Two."]


def test_labelled_texts_of_a_missing_dir_are_none(tmp_path: Path) -> None:
    assert labelled_texts(tmp_path / "nowhere") == []


def four(*scores: float) -> Prediction:
    named = dict(zip(("supportive", "cautious", "opposed", "none"), scores, strict=True))
    return Prediction(max(named, key=named.__getitem__), named, False)


def test_sentences_the_model_is_sure_take_no_stance_are_left_out_unless_asked() -> None:
    texts = ["weather", "torn", "leaning none"]
    predictions = [four(0.01, 0.01, 0.01, 0.97), four(0.4, 0.35, 0.05, 0.2), four(0, 0.3, 0, 0.7)]

    assert [s.text for s in rank(texts, predictions, k=5, include_none=False)] == [
        "torn",
        "leaning none",
    ]
    assert len(rank(texts, predictions, k=5, include_none=True)) == 3
