"""Probe sentences stored at training time, and the load-time check that the served graph
reproduces their fp32 scores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stance.artifact import ArtifactError, Serving
from stance.onnx import INT8_FILE
from stance.predictor import Prediction, Predictor
from stance.probes import Probes, check_probes
from tests.artifacts import inflate_int8_scales

pytestmark = pytest.mark.slow

ArtifactFactory = Callable[..., Path]


@pytest.fixture
def version(artifact_factory: ArtifactFactory, tmp_path: Path) -> Path:
    return artifact_factory(tmp_path, "v1")


def test_probes_round_trip_through_the_version(version: Path) -> None:
    probes = Probes.read(version)

    assert probes is not None and probes.texts
    assert all(sum(scores.values()) == pytest.approx(1) for scores in probes.scores)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_healthy_graph_passes_the_probe_check(version: Path, precision: str) -> None:
    probes = Probes.read(version)
    assert probes is not None

    check_probes(Predictor.load(version, precision=precision), probes, tolerance=0.1)


def test_a_broken_int8_graph_fails_the_probe_check(version: Path) -> None:
    inflate_int8_scales(version)
    probes = Probes.read(version)
    assert probes is not None

    with pytest.raises(ArtifactError, match="probe check failed"):
        check_probes(Predictor.load(version, precision="int8"), probes, tolerance=0.1)


def test_a_version_without_probes_has_none(artifact_factory: ArtifactFactory, tmp_path) -> None:
    assert Probes.read(artifact_factory(tmp_path, "old", probes=False)) is None


def test_unreadable_probes_are_an_artifact_error(version: Path) -> None:
    (version / "probes.json").write_text('{"texts": 3}')

    with pytest.raises(ArtifactError, match="unreadable probes"):
        Probes.read(version)


class Fixed:
    """A scorer that gives every text the same scores."""

    labels = ["supportive", "cautious", "opposed", "none"]

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def predict(self, texts: list[str]) -> list[Prediction]:
        label = max(self.scores, key=self.scores.__getitem__)
        return [Prediction(label, self.scores, False) for _ in texts]


NEAR_TIE = {"supportive": 0.26, "cautious": 0.25, "opposed": 0.25, "none": 0.24}
SURE = {"supportive": 0.85, "cautious": 0.05, "opposed": 0.05, "none": 0.05}


def test_a_near_tie_that_flips_within_the_tolerance_passes() -> None:
    flipped = {"supportive": 0.25, "cautious": 0.27, "opposed": 0.25, "none": 0.23}

    check_probes(Fixed(flipped), Probes(["a"], [NEAR_TIE]), tolerance=0.1)


def test_a_decisive_probe_that_changes_label_fails() -> None:
    flipped = {"supportive": 0.40, "cautious": 0.45, "opposed": 0.10, "none": 0.05}

    with pytest.raises(ArtifactError, match="1 of 1 probe sentences changed label"):
        check_probes(Fixed(flipped), Probes(["a"], [SURE]), tolerance=0.5)


def test_training_deletes_an_int8_graph_that_fails_the_probes(version: Path) -> None:
    from training.pipeline import probe_int8

    inflate_int8_scales(version)
    probes = Probes.read(version)
    assert probes is not None

    serving = probe_int8(version, Predictor.load(version), probes, Serving(int8=True, reason=""))

    assert not serving.int8 and serving.reason.startswith("probe check failed")
    assert not (version / INT8_FILE).exists()
