"""POST /labels: per-example answers, the all-invalid 422, bounds and auth."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from stance.labels import load_examples

from .conftest import AUTH, SEED

NEW = {"text": "Berlin said recognition was not on the table.", "label": "cautious"}
UNKNOWN_LABEL = "unknown label 'neutral': use one of supportive, cautious, opposed, none"


def post(client: TestClient, examples: object) -> tuple[int, dict[str, object]]:
    response = client.post("/labels", json={"examples": examples}, headers=AUTH)
    return response.status_code, response.json()


def test_a_new_example_is_added_to_the_incoming_file(client: TestClient, labels_dir: Path) -> None:
    status, body = post(client, [NEW])

    assert status == 200
    assert body["results"] == [
        {"status": "added", "message": "added", "existing_label": None, "existing_text": None}
    ]
    assert body["counts"] == {"added": 1, "duplicate": 0, "conflict": 0, "invalid": 0}
    assert (labels_dir / "incoming.jsonl").read_text().count("\n") == 1
    assert len(load_examples(labels_dir)) == 2


def test_fields_that_were_not_sent_are_not_written_empty(
    client: TestClient, labels_dir: Path
) -> None:
    post(client, [NEW])

    assert json.loads((labels_dir / "incoming.jsonl").read_text()) == NEW


def test_each_example_gets_its_own_answer(client: TestClient) -> None:
    examples = [
        NEW,
        {"text": SEED["text"].upper(), "label": "supportive"},
        {"text": SEED["text"], "label": "opposed"},
        {"text": "Ankara kept its embassy open.", "label": "neutral"},
        "not an object",
    ]

    status, body = post(client, examples)

    assert status == 200
    assert [(r["status"], r["message"]) for r in body["results"]] == [
        ("added", "added"),
        ("duplicate", "duplicate of an existing example"),
        ("conflict", "duplicate of an existing example labelled 'supportive'"),
        ("invalid", UNKNOWN_LABEL),
        ("invalid", "expected a JSON object with 'text' and 'label'"),
    ]
    assert body["results"][2]["existing_label"] == "supportive"
    assert body["results"][2]["existing_text"] == SEED["text"]


def test_a_request_whose_examples_are_all_invalid_is_a_422_listing_each(
    client: TestClient, labels_dir: Path
) -> None:
    status, body = post(client, [{"text": "Ankara waited.", "label": "neutral"}, {"text": "x"}])

    assert status == 422
    assert body["detail"] == (
        f"none of the 2 examples is valid; 'examples[0]': {UNKNOWN_LABEL} (see 'errors')"
    )
    assert [(e["loc"], e["msg"]) for e in body["errors"]] == [
        (["body", "examples", 0], UNKNOWN_LABEL),
        (["body", "examples", 1], "missing field 'label'"),
    ]
    assert not (labels_dir / "incoming.jsonl").exists()


def test_one_invalid_example_is_a_422_that_says_why(client: TestClient) -> None:
    status, body = post(client, [{"text": " ", "label": "cautious"}])

    assert (status, body["detail"]) == (422, "'examples[0]': field 'text' is empty")


def test_no_examples_is_a_422(client: TestClient) -> None:
    status, body = post(client, [])

    assert (status, body["detail"]) == (
        422,
        "'examples' is empty: send at least one labelled example",
    )


def test_more_than_500_examples_is_a_422(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=1_000_000)

    status, body = post(client, [NEW] * 501)

    assert (status, body["detail"]) == (
        422,
        "'examples' has 501 examples, more than the limit of 500: send them in several requests",
    )


def test_examples_that_are_not_a_list_is_a_422(client: TestClient) -> None:
    status, body = post(client, {"text": "a", "label": "cautious"})

    assert (status, body["detail"]) == (
        422,
        "'examples': must be a list of objects with 'text' and 'label'",
    )


def test_a_body_without_examples_is_a_422(client: TestClient) -> None:
    response = client.post("/labels", json={"texts": []}, headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        422,
        "field 'examples' is required",
    )


def test_labels_need_the_admin_token(client: TestClient) -> None:
    response = client.post("/labels", json={"examples": [NEW]})

    assert response.status_code == 401


def test_labels_are_refused_when_no_admin_token_is_configured(
    make_client: Callable[..., TestClient],
) -> None:
    response = make_client(admin_token=None).post("/labels", json={"examples": [NEW]}, headers=AUTH)

    assert response.status_code == 403
