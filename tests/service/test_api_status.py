"""Health, readiness, model info, metrics, docs and request ids."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

NO_MODEL = "no model loaded: run `make train` (or stance-train) to create models/current"


def test_health_is_200_with_a_model(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_health_is_200_without_a_model(make_client: Callable[..., TestClient]) -> None:
    assert make_client().get("/health").status_code == 200


def test_ready_names_the_loaded_version(client: TestClient) -> None:
    response = client.get("/ready")

    assert (response.status_code, response.json()) == (
        200,
        {"status": "ready", "model_version": "v1"},
    )


def test_ready_is_503_without_a_model(make_client: Callable[..., TestClient]) -> None:
    response = make_client().get("/ready")

    assert (response.status_code, response.json()) == (503, {"detail": NO_MODEL})


def test_model_describes_the_loaded_version(client: TestClient) -> None:
    assert client.get("/model").json() == {
        "version": "v1",
        "base_model": "fake-base",
        "labels": ["supportive", "cautious", "opposed", "none"],
        "trained_at": "2025-01-02T03:04:05+00:00",
        "labels_hash": "cafe1234",
        "max_length": 64,
        "precision": "fp32",
        "precision_reason": "fp32 as configured",
        "test_metrics": {"macro_f1": 0.75, "accuracy": 0.8},
    }


def test_model_is_503_without_a_model(make_client: Callable[..., TestClient]) -> None:
    assert make_client().get("/model").status_code == 503


def test_metrics_count_requests_by_route_and_status(client: TestClient) -> None:
    client.post("/classify", json={"text": "a"})
    client.post("/classify", json={"text": ""})

    text = client.get("/metrics").text

    assert 'stance_requests_total{method="POST",route="/classify",status="200"} 1.0' in text
    assert 'stance_requests_total{method="POST",route="/classify",status="422"} 1.0' in text
    assert 'stance_request_duration_seconds_count{route="/classify"} 2.0' in text


def test_metrics_count_batch_sizes_and_predicted_labels(client: TestClient) -> None:
    results = client.post("/classify/batch", json={"texts": ["a", "b", "c"]}).json()["results"]

    text = client.get("/metrics").text

    assert "stance_micro_batch_size_count 1.0" in text
    assert "stance_micro_batch_size_sum 3.0" in text
    for label in {r["label"] for r in results}:
        count = sum(r["label"] == label for r in results)
        assert f'stance_predictions_total{{label="{label}"}} {count}.0' in text


def test_metrics_show_the_model_version(client: TestClient) -> None:
    text = client.get("/metrics").text

    assert 'stance_model_info{base_model="fake-base",version="v1"} 1.0' in text
    assert "stance_model_reloads_total 1.0" in text
    assert "stance_model_reload_failures_total 0.0" in text


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_two_apps_keep_separate_metrics(
    client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    client.post("/classify", json={"text": "a"})

    assert 'route="/classify"' not in make_client().get("/metrics").text


def test_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200


def test_openapi_states_the_limits_from_the_settings(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    assert schemas["ClassifyRequest"]["properties"]["text"]["maxLength"] == 300
    assert schemas["BatchRequest"]["properties"]["texts"]["maxItems"] == 8
    assert schemas["BatchRequest"]["properties"]["texts"]["items"]["maxLength"] == 300


def test_openapi_has_request_examples(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]

    assert schemas["ClassifyRequest"]["examples"][0]["text"]
    assert len(schemas["BatchRequest"]["examples"][0]["texts"]) == 2


def test_a_request_id_is_created_and_returned(client: TestClient) -> None:
    request_id = client.get("/health").headers["x-request-id"]

    assert len(request_id) == 32 and int(request_id, 16) >= 0


def test_the_callers_request_id_is_returned(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "abc-123"})

    assert response.headers["x-request-id"] == "abc-123"


def test_a_request_id_with_odd_characters_is_replaced(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "a b<script>"})

    assert response.headers["x-request-id"] != "a b<script>"


def test_error_responses_carry_the_request_id_too(client: TestClient) -> None:
    response = client.get("/nowhere", headers={"X-Request-ID": "err-1"})

    assert response.headers["x-request-id"] == "err-1"
