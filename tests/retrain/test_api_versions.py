"""POST /admin/rollback and GET /admin/versions on the fake predictor."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.service.fakes import FakeLoader

from .conftest import AUTH
from .fake_trainer import point_current, write_version


def rollback(client: TestClient, version: str) -> tuple[int, dict[str, object]]:
    response = client.post("/admin/rollback", json={"version": version}, headers=AUTH)
    return response.status_code, response.json()


def test_rollback_serves_an_earlier_version_at_once(client: TestClient, models_dir: Path) -> None:
    write_version(models_dir, "v2")
    point_current(models_dir, "v2")
    client.post("/admin/reload", headers=AUTH)

    status, body = rollback(client, "v1")

    assert (status, body) == (200, {"model_version": "v1", "previous_version": "v2"})
    assert client.get("/model").json()["version"] == "v1"
    assert (models_dir / "current").readlink() == Path("v1")


def test_rollback_to_an_unknown_version_is_a_404_naming_the_known_ones(
    client: TestClient, models_dir: Path
) -> None:
    write_version(models_dir, "v2")

    status, body = rollback(client, "v9")

    assert (status, body["detail"]) == (404, "no version 'v9': the latest versions are v1, v2")


def test_rollback_to_a_path_is_a_404(client: TestClient) -> None:
    status, body = rollback(client, "../v1")

    assert (status, body["detail"]) == (404, "no version '../v1': the latest versions are v1")


def test_rollback_to_an_unreadable_version_is_a_409_and_changes_nothing(
    client: TestClient, models_dir: Path
) -> None:
    (models_dir / "v2").mkdir()

    status, body = rollback(client, "v2")

    assert status == 409
    assert body["detail"] == (
        f"version 'v2' cannot be served: {models_dir / 'v2'}: no metadata.json; "
        "not a trained model version; current is unchanged"
    )
    assert (models_dir / "current").readlink() == Path("v1")


def test_rollback_to_a_version_the_service_refuses_puts_current_back(
    client: TestClient, models_dir: Path, loader: FakeLoader
) -> None:
    write_version(models_dir, "v2")
    loader.broken.add("v2")

    status, body = rollback(client, "v2")

    assert (status, body["detail"]) == (
        409,
        "version 'v2' refused (v2 is broken on purpose); current is back on 'v1' "
        "and 'v1' keeps serving",
    )
    assert (models_dir / "current").readlink() == Path("v1")
    assert client.get("/model").json()["version"] == "v1"


def test_rollback_needs_a_version(client: TestClient) -> None:
    response = client.post("/admin/rollback", json={}, headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        422,
        "field 'version' is required",
    )


def test_rollback_needs_the_admin_token(client: TestClient) -> None:
    assert client.post("/admin/rollback", json={"version": "v1"}).status_code == 401


def test_versions_lists_the_store_with_what_is_current_and_served(
    client: TestClient, models_dir: Path
) -> None:
    write_version(models_dir, "v2")
    (models_dir / "v3").mkdir()

    listed = client.get("/admin/versions", headers=AUTH).json()

    assert [(v["version"], v["current"], v["serving"]) for v in listed] == [
        ("v1", True, True),
        ("v2", False, False),
        ("v3", False, False),
    ]
    assert listed[1]["test_macro_f1"] == 0.6
    assert "no metadata.json" in listed[2]["error"]
