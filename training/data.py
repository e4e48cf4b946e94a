"""From ``labels/`` to the train, dev and test sets a run uses.

The test split is the corpus's fixed hash split (``stance.labels.split``); dev is a stratified,
seeded share of train used only for early stopping and calibration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from datasets import Dataset
from sklearn.model_selection import StratifiedKFold, train_test_split

from stance.labels import LABELS, Example, Located, labels_hash, load_located, split
from training.errors import TrainingError

MIN_TRAIN_PER_CLASS = 4


@dataclass(frozen=True)
class Splits:
    labels: list[str]
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    labels_hash: str
    test_files: list[str]
    """The label file each test example came from, in ``test`` order."""

    def counts(self) -> dict[str, dict[str, int]]:
        return {name: count_labels(part, self.labels) for name, part in self.parts().items()}

    def parts(self) -> dict[str, list[Example]]:
        return {"train": self.train, "dev": self.dev, "test": self.test}

    def dataset(self, name: str) -> Dataset:
        return to_dataset(self.parts()[name], self.labels)

    @property
    def train_pool(self) -> list[Example]:
        """Train and dev together: what the fixed split leaves for learning."""
        return self.train + self.dev


def load_splits(labels_dir: Path, dev_fraction: float, seed: int) -> Splits:
    """Validate the corpus (LabelFileError lists every problem) and split it."""
    located = load_located(labels_dir)
    examples = [item.example for item in located]
    labels = present_labels(examples)
    train_pool, test = split(examples)
    check_class_sizes(train_pool, labels, MIN_TRAIN_PER_CLASS, "training")
    train, dev = carve_dev(train_pool, labels, dev_fraction, seed)
    return Splits(labels, train, dev, test, labels_hash(examples), files_of(located, test))


def files_of(located: Sequence[Located], examples: Sequence[Example]) -> list[str]:
    """The label file each of ``examples`` was read from, in their order."""
    file_of = {item.example.text: Path(item.where).name for item in located}
    return [file_of[e.text] for e in examples]


def present_labels(examples: Sequence[Example]) -> list[str]:
    """The labels that occur, in LABELS order; TrainingError unless there are at least two."""
    found = {e.label for e in examples}
    labels = [label for label in LABELS if label in found]
    if len(labels) < 2:
        only = labels[0] if labels else "none"
        raise TrainingError(
            f"the labels contain a single class ('{only}'); "
            f"label examples of at least two of: {', '.join(LABELS)}"
        )
    return labels


def check_class_sizes(
    examples: Sequence[Example], labels: Sequence[str], minimum: int, what: str
) -> None:
    have = count_labels(examples, labels)
    short = [f"'{label}' has {n}" for label, n in have.items() if n < minimum]
    if short:
        raise TrainingError(
            f"too few {what} examples: {', '.join(short)}; "
            f"every class needs at least {minimum} outside the test split"
        )


def carve_dev(
    examples: Sequence[Example], labels: Sequence[str], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """A stratified (train, dev) split with at least one dev example of every class."""
    size = max(len(labels), round(fraction * len(examples)))
    train, dev = train_test_split(
        list(examples),
        test_size=size,
        random_state=seed,
        shuffle=True,
        stratify=[e.label for e in examples],
    )
    return list(train), list(dev)


def cv_folds(
    examples: Sequence[Example], labels: Sequence[str], k: int, seed: int
) -> Iterator[tuple[list[Example], list[Example]]]:
    """Stratified K-fold (learn, held-out) pairs over ``examples``."""
    if k < 2:
        raise TrainingError(f"--cv needs at least 2 folds, got {k}")
    check_class_sizes(examples, labels, max(k, MIN_TRAIN_PER_CLASS), f"{k}-fold")
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    targets = [e.label for e in examples]
    for learn, held_out in folds.split(list(examples), targets):
        yield [examples[i] for i in learn], [examples[i] for i in held_out]


def count_labels(examples: Sequence[Example], labels: Sequence[str]) -> dict[str, int]:
    found = Counter(e.label for e in examples)
    return {label: found[label] for label in labels}


def to_dataset(examples: Sequence[Example], labels: Sequence[str]) -> Dataset:
    ids = {label: i for i, label in enumerate(labels)}
    return Dataset.from_dict(
        {"text": [e.text for e in examples], "label": [ids[e.label] for e in examples]}
    )
