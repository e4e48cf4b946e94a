"""JSON logs, one object per line, carrying the request id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.logging import REQUEST_ID, JsonFormatter, request_id_from


@pytest.fixture
def access_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("service.access")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)


def format_record(message: str, **extra: object) -> dict[str, object]:
    record = logging.makeLogRecord({"name": "t", "levelname": "INFO", "msg": message, **extra})
    return dict(json.loads(JsonFormatter().format(record)))


def test_a_record_is_one_json_object_with_its_extras() -> None:
    entry = format_record("model loaded", model_version="v2")

    assert entry["message"] == "model loaded"
    assert entry["level"] == "info"
    assert entry["model_version"] == "v2"


def test_a_record_carries_the_current_request_id() -> None:
    token = REQUEST_ID.set("req-42")
    try:
        entry = format_record("hello")
    finally:
        REQUEST_ID.reset(token)

    assert entry["request_id"] == "req-42"


def test_a_sensible_request_id_is_kept() -> None:
    assert request_id_from("a1-b2.c3:d4_e5") == "a1-b2.c3:d4_e5"


def test_an_overlong_request_id_is_replaced() -> None:
    assert request_id_from("x" * 200) != "x" * 200


def test_each_request_is_logged_with_its_id_status_and_route(
    client: TestClient, access_log: io.StringIO
) -> None:
    client.post("/classify", json={"text": "a"}, headers={"X-Request-ID": "trace-7"})

    entry = json.loads(access_log.getvalue().splitlines()[-1])
    assert entry["request_id"] == "trace-7"
    assert (entry["route"], entry["status"], entry["method"]) == ("/classify", 200, "POST")
    assert entry["duration_ms"] >= 0
