"""Test doubles and helpers shared by the service tests."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from stance.artifact import ArtifactError, ModelMetadata
from stance.labels import LABELS
from stance.predictor import Prediction

ADMIN_TOKEN = "test-admin-token"

SMALL_LIMITS: dict[str, object] = {
    "reload_interval_s": 0,
    "threads": 1,
    "max_chars": 300,
    "max_batch": 8,
    "max_body_bytes": 4096,
}
"""Settings that keep test apps small: no reload polling, one thread, tight input limits."""

TRUNCATE_AT = 200
T = TypeVar("T")


class FakePredictor:
    """Scores from a hash of version and text: deterministic, text-dependent, free to compute."""

    def __init__(self, version: str, labels: Sequence[str] = LABELS) -> None:
        self.version = version
        self.precision = "fp32"
        self.precision_reason = "fp32 as configured"
        self.labels = list(labels)
        self.metadata = ModelMetadata(
            version=version,
            labels=self.labels,
            base_model="fake-base",
            labels_hash="cafe1234",
            created_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC).isoformat(),
            max_length=64,
            seed=0,
            metrics={"macro_f1": 0.75, "accuracy": 0.8},
        )
        self.batches: list[list[str]] = []
        self.score_labels: list[str] = []
        self.pinned: dict[str, dict[str, float]] = {}
        """Scores to give particular texts instead of the hash's."""

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        self.batches.append(list(texts))
        return [self.predict_one(text) for text in texts]

    def predict_one(self, text: str) -> Prediction:
        if text in self.pinned:
            scores = self.pinned[text]
            return Prediction(max(scores, key=scores.__getitem__), scores, False)
        labels = self.score_labels or self.labels
        weights = [1 + _digest(f"{self.version}|{label}|{text}") % 97 for label in labels]
        scores = {label: w / sum(weights) for label, w in zip(labels, weights, strict=True)}
        return Prediction(max(scores, key=scores.__getitem__), scores, len(text) > TRUNCATE_AT)


def _digest(value: str) -> int:
    return int.from_bytes(hashlib.sha256(value.encode("utf-8")).digest()[:4], "big")


class FakeLoader:
    """Loads a FakePredictor named after the version directory.

    ``broken`` versions fail to load; ``mislabelled`` ones score labels they do not declare.
    """

    def __init__(self, labels: Sequence[str] = LABELS) -> None:
        self.labels = labels
        self.broken: set[str] = set()
        self.mislabelled: set[str] = set()
        self.loaded: dict[str, FakePredictor] = {}

    def __call__(self, directory: Path) -> FakePredictor:
        if directory.name in self.broken:
            raise ArtifactError(f"{directory.name} is broken on purpose")
        predictor = FakePredictor(directory.name, self.labels)
        if directory.name in self.mislabelled:
            predictor.score_labels = ["left", "right"]
        self.loaded[directory.name] = predictor
        return predictor


def point_current(models_dir: Path, version: str) -> None:
    """Point ``current`` at a version directory (created empty if missing), atomically."""
    (models_dir / version).mkdir(exist_ok=True)
    temp = models_dir / f".current-{version}"
    os.symlink(version, temp)
    os.replace(temp, models_dir / "current")


def wait_until(probe: Callable[[], T], timeout_s: float = 10.0, interval_s: float = 0.02) -> T:
    """Call ``probe`` until it returns something truthy; fail after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s}s: {probe}")
        time.sleep(interval_s)
