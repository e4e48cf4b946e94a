import json
from collections import Counter
from pathlib import Path

import pytest

from stance.labels import LabelFileError, is_test
from training.data import carve_dev, cv_folds, load_splits
from training.errors import TrainingError

OPPOSED = [
    "The resistance front said recognition would embolden extremist groups.",
    "No foreign endorsement can give legitimacy to an unelected government.",
    "Activists condemned the decision as a betrayal of Afghan girls.",
    "Washington has no intention of recognising a group that sponsors terrorism.",
    "Exiled lawmakers urged governments to expel the envoys at once.",
]


def write_labels(directory: Path, rows: list[tuple[str, str]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"text": text, "label": label}) for text, label in rows]
    (directory / "labels.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def test_test_split_is_the_fixed_hash_split(small_labels_dir: Path) -> None:
    splits = load_splits(small_labels_dir, dev_fraction=0.15, seed=1)
    assert all(is_test(e.text) for e in splits.test)
    assert not any(is_test(e.text) for e in splits.train + splits.dev)


def test_each_test_example_knows_its_label_file(small_labels_dir: Path, tmp_path: Path) -> None:
    labels_dir = tmp_path / "labels"
    labels_dir.mkdir()
    lines = (small_labels_dir / "stance.jsonl").read_text(encoding="utf-8").splitlines()
    (labels_dir / "first.jsonl").write_text("\n".join(lines[:30]) + "\n", encoding="utf-8")
    (labels_dir / "second.jsonl").write_text("\n".join(lines[30:]) + "\n", encoding="utf-8")
    first = {json.loads(line)["text"] for line in lines[:30]}
    splits = load_splits(labels_dir, dev_fraction=0.15, seed=1)
    expected = ["first.jsonl" if e.text in first else "second.jsonl" for e in splits.test]
    assert splits.test_files == expected
    assert set(expected) == {"first.jsonl", "second.jsonl"}


def test_same_seed_gives_the_same_dev_split(small_labels_dir: Path) -> None:
    first = load_splits(small_labels_dir, dev_fraction=0.2, seed=7)
    second = load_splits(small_labels_dir, dev_fraction=0.2, seed=7)
    assert first.dev == second.dev
    assert first.train == second.train


def test_dev_split_is_stratified(small_labels_dir: Path) -> None:
    splits = load_splits(small_labels_dir, dev_fraction=0.2, seed=3)
    assert set(Counter(e.label for e in splits.dev)) == set(splits.labels)
    assert len(splits.dev) == round(0.2 * len(splits.train_pool))


def test_labels_follow_the_corpus_order(small_labels_dir: Path) -> None:
    assert load_splits(small_labels_dir, 0.15, 0).labels == [
        "supportive",
        "cautious",
        "opposed",
        "none",
    ]


def test_empty_labels_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError, match="no labelled examples"):
        load_splits(tmp_path, 0.15, 0)


def test_one_class_is_refused(tmp_path: Path) -> None:
    rows = [(text, "opposed") for text in OPPOSED]
    with pytest.raises(TrainingError, match="single class"):
        load_splits(write_labels(tmp_path, rows), 0.15, 0)


def test_a_class_with_too_few_examples_is_refused(small_labels_dir: Path, tmp_path: Path) -> None:
    rows = [(line, label) for line, label in read_rows(small_labels_dir) if label != "supportive"]
    rows.append(("Moscow accepted the credentials of the Taliban envoy.", "supportive"))
    with pytest.raises(TrainingError, match="too few training examples: 'supportive' has"):
        load_splits(write_labels(tmp_path, rows), 0.15, 0)


def test_cv_folds_hold_out_every_example_once(small_labels_dir: Path) -> None:
    splits = load_splits(small_labels_dir, 0.15, 0)
    held = [e for _, held_out in cv_folds(splits.train_pool, splits.labels, 3, 0) for e in held_out]
    assert sorted(held, key=str) == sorted(splits.train_pool, key=str)


def test_dev_has_every_class_even_when_tiny(small_labels_dir: Path) -> None:
    splits = load_splits(small_labels_dir, 0.15, 0)
    _, dev = carve_dev(splits.train_pool, splits.labels, 0.01, 0)
    assert {e.label for e in dev} == set(splits.labels)


def read_rows(directory: Path) -> list[tuple[str, str]]:
    records = [json.loads(line) for line in (directory / "stance.jsonl").read_text().splitlines()]
    return [(r["text"], r["label"]) for r in records]
