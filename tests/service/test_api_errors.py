"""Bad input gets a 4xx whose ``detail`` says what to fix; nothing gets a traceback."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from .fakes import FakeLoader, FakePredictor, point_current

JSON = {"content-type": "application/json"}
NO_MODEL = "no model loaded: run `make train` (or stance-train) to create models/current"
NOT_AN_OBJECT = "the request body must be a JSON object sent with Content-Type: application/json"
BODY_MISSING = "the request body is missing: send a JSON object with Content-Type: application/json"
TOO_LARGE = "the request body is larger than 4096 bytes: send fewer or shorter texts"

BLANK = "is empty or only whitespace: send the text to classify"
TOO_LONG = "has 301 characters, more than the limit of 300: shorten it"
NOT_JSON = "the request body is not valid JSON:"
NINE_TEXTS = '{"texts": [' + ", ".join(['"a"'] * 9) + "]}"

BAD_INPUT = [
    ("/classify", '{"text": ', 400, f"{NOT_JSON} Expecting value at character 9"),
    (
        "/classify",
        '{"text": "a",}',
        400,
        f"{NOT_JSON} Expecting property name enclosed in double quotes at character 13",
    ),
    ("/classify", "[" * 3000, 400, "the request body could not be parsed as JSON"),
    ("/classify", "", 422, BODY_MISSING),
    ("/classify", "[]", 422, NOT_AN_OBJECT),
    ("/classify", '"a text"', 422, NOT_AN_OBJECT),
    ("/classify", "{}", 422, "field 'text' is required"),
    ("/classify", '{"texts": ["a"]}', 422, "field 'text' is required"),
    ("/classify", '{"text": 5}', 422, "'text' must be a string"),
    ("/classify", '{"text": null}', 422, "'text' must be a string"),
    ("/classify", '{"text": ["a"]}', 422, "'text' must be a string"),
    ("/classify", '{"text": ""}', 422, f"'text' {BLANK}"),
    ("/classify", '{"text": " \\n\\t "}', 422, f"'text' {BLANK}"),
    (
        "/classify",
        '{"text": "a\\ud800b"}',
        422,
        "'text' is not valid Unicode: the text has a lone surrogate at character 1",
    ),
    ("/classify", '{"text": "' + "a" * 301 + '"}', 422, f"'text' {TOO_LONG}"),
    ("/classify/batch", "{}", 422, "field 'texts' is required"),
    ("/classify/batch", '{"texts": "a"}', 422, "'texts' must be a list of strings"),
    ("/classify/batch", '{"texts": []}', 422, "'texts' is empty: send at least one text"),
    ("/classify/batch", '{"texts": ["a", 3]}', 422, "'texts[1]' must be a string"),
    ("/classify/batch", '{"texts": ["a", "  "]}', 422, f"'texts[1]' {BLANK}"),
    ("/classify/batch", '{"texts": ["a", "' + "b" * 301 + '"]}', 422, f"'texts[1]' {TOO_LONG}"),
    (
        "/classify/batch",
        NINE_TEXTS,
        422,
        "'texts' has 9 texts, more than the limit of 8: send smaller batches",
    ),
    ("/classify", '{"text": "' + "a" * 4100 + '"}', 413, TOO_LARGE),
]


@pytest.mark.parametrize(("path", "body", "status", "detail"), BAD_INPUT)
def test_bad_input_gets_a_clear_4xx(
    client: TestClient, path: str, body: str, status: int, detail: str
) -> None:
    response = client.post(path, content=body, headers=JSON)

    assert (response.status_code, response.json()["detail"]) == (status, detail)


def test_a_body_that_is_not_utf8_is_400(client: TestClient) -> None:
    response = client.post("/classify", content=b'{"text": "\xff\xfe"}', headers=JSON)

    assert (response.status_code, response.json()["detail"]) == (
        400,
        "the request body could not be parsed as JSON",
    )


def test_validation_errors_also_list_every_problem(client: TestClient) -> None:
    response = client.post("/classify/batch", json={"texts": ["", 3]})

    assert response.json()["errors"] == [
        {
            "loc": ["body", "texts", 0],
            "type": "blank_text",
            "msg": "the text is empty or only whitespace",
        },
        {
            "loc": ["body", "texts", 1],
            "type": "string_type",
            "msg": "Input should be a valid string",
        },
    ]


def test_json_without_a_json_content_type_is_refused(client: TestClient) -> None:
    response = client.post(
        "/classify", content='{"text": "a"}', headers={"content-type": "text/plain"}
    )

    assert (response.status_code, response.json()["detail"]) == (422, NOT_AN_OBJECT)


def test_a_declared_length_over_the_limit_is_refused_before_reading(client: TestClient) -> None:
    headers = JSON | {"content-length": "999999"}

    response = client.post("/classify", content=b"{}", headers=headers)

    assert (response.status_code, response.json()["detail"]) == (413, TOO_LARGE)


def test_a_chunked_body_over_the_limit_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 500
        yield b'"}'

    response = client.post("/classify", content=chunks(), headers=JSON)

    assert (response.status_code, response.json()["detail"]) == (413, TOO_LARGE)


def test_a_chunked_body_under_the_limit_is_served(client: TestClient) -> None:
    response = client.post(
        "/classify", content=iter([b'{"text": ', b'"a chunked text"}']), headers=JSON
    )

    assert response.status_code == 200


def test_unknown_route_is_404(client: TestClient) -> None:
    response = client.get("/clasify")

    assert (response.status_code, response.json()["detail"]) == (
        404,
        "no route GET /clasify: see /docs for the routes",
    )


def test_wrong_method_is_405_and_names_the_right_one(client: TestClient) -> None:
    response = client.get("/classify")

    assert (response.status_code, response.json()["detail"]) == (
        405,
        "method GET is not allowed on /classify: use POST",
    )
    assert response.headers["allow"] == "POST"


def test_classify_without_a_model_is_503_saying_how_to_train_one(
    make_client: Callable[..., TestClient],
) -> None:
    response = make_client().post("/classify", json={"text": "a"})

    assert (response.status_code, response.json()["detail"]) == (503, NO_MODEL)


def test_batch_without_a_model_is_503(make_client: Callable[..., TestClient]) -> None:
    response = make_client().post("/classify/batch", json={"texts": ["a"]})

    assert (response.status_code, response.json()["detail"]) == (503, NO_MODEL)


def test_a_failing_predictor_gives_a_json_500_without_traceback(
    models_dir: Path, make_client: Callable[..., TestClient], loader: FakeLoader
) -> None:
    point_current(models_dir, "v1")
    client = make_client()

    def explode(texts: Sequence[str]) -> list[object]:
        raise RuntimeError("secret internals")

    loader.loaded["v1"].predict = explode
    response = client.post("/classify", json={"text": "a"}, headers={"X-Request-ID": "req-1"})

    assert response.status_code == 500
    assert response.json() == {
        "detail": "internal error (request id req-1); it was logged, please report it"
    }


def test_a_failing_batch_does_not_stop_later_requests(
    models_dir: Path, make_client: Callable[..., TestClient], loader: FakeLoader
) -> None:
    point_current(models_dir, "v1")
    client = make_client()
    predictor: FakePredictor = loader.loaded["v1"]
    working = predictor.predict

    def fail_once(texts: Sequence[str]) -> list[object]:
        predictor.predict = working
        raise RuntimeError("transient")

    predictor.predict = fail_once
    assert client.post("/classify", json={"text": "a"}).status_code == 500
    assert client.post("/classify", json={"text": "a"}).status_code == 200
