"""Admin auth and POST /admin/reload on the fake predictor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from .fakes import ADMIN_TOKEN, FakeLoader, point_current, wait_until

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
UNAUTHORISED = (
    "missing or wrong admin token: send the header 'Authorization: Bearer <STANCE_ADMIN_TOKEN>'"
)


def test_admin_routes_are_403_when_no_token_is_configured(
    models_dir: Path, make_client: Callable[..., TestClient]
) -> None:
    point_current(models_dir, "v1")

    response = make_client().post("/admin/reload", headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        403,
        "admin routes are disabled: the admin token is not configured (set STANCE_ADMIN_TOKEN)",
    )


def test_admin_routes_are_401_without_a_token(client: TestClient) -> None:
    response = client.post("/admin/reload")

    assert (response.status_code, response.json()["detail"]) == (401, UNAUTHORISED)
    assert response.headers["www-authenticate"] == "Bearer"


def test_admin_routes_are_401_with_a_wrong_token(client: TestClient) -> None:
    response = client.post("/admin/reload", headers={"Authorization": "Bearer nope"})

    assert (response.status_code, response.json()["detail"]) == (401, UNAUTHORISED)


def test_admin_routes_are_401_with_another_scheme(client: TestClient) -> None:
    response = client.post("/admin/reload", headers={"Authorization": f"Basic {ADMIN_TOKEN}"})

    assert response.status_code == 401


def test_reload_with_the_right_token_and_nothing_new_is_unchanged(client: TestClient) -> None:
    response = client.post("/admin/reload", headers=AUTH)

    assert (response.status_code, response.json()) == (
        200,
        {"status": "unchanged", "model_version": "v1"},
    )


def test_reload_serves_the_new_current(client: TestClient, models_dir: Path) -> None:
    point_current(models_dir, "v2")

    response = client.post("/admin/reload", headers=AUTH)

    assert response.json() == {"status": "loaded", "model_version": "v2"}
    assert client.post("/classify", json={"text": "a"}).json()["model_version"] == "v2"
    assert client.get("/model").json()["version"] == "v2"


def test_reload_refuses_a_broken_model_and_keeps_serving_the_old_one(
    client: TestClient, models_dir: Path, loader: FakeLoader
) -> None:
    loader.broken.add("v2")
    point_current(models_dir, "v2")

    response = client.post("/admin/reload", headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        409,
        "model 'v2' refused (v2 is broken on purpose); 'v1' keeps serving",
    )
    assert client.post("/classify", json={"text": "a"}).json()["model_version"] == "v1"
    assert "stance_model_reload_failures_total 1.0" in client.get("/metrics").text


def test_reload_refuses_a_model_that_fails_the_warm_up(
    client: TestClient, models_dir: Path, loader: FakeLoader
) -> None:
    loader.mislabelled.add("v2")
    point_current(models_dir, "v2")

    response = client.post("/admin/reload", headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        409,
        "model 'v2' refused (warm-up scores ['left', 'right'] do not match the labels "
        "['supportive', 'cautious', 'opposed', 'none']); 'v1' keeps serving",
    )


def test_reload_without_current_says_how_to_train(
    make_client: Callable[..., TestClient],
) -> None:
    response = make_client(admin_token=ADMIN_TOKEN).post("/admin/reload", headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        409,
        "models/current does not exist: run `make train` (or stance-train) to create it; "
        "no model is serving",
    )


def test_a_model_trained_after_startup_is_served_after_reload(
    models_dir: Path, make_client: Callable[..., TestClient]
) -> None:
    client = make_client(admin_token=ADMIN_TOKEN)
    point_current(models_dir, "v1")

    client.post("/admin/reload", headers=AUTH)

    assert client.get("/ready").status_code == 200


def test_the_poller_picks_up_a_new_current(
    models_dir: Path, make_client: Callable[..., TestClient]
) -> None:
    point_current(models_dir, "v1")
    client = make_client(reload_interval_s=0.02)

    point_current(models_dir, "v2")

    wait_until(lambda: client.get("/model").json()["version"] == "v2")
    assert client.post("/classify", json={"text": "a"}).json()["model_version"] == "v2"


def test_the_poller_refuses_a_broken_model_and_counts_it(
    models_dir: Path, make_client: Callable[..., TestClient], loader: FakeLoader
) -> None:
    point_current(models_dir, "v1")
    loader.broken.add("v2")
    client = make_client(reload_interval_s=0.02)

    point_current(models_dir, "v2")

    wait_until(lambda: "stance_model_reload_failures_total 1.0" in client.get("/metrics").text)
    assert client.get("/model").json()["version"] == "v1"
