"""stance-suggest on a tiny random model: the order, the default pool, the usage errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stance.predictor import Predictor
from stance.registry import ModelStore
from stance.suggest import margin
from training.suggest import main

from .conftest import SEED

POOL = [
    "Ankara kept its embassy in Kabul open throughout the year.",
    "The Uzbek delegation signed a railway agreement in Termez.",
    "Beijing accepted the credentials of a new ambassador.",
    "Analysts in Delhi doubted that formal ties would follow soon.",
]


def suggest(labels_dir: Path, store: ModelStore, *argv: str) -> int:
    return main([*argv, "--labels-dir", str(labels_dir), "--models-dir", str(store.root)])


def test_sentences_are_listed_least_certain_first(
    labels_dir: Path, store: ModelStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text("\n".join([SEED["text"], *POOL]) + "\n")
    predictions = Predictor.load(store.path("tiny")).predict(POOL)
    expected = sorted(POOL, key=lambda t: margin(predictions[POOL.index(t)].scores))[:3]

    code = suggest(labels_dir, store, str(pool), "--k", "3")

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[:3] == [
        f"4 unlabelled sentences of {pool}, ranked by tiny",
        "left out: 1 already labelled, 0 repeated",
        "rank   margin  guess       text",
    ]
    assert [line.split(maxsplit=3)[3] for line in out[3:]] == expected


def test_the_default_pool_is_the_seed_pool_of_the_labels_dir(
    labels_dir: Path, store: ModelStore, capsys: pytest.CaptureFixture[str]
) -> None:
    (labels_dir / "seed_pool.txt").write_text(POOL[0] + "\n")

    assert suggest(labels_dir, store) == 0
    assert capsys.readouterr().out.splitlines()[0] == (
        f"1 unlabelled sentences of {labels_dir / 'seed_pool.txt'}, ranked by tiny"
    )


def test_nothing_left_to_rank_exits_0_and_says_so(
    labels_dir: Path, store: ModelStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text(SEED["text"] + "\n")

    assert suggest(labels_dir, store, str(pool)) == 0
    assert capsys.readouterr().out == (
        f"nothing to rank in {pool}: left out: 1 already labelled, 0 repeated\n"
    )


def test_a_missing_pool_is_a_usage_error(
    labels_dir: Path, store: ModelStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert suggest(labels_dir, store, str(tmp_path / "none.txt")) == 2
    assert capsys.readouterr().err == (
        f"error: cannot read {tmp_path / 'none.txt'}: No such file or directory\n"
    )


def test_no_model_is_a_usage_error_that_says_how_to_train(
    labels_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pool = tmp_path / "pool.txt"
    pool.write_text(POOL[0] + "\n")

    assert suggest(labels_dir, ModelStore(tmp_path / "empty"), str(pool)) == 2
    assert capsys.readouterr().err == (
        f"error: no model to ask: {tmp_path / 'empty' / 'current'} does not exist; "
        "run `make train` (or stance-train) first\n"
    )


def test_k_must_be_positive(
    labels_dir: Path, store: ModelStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert suggest(labels_dir, store, "--k", "0") == 2
    assert "argument --k: must be at least 1, got 0" in capsys.readouterr().err
