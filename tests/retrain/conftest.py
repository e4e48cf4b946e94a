"""Retraining-loop fixtures: apps on the fake predictor with a fake ``stance-train``, and temp
labels and model stores."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from stance.registry import ModelStore
from tests.service.fakes import ADMIN_TOKEN, SMALL_LIMITS

from .fake_trainer import point_current, write_version

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SEED = {
    "text": "Moscow formally accepted the credentials of the Taliban envoy.",
    "label": "supportive",
    "actor": "Russia",
}


@pytest.fixture
def labels_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "labels"
    directory.mkdir()
    (directory / "seeds.jsonl").write_text(json.dumps(SEED) + "\n", encoding="utf-8")
    return directory


@pytest.fixture
def store(tmp_path: Path, artifact_factory: Callable[..., Path]) -> ModelStore:
    """A store whose current version is 'tiny', a tiny random model with weights, for the CLIs."""
    store = ModelStore(tmp_path / "tiny-models")
    artifact_factory(store.root, "tiny", seed=3)
    store.set_current("tiny")
    return store


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    """A store whose current version is 'v1' (metadata only: the fake loader needs no weights)."""
    directory = tmp_path / "models"
    directory.mkdir()
    write_version(directory, "v1")
    point_current(directory, "v1")
    return directory


@pytest.fixture
def fake_trainer(tmp_path: Path) -> Path:
    script = tmp_path / "bin" / "stance-train"
    script.parent.mkdir()
    trainer = Path(__file__).with_name("fake_trainer.py")
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{trainer}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def make_settings(
    tmp_path: Path, labels_dir: Path, models_dir: Path, fake_trainer: Path
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "models_dir": models_dir,
            "labels_dir": labels_dir,
            "incoming_labels": labels_dir / "incoming.jsonl",
            "suggest_pool": tmp_path / "pool.txt",
            "retrain_command": fake_trainer,
            "admin_token": ADMIN_TOKEN,
            **SMALL_LIMITS,
        }
        return Settings(**(values | overrides))

    return make


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """An app serving the fake 'v1', with the admin token and the fake stance-train."""
    return make_client()
