"""The sentences every section sends: the labelled test split, or the seeds while it is unusable."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path

from stance.labels import Example, LabelFileError, load_examples, read_file, split

log = logging.getLogger(__name__)

SEEDS_FILE = "seeds.jsonl"


@dataclass(frozen=True)
class TextSample:
    examples: list[Example]
    source: str

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    def cycled(self, count: int, seed: int = 0) -> list[str]:
        """``count`` texts in a fixed shuffled order, repeating the sample when it is smaller."""
        texts = self.texts
        random.Random(seed).shuffle(texts)
        return [texts[i % len(texts)] for i in range(count)]


def load_sample(labels_dir: Path) -> TextSample:
    try:
        examples = load_examples(labels_dir)
        _, test = split(examples)
        if test:
            return TextSample(test, f"test split of {labels_dir} ({len(test)} sentences)")
        return TextSample(
            examples, f"all of {labels_dir} ({len(examples)}; the test split is empty)"
        )
    except LabelFileError as exc:
        log.warning(
            "labels in %s unusable (%d problems); using %s",
            labels_dir,
            len(exc.problems),
            SEEDS_FILE,
        )
    located, _ = read_file(Path(labels_dir) / SEEDS_FILE)
    examples = [item.example for item in located]
    return TextSample(
        examples, f"{labels_dir}/{SEEDS_FILE}, all {len(examples)} sentences (corpus invalid)"
    )
