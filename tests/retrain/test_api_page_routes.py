"""The routes the analysts' page needs beside the loop's own: the corpus counts per label,
each version's test figures, and its confusion-matrix plot."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from stance.artifact import CONFUSION_FILE

from .conftest import AUTH
from .fake_trainer import write_version

PNG = b"\x89PNG\r\n\x1a\nnot really a plot"
OPPOSED = {
    "text": "The resistance front rejected any recognition of the regime.",
    "label": "opposed",
}


def test_label_counts_cover_the_corpus_and_the_labels_sent(client: TestClient) -> None:
    client.post("/labels", json={"examples": [OPPOSED]}, headers=AUTH)

    response = client.get("/labels/counts")

    assert response.status_code == 200
    assert response.json() == {
        "counts": {"supportive": 1, "cautious": 0, "opposed": 1, "none": 0},
        "total": 2,
    }


def test_label_counts_need_no_admin_token(client: TestClient) -> None:
    assert client.get("/labels/counts").status_code == 200


def test_versions_carry_their_test_metrics(client: TestClient) -> None:
    versions = client.get("/admin/versions", headers=AUTH).json()

    assert versions[0]["test_metrics"] == {"macro_f1": 0.6}


def test_a_versions_confusion_matrix_is_its_png(client: TestClient, models_dir: Path) -> None:
    (models_dir / "v1" / CONFUSION_FILE).write_bytes(PNG)

    response = client.get("/admin/versions/v1/confusion-matrix", headers=AUTH)

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content == PNG


def test_a_confusion_matrix_needs_the_admin_token(client: TestClient, models_dir: Path) -> None:
    (models_dir / "v1" / CONFUSION_FILE).write_bytes(PNG)

    response = client.get("/admin/versions/v1/confusion-matrix")

    assert response.status_code == 401


def test_a_version_without_a_plot_is_a_404_saying_so(client: TestClient) -> None:
    response = client.get("/admin/versions/v1/confusion-matrix", headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        404,
        "version 'v1' has no confusion_matrix.png: its report was not written",
    )


def test_an_unknown_versions_plot_is_a_404_naming_the_known_ones(
    client: TestClient, models_dir: Path
) -> None:
    write_version(models_dir, "v2")

    response = client.get("/admin/versions/v9/confusion-matrix", headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        404,
        "no version 'v9': the latest versions are v1, v2",
    )
