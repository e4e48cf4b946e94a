"""stance-label: add, import and stats, their messages and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stance.labels import load_examples
from training.labelling import main

from .conftest import SEED

NEW = "Berlin said recognition was not on the table."
UNKNOWN_LABEL = "unknown label 'neutral': use one of supportive, cautious, opposed, none"


def label(labels_dir: Path, *argv: str) -> int:
    command, *rest = argv
    return main([command, *rest, "--labels-dir", str(labels_dir)])


def test_add_appends_the_sentence_and_exits_0(
    labels_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = label(labels_dir, "add", NEW, "--label", "cautious", "--actor", "Germany")

    assert code == 0
    assert capsys.readouterr().out == f'added: "{NEW}" -> {labels_dir / "incoming.jsonl"}\n'
    added = json.loads((labels_dir / "incoming.jsonl").read_text())
    assert added == {"text": NEW, "label": "cautious", "actor": "Germany"}


def test_adding_a_sentence_already_there_exits_0_and_says_so(
    labels_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = label(labels_dir, "add", SEED["text"], "--label", "supportive")

    assert code == 0
    assert capsys.readouterr().out == (
        f'duplicate: duplicate of an existing example: "{SEED["text"]}"\n'
    )


def test_a_conflicting_label_exits_1_and_names_the_existing_one(
    labels_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    near_copy = SEED["text"].replace("formally", "officially")

    code = label(labels_dir, "add", near_copy, "--label", "opposed")

    assert code == 1
    assert capsys.readouterr().out == (
        "conflict: near-duplicate of an existing example labelled 'supportive': "
        f'"{SEED["text"]}"\n'
    )
    assert not (labels_dir / "incoming.jsonl").exists()


def test_an_unknown_label_exits_1_with_the_validator_message(
    labels_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = label(labels_dir, "add", NEW, "--label", "neutral")

    assert (code, capsys.readouterr().out) == (1, f"invalid: {UNKNOWN_LABEL}\n")


def test_add_without_a_label_is_a_usage_error(
    labels_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = label(labels_dir, "add", NEW)

    assert code == 2
    assert "the following arguments are required: --label" in capsys.readouterr().err


def test_import_of_a_csv_reports_each_row_and_exits_1_if_one_is_refused(
    labels_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "new.csv"
    source.write_text(
        "text,label,actor\n"
        f'"{NEW}",cautious,Germany\n'
        f'"{SEED["text"]}",opposed,\n'
        "Ankara kept its embassy open.,neutral,Turkey\n"
        "Doha hosted talks.,cautious,Qatar,extra\n"
    )

    code = label(labels_dir, "import", str(source))

    assert code == 1
    assert capsys.readouterr().out.splitlines() == [
        f'line 2: added: "{NEW}"',
        f"line 3: conflict: duplicate of an existing example labelled 'supportive': "
        f'"{SEED["text"]}"',
        f"line 4: invalid: {UNKNOWN_LABEL}",
        "line 5: invalid: the row has more cells than the header has columns",
        f"{source}: 1 added, 0 duplicate, 1 conflict, 2 invalid -> {labels_dir / 'incoming.jsonl'}",
    ]
    assert len(load_examples(labels_dir)) == 2


def test_import_of_jsonl_reports_undecodable_lines(
    labels_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "new.jsonl"
    source.write_text(json.dumps({"text": NEW, "label": "cautious"}) + "\n\n{oops\n")

    code = label(labels_dir, "import", str(source))

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[:2] == [
        f'line 1: added: "{NEW}"',
        "line 3: invalid: invalid JSON: Expecting property name enclosed in double quotes",
    ]


def test_import_of_sentences_all_there_already_exits_0(labels_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "again.jsonl"
    source.write_text(json.dumps(SEED) + "\n")

    assert label(labels_dir, "import", str(source)) == 0


def test_a_csv_without_a_label_column_is_a_usage_error(
    labels_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "new.csv"
    source.write_text("text,stance\nSomething.,cautious\n")

    code = label(labels_dir, "import", str(source))

    assert code == 2
    assert capsys.readouterr().err == (
        f"error: {source}: unknown column 'stance': the CSV header must be "
        "text,label[,actor,source] (found: text,stance)\n"
    )


def test_importing_a_missing_file_is_a_usage_error(
    labels_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = label(labels_dir, "import", str(tmp_path / "none.csv"))

    assert code == 2
    assert capsys.readouterr().err == (
        f"error: cannot read {tmp_path / 'none.csv'}: No such file or directory\n"
    )


def test_importing_an_empty_file_is_a_usage_error(
    labels_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "empty.jsonl"
    source.write_text("\n")

    assert label(labels_dir, "import", str(source)) == 2
    assert capsys.readouterr().err == f"error: {source}: no examples found\n"


def test_stats_counts_per_label_split_actor_and_source(
    labels_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    label(labels_dir, "add", NEW, "--label", "cautious", "--source", "api")
    capsys.readouterr()

    code = label(labels_dir, "stats")

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == f"{labels_dir}: 2 examples in 2 files (2 train, 0 test)"
    assert out[2:8] == [
        "label           train   test  total",
        "supportive          1      0      1",
        "cautious            1      0      1",
        "opposed             0      0      0",
        "none                0      0      0",
        "total               2      0      2",
    ]
    assert out[9:12] == ["actor (2)    total", "(none)           1", "Russia           1"]
    assert out[13:] == ["source (2)    total", "(none)            1", "api               1"]


def test_stats_of_a_missing_dir_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert label(tmp_path / "none", "stats") == 2
    assert (
        capsys.readouterr().err == f"error: labels directory {tmp_path / 'none'} does not exist\n"
    )
