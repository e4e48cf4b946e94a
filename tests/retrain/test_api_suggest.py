"""POST /suggest on the fake predictor: order, what is skipped, the default pool, validation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stance.suggest import margin
from tests.service.fakes import FakeLoader, FakePredictor

from .conftest import SEED

POOL = [
    "Ankara kept its embassy in Kabul open throughout the year.",
    "The Uzbek delegation signed a railway agreement in Termez.",
    "Beijing accepted the credentials of a new ambassador.",
    "Analysts in Delhi doubted that formal ties would follow soon.",
    "The European Parliament condemned the ban on girls' schooling.",
    "Doha hosted a third round of talks under UN auspices.",
    "Tehran urged an inclusive government before any recognition.",
]


def margins(texts: list[str]) -> dict[str, float]:
    predictor = FakePredictor("v1")
    return {text: margin(predictor.predict_one(text).scores) for text in texts}


def test_the_least_certain_texts_come_first(client: TestClient) -> None:
    response = client.post("/suggest", json={"texts": POOL, "k": 3})

    body = response.json()
    expected = sorted(POOL, key=margins(POOL).__getitem__)[:3]
    assert response.status_code == 200
    assert [s["text"] for s in body["suggestions"]] == expected
    assert [s["margin"] for s in body["suggestions"]] == sorted(margins(expected).values())
    assert (body["model_version"], body["ranked"]) == ("v1", len(POOL))


SURE_NONE = {"supportive": 0.01, "cautious": 0.01, "opposed": 0.01, "none": 0.97}


@pytest.mark.parametrize(("include_none", "suggested"), [(False, 6), (True, 7)])
def test_sentences_sure_to_take_no_stance_are_suggested_only_when_asked(
    client: TestClient, loader: FakeLoader, include_none: bool, suggested: int
) -> None:
    loader.loaded["v1"].pinned[POOL[1]] = SURE_NONE

    body = client.post("/suggest", json={"texts": POOL, "include_none": include_none}).json()

    assert len(body["suggestions"]) == suggested
    assert (POOL[1] in [s["text"] for s in body["suggestions"]]) is include_none


def test_labelled_texts_and_repeats_are_skipped(client: TestClient) -> None:
    near_copy = SEED["text"].replace("formally", "officially")
    texts = [SEED["text"].lower(), near_copy, POOL[0], POOL[0] + "!", POOL[1]]

    body = client.post("/suggest", json={"texts": texts}).json()

    assert sorted(s["text"] for s in body["suggestions"]) == sorted(POOL[:2])
    assert (body["skipped_labelled"], body["skipped_repeated"], body["ranked"]) == (2, 1, 2)


def test_texts_added_through_labels_are_skipped_too(client: TestClient, labels_dir: Path) -> None:
    (labels_dir / "incoming.jsonl").write_text(f'{{"text": "{POOL[0]}", "label": "opposed"}}\n')

    body = client.post("/suggest", json={"texts": POOL[:2]}).json()

    assert [s["text"] for s in body["suggestions"]] == [POOL[1]]


def test_without_texts_the_default_pool_is_ranked(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "pool.txt").write_text("\n".join([SEED["text"], *POOL, ""]) + "\n")

    body = client.post("/suggest", json={"k": 100}).json()

    assert sorted(s["text"] for s in body["suggestions"]) == sorted(POOL)
    assert body["skipped_labelled"] == 1


def test_a_missing_default_pool_is_a_404_that_says_what_to_send(
    client: TestClient, tmp_path: Path
) -> None:
    response = client.post("/suggest", json={})

    assert (response.status_code, response.json()["detail"]) == (
        404,
        f"no 'texts' were sent and the default pool {tmp_path / 'pool.txt'} cannot be read "
        "(No such file or directory): send the texts to rank",
    )


def test_when_everything_is_labelled_the_answer_is_empty(client: TestClient) -> None:
    body = client.post("/suggest", json={"texts": [SEED["text"]]}).json()

    assert (body["suggestions"], body["ranked"], body["model_version"]) == ([], 0, "v1")


def test_k_must_be_positive(client: TestClient) -> None:
    response = client.post("/suggest", json={"texts": POOL, "k": 0})

    assert (response.status_code, response.json()["detail"]) == (
        422,
        "'k': Input should be greater than or equal to 1",
    )


def test_an_empty_text_list_is_a_422(client: TestClient) -> None:
    response = client.post("/suggest", json={"texts": []})

    assert (response.status_code, response.json()["detail"]) == (
        422,
        "'texts' is empty: send at least one text",
    )


def test_more_texts_than_max_batch_is_a_422(client: TestClient) -> None:
    response = client.post("/suggest", json={"texts": POOL * 2})

    assert response.status_code == 422
    assert response.json()["detail"].startswith("'texts' has 14 texts, more than the limit of 8")


def test_suggest_without_a_model_is_a_503(
    make_client: Callable[..., TestClient], models_dir: Path
) -> None:
    (models_dir / "current").unlink()

    response = make_client().post("/suggest", json={"texts": POOL})

    assert response.status_code == 503


def test_an_unknown_field_is_a_422_naming_it(client: TestClient) -> None:
    response = client.post("/suggest", json={"text": POOL[0]})

    assert (response.status_code, response.json()["detail"]) == (
        422,
        "'text': Extra inputs are not permitted",
    )
