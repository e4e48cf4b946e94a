"""Ensemble versions: loaded like any version, scored as the mean of their members."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stance.artifact import ArtifactError, Serving, read_metadata, write_metadata
from stance.labels import LABELS
from stance.predictor import Predictor
from tests.artifacts import ArtifactFactory, make_ensemble

TEXTS = ["Kabul wants a seat at the UN.", "Rain fell on Herat.", "No recognition before rights."]


def test_an_ensemble_scores_the_mean_of_its_members(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    path = make_ensemble(tmp_path / "ens", artifact_factory)
    members = [Predictor.load(path / m) for m in read_metadata(path).members]
    expected = np.mean([m.probabilities(TEXTS)[0] for m in members], axis=0)

    np.testing.assert_allclose(Predictor.load(path).probabilities(TEXTS)[0], expected, atol=1e-6)


def test_an_ensemble_answers_with_its_labels(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    prediction = Predictor.load(make_ensemble(tmp_path / "ens", artifact_factory)).predict(TEXTS)[0]

    assert list(prediction.scores) == list(LABELS)
    assert sum(prediction.scores.values()) == pytest.approx(1, abs=1e-5)


def test_an_ensemble_is_served_at_int8_when_every_member_is(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    predictor = Predictor.load(make_ensemble(tmp_path / "ens", artifact_factory), "int8")

    assert predictor.precision == "int8" and len(predictor.members) == 2


def test_an_ensemble_whose_int8_gate_refused_is_served_at_fp32(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    refused = Serving(int8=False, reason="int8 test macro-F1 0.50 vs fp32's 0.90")
    path = make_ensemble(tmp_path / "ens", artifact_factory, serving=refused)

    predictor = Predictor.load(path, "int8")

    assert predictor.precision == "fp32"
    assert "0.50 vs fp32's 0.90" in predictor.precision_reason


def test_a_member_whose_labels_differ_is_refused(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    three = ("supportive", "cautious", "opposed")
    path = make_ensemble(tmp_path / "ens", artifact_factory, member_labels=(LABELS, three))

    with pytest.raises(ArtifactError, match="member answers"):
        Predictor.load(path)


def test_a_missing_member_is_refused(tmp_path: Path, artifact_factory: ArtifactFactory) -> None:
    path = make_ensemble(tmp_path / "ens", artifact_factory)
    metadata = read_metadata(path)
    write_metadata(path, metadata.model_copy(update={"members": [*metadata.members, "members/x"]}))

    with pytest.raises(ArtifactError, match="not a trained model version"):
        Predictor.load(path)
