"""POST /analyze on the fake predictor: sentences with offsets, actors, the summary, limits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stance.sentences import split_sentences

from .fakes import FakeLoader, point_current

ARTICLE = (
    "Russia Recognises the Taliban\n"
    "MOSCOW, July 3 (Reuters) - Moscow accepted the credentials of the Taliban's envoy, the "
    "Kremlin said. Islamabad said it was in no hurry to follow. The weather was mild."
)
SURE = {"supportive": 0.9, "cautious": 0.04, "opposed": 0.03, "none": 0.03}
NO_STANCE = {"supportive": 0.01, "cautious": 0.01, "opposed": 0.01, "none": 0.97}


@pytest.fixture
def analyze_client(
    repo_root: Path, models_dir: Path, make_client: Callable[..., TestClient]
) -> TestClient:
    point_current(models_dir, "v1")
    return make_client(
        actors_file=repo_root / "labels" / "actors.toml", max_document_chars=2000, max_batch=3
    )


def analyze(client: TestClient, body: object) -> tuple[int, dict]:
    response = client.post("/analyze", json=body)
    return response.status_code, response.json()


def test_every_sentence_comes_back_with_offsets_into_the_text(analyze_client: TestClient) -> None:
    status, body = analyze(analyze_client, {"text": ARTICLE})

    assert status == 200 and body["model_version"] == "v1"
    assert [s["id"] for s in body["sentences"]] == [0, 1, 2, 3]
    for sentence in body["sentences"]:
        assert ARTICLE[sentence["start"] : sentence["end"]] == sentence["text"]
        assert set(sentence["scores"]) == {"supportive", "cautious", "opposed", "none"}


def test_an_article_is_one_micro_batch(analyze_client: TestClient, loader: FakeLoader) -> None:
    batches = loader.loaded["v1"].batches
    before = len(batches)

    analyze(analyze_client, {"text": ARTICLE})

    assert [len(batch) for batch in batches[before:]] == [4]


def test_stance_sentences_name_their_actor_and_none_sentences_none(
    analyze_client: TestClient, loader: FakeLoader
) -> None:
    sentences = [s.text for s in split_sentences(ARTICLE)]
    loader.loaded["v1"].pinned.update({sentences[1]: SURE, sentences[3]: NO_STANCE})

    _, body = analyze(analyze_client, {"text": ARTICLE})

    assert body["sentences"][1]["actor"] == "Russia"
    assert body["sentences"][3]["actor"] is None
    russia = next(a for a in body["summary"]["actors"] if a["actor"] == "Russia")
    assert russia["most_confident"] == 1 and russia["counts"]["supportive"] >= 1


def test_the_summary_counts_labels_and_the_share_with_a_stance(
    analyze_client: TestClient, loader: FakeLoader
) -> None:
    sentences = [s.text for s in split_sentences(ARTICLE)]
    loader.loaded["v1"].pinned.update({text: NO_STANCE for text in sentences[:2]})
    loader.loaded["v1"].pinned.update({text: SURE for text in sentences[2:]})

    _, body = analyze(analyze_client, {"text": ARTICLE})

    assert body["summary"]["counts"] == {"supportive": 2, "cautious": 0, "opposed": 0, "none": 2}
    assert body["summary"]["stance_share"] == 0.5


def test_several_documents_keep_their_ids_and_order(analyze_client: TestClient) -> None:
    documents = [{"id": "b", "text": ARTICLE}, {"id": "a", "text": "Kabul was quiet."}]

    status, body = analyze(analyze_client, {"documents": documents})

    assert status == 200
    assert [d["id"] for d in body["documents"]] == ["b", "a"]
    assert [len(d["sentences"]) for d in body["documents"]] == [4, 1]


def test_text_with_no_sentence_gives_an_empty_analysis(analyze_client: TestClient) -> None:
    status, body = analyze(analyze_client, {"text": "<p></p>"})

    assert status == 200 and body["sentences"] == []
    assert body["summary"]["stance_share"] == 0.0


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"text": "  "}, "'text' is empty or only whitespace: send the text to classify"),
        ({"text": "a" * 2001}, "'text' has 2001 characters, more than the limit of 2000"),
        ({}, "send either 'text' (one article) or 'documents' (several), not both"),
        (
            {"text": "a", "documents": [{"id": "x", "text": "b"}]},
            "send either 'text' (one article) or 'documents' (several), not both",
        ),
        ({"documents": []}, "'documents' is empty"),
        ({"documents": "abc"}, "'documents' must be a list of objects with 'id' and 'text'"),
        ({"documents": [{"id": 5, "text": "a"}]}, "'documents[0].id' must be a string"),
        ({"documents": [{"text": "a"}]}, "field 'documents[0].id' is required"),
        (
            {"documents": [{"id": str(i), "text": "a"} for i in range(4)]},
            "'documents' has 4 texts, more than the limit of 3: send smaller batches",
        ),
        (
            {"documents": [{"id": "x", "text": "a" * 2001}]},
            "'documents[0].text' has 2001 characters, more than the limit of 2000",
        ),
    ],
    ids=[
        "blank",
        "too-long",
        "neither",
        "both",
        "no-documents",
        "documents-not-a-list",
        "numeric-id",
        "missing-id",
        "too-many-documents",
        "document-too-long",
    ],
)
def test_bad_input_is_a_422_that_says_what_to_fix(
    analyze_client: TestClient, body: object, detail: str
) -> None:
    status, answer = analyze(analyze_client, body)

    assert status == 422
    assert answer["detail"].startswith(detail)


def test_analyze_without_a_model_is_503(make_client: Callable[..., TestClient]) -> None:
    assert make_client().post("/analyze", json={"text": ARTICLE}).status_code == 503
