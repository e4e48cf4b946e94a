"""Service test fixtures: isolated settings on temporary dirs, and apps on a fake predictor."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings

from .fakes import ADMIN_TOKEN, SMALL_LIMITS, point_current


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    path = tmp_path / "models"
    path.mkdir()
    return path


@pytest.fixture
def make_settings(tmp_path: Path, models_dir: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "models_dir": models_dir,
            "labels_dir": tmp_path / "labels",
            "incoming_labels": tmp_path / "labels" / "incoming.jsonl",
            **SMALL_LIMITS,
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
def client(models_dir: Path, make_client: Callable[..., TestClient]) -> TestClient:
    """An app serving the fake model version 'v1', with an admin token."""
    point_current(models_dir, "v1")
    return make_client(admin_token=ADMIN_TOKEN)
