"""The naive baseline runs an ensemble version the obvious way: a pipeline per member."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.naive import mean_answer, model_dirs, naive_classifier
from tests.artifacts import ArtifactFactory, make_ensemble


def test_an_ensembles_models_are_its_members(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    version = make_ensemble(tmp_path / "ens", artifact_factory)
    assert model_dirs(version) == [version / "members" / "m0", version / "members" / "m1"]


def test_a_one_model_version_is_its_own_model(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    version = artifact_factory(tmp_path, "v1")
    assert model_dirs(version) == [version]


def test_the_answer_is_the_label_with_the_highest_mean_score() -> None:
    first = [{"label": "opposed", "score": 0.6}, {"label": "none", "score": 0.4}]
    second = [{"label": "opposed", "score": 0.1}, {"label": "none", "score": 0.9}]
    assert mean_answer([first, second]) == {"label": "none", "score": pytest.approx(0.65)}


def test_the_naive_classifier_answers_each_text_of_an_ensemble(
    tmp_path: Path, artifact_factory: ArtifactFactory
) -> None:
    classify = naive_classifier(make_ensemble(tmp_path / "ens", artifact_factory))
    answers = classify(["Kabul said so.", "Moscow agreed."])
    assert len(answers) == 2
    assert {answer["label"] for answer in answers} <= {"supportive", "cautious", "opposed", "none"}
