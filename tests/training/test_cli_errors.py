"""Bad input to the training commands: exit code 2 and one line saying what to fix."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from training.cli import evaluate_main, train_main, validate_main

FAST = ["--recipe", "fast", "--max-steps", "1", "--max-length", "16", "--no-progress"]


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def write_jsonl(directory: Path, records: list[dict[str, str]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "labels.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records), encoding="utf-8"
    )
    return directory


def train(labels: Path, models: Path, *extra: str) -> int:
    return train_main(["--labels-dir", str(labels), "--models-dir", str(models), *FAST, *extra])


def test_unknown_base_model_path(small_labels_dir: Path, tmp_path: Path, capsys) -> None:
    code = train(small_labels_dir, tmp_path / "models", "--base-model", str(tmp_path / "absent"))
    assert code == 2
    assert error_line(capsys).endswith("absent' does not exist")


def test_empty_labels(tmp_path: Path, capsys) -> None:
    (tmp_path / "labels").mkdir()
    assert train(tmp_path / "labels", tmp_path / "models") == 2
    assert "no labelled examples" in error_line(capsys)


def test_one_class_labels(tmp_path: Path, capsys) -> None:
    texts = [
        "The resistance front said recognition would embolden extremist groups.",
        "No foreign endorsement can give legitimacy to an unelected government.",
        "Activists condemned the decision as a betrayal of Afghan girls.",
    ]
    labels = write_jsonl(tmp_path / "labels", [{"text": t, "label": "opposed"} for t in texts])
    assert train(labels, tmp_path / "models") == 2
    assert "single class ('opposed')" in error_line(capsys)


def test_invalid_config_value(small_labels_dir: Path, tmp_path: Path, capsys) -> None:
    assert train(small_labels_dir, tmp_path / "models", "--learning-rate", "0") == 2
    assert "learning_rate must be in (0, 1)" in error_line(capsys)


def test_non_numeric_flag_is_a_usage_error(small_labels_dir: Path, tmp_path: Path) -> None:
    assert train(small_labels_dir, tmp_path / "models", "--epochs", "many") == 2


def test_label_file_problems_are_listed_by_line(tmp_path: Path, capsys) -> None:
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "bad.jsonl").write_text('{"text": "x", "label": "maybe"}\nnot json\n')
    assert validate_main(["--labels-dir", str(labels)]) == 2
    err = capsys.readouterr().err
    assert "labels/bad.jsonl:1: unknown label 'maybe'" in err
    assert "labels/bad.jsonl:2: invalid JSON" in err
    assert "Traceback" not in err


def test_validate_prints_counts(small_labels_dir: Path, capsys) -> None:
    assert validate_main(["--labels-dir", str(small_labels_dir)]) == 0
    out = capsys.readouterr().out
    assert "53 valid examples" in out
    assert out.splitlines()[-1].split() == ["total", "47", "6", "53"]


def test_a_closed_pipe_ends_the_command_quietly(small_labels_dir: Path) -> None:
    """``stance-validate | head -1``: the reader is gone before the counts are written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    script = "import sys; from training.cli import validate_main; sys.exit(validate_main())"
    env = {**os.environ, "STANCE_LABELS_DIR": str(small_labels_dir)}
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], stdout=write_end, stderr=subprocess.PIPE, env=env
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, b"")


def test_evaluate_unknown_version(tmp_path: Path, capsys) -> None:
    assert evaluate_main(["nope", "--models-dir", str(tmp_path)]) == 2
    assert "no version 'nope'" in error_line(capsys)


def test_evaluate_on_a_missing_file(tmp_path: Path, capsys) -> None:
    missing = tmp_path / "held_out.jsonl"
    assert evaluate_main(["v1", "--on", str(missing), "--models-dir", str(tmp_path)]) == 2
    assert error_line(capsys) == f"error: {missing}:0: file does not exist"


def test_evaluate_on_a_file_with_an_unknown_label(tmp_path: Path, capsys) -> None:
    held_out = write_jsonl(tmp_path / "held", [{"text": "Kabul wants seats.", "label": "happy"}])
    file = held_out / "labels.jsonl"
    assert evaluate_main(["v1", "--on", str(file), "--models-dir", str(tmp_path)]) == 2
    assert error_line(capsys).startswith(f"error: {file}:1: ")


@pytest.mark.slow
def test_base_model_not_in_the_offline_cache(
    small_labels_dir: Path, tmp_path: Path, capsys
) -> None:
    models = tmp_path / "models"
    code = train(small_labels_dir, models, "--base-model", "no-such-org/no-such-model")
    assert code == 2
    assert "cannot load base model 'no-such-org/no-such-model'" in error_line(capsys)
    assert not models.exists() or not any(models.iterdir())


def test_cross_validating_the_default_ensemble_names_its_members(
    small_labels_dir: Path, tmp_path: Path, capsys
) -> None:
    argv = ["--labels-dir", str(small_labels_dir), "--models-dir", str(tmp_path), "--cv", "2"]
    assert train_main(argv) == 2
    assert error_line(capsys) == (
        "error: recipe 'default' is an ensemble of fast, mpnet; this needs one model: "
        "pass --recipe fast or mpnet"
    )
