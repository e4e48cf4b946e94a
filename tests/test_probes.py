"""Probe sentences stored at training time, and the load-time check that the served graph
reproduces their fp32 scores."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stance.artifact import ArtifactError
from stance.predictor import Predictor
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
