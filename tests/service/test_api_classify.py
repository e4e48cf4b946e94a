"""POST /classify and /classify/batch on the fake predictor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .fakes import TRUNCATE_AT, FakeLoader, FakePredictor, point_current

TEXT = "Russia recognised the Taliban government."


def test_classify_answers_label_scores_version_and_truncation(client: TestClient) -> None:
    expected = FakePredictor("v1").predict_one(TEXT)

    response = client.post("/classify", json={"text": TEXT})

    assert response.status_code == 200
    assert response.json() == {
        "label": expected.label,
        "scores": expected.scores,
        "model_version": "v1",
        "truncated": False,
    }


def test_scores_are_probabilities_over_the_model_labels(client: TestClient) -> None:
    scores = client.post("/classify", json={"text": TEXT}).json()["scores"]

    assert list(scores) == ["supportive", "cautious", "opposed", "none"]
    assert sum(scores.values()) == pytest.approx(1)


def test_score_keys_come_from_the_loaded_model_not_the_corpus(
    models_dir: Path, make_client: Callable[..., TestClient], loader: FakeLoader
) -> None:
    loader.labels = ("pro", "anti")
    point_current(models_dir, "v1")

    scores = make_client().post("/classify", json={"text": TEXT}).json()["scores"]

    assert list(scores) == ["pro", "anti"]


def test_a_text_longer_than_the_model_reads_is_flagged_truncated(client: TestClient) -> None:
    response = client.post("/classify", json={"text": "word " * (TRUNCATE_AT // 5 + 1)})

    assert response.json()["truncated"] is True


def test_batch_answers_in_input_order(client: TestClient) -> None:
    texts = ["first sentence", "second one", "a third, longer sentence than the others"]
    fake = FakePredictor("v1")

    response = client.post("/classify/batch", json={"texts": texts})

    assert response.status_code == 200
    assert response.json()["model_version"] == "v1"
    assert response.json()["results"] == [
        {"label": p.label, "scores": p.scores, "truncated": p.truncated}
        for p in map(fake.predict_one, texts)
    ]


def test_batch_of_the_maximum_size_is_accepted(client: TestClient) -> None:
    response = client.post("/classify/batch", json={"texts": [f"text {i}" for i in range(8)]})

    assert response.status_code == 200
    assert len(response.json()["results"]) == 8


def test_batch_and_single_agree(client: TestClient) -> None:
    single = client.post("/classify", json={"text": TEXT}).json()
    [batched] = client.post("/classify/batch", json={"texts": [TEXT]}).json()["results"]

    assert batched == {k: single[k] for k in ("label", "scores", "truncated")}


def test_a_text_of_exactly_max_chars_is_accepted(client: TestClient) -> None:
    assert client.post("/classify", json={"text": "a" * 300}).status_code == 200


def test_unknown_fields_are_ignored(client: TestClient) -> None:
    response = client.post("/classify", json={"text": TEXT, "source": "un.org"})

    assert response.status_code == 200
