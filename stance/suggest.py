"""What to label next: the unlabelled sentences the model is least sure about.

Uncertainty is the margin between the two highest scores: a sentence the model splits evenly
between two labels teaches it more, once labelled, than one it already gets right with
confidence. ``POST /suggest`` and ``stance-suggest`` both rank through this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stance.labels import NONE, NearDuplicateIndex, read_corpus, read_file

if TYPE_CHECKING:
    from stance.predictor import Prediction


SURE_NONE = 0.9


@dataclass(frozen=True)
class Suggestion:
    text: str
    label: str
    margin: float
    scores: dict[str, float]


@dataclass(frozen=True)
class Pool:
    """The texts worth ranking, and how many were left out as already labelled or repeated."""

    texts: list[str]
    labelled: int
    repeated: int


def margin(scores: Mapping[str, float]) -> float:
    """Top score minus the runner-up: 0 is a coin toss, 1 is certainty."""
    top = sorted(scores.values(), reverse=True)
    return top[0] - top[1] if len(top) > 1 else 1.0


def rank(
    texts: Sequence[str], predictions: Sequence[Prediction], k: int, include_none: bool = True
) -> list[Suggestion]:
    """The ``k`` smallest margins first; equal margins keep their input order. Without
    ``include_none``, sentences the model is sure take no stance are left out."""
    suggestions = [
        Suggestion(text, p.label, margin(p.scores), p.scores)
        for text, p in zip(texts, predictions, strict=True)
        if include_none or not sure_none(p)
    ]
    return sorted(suggestions, key=lambda s: s.margin)[:k]


def sure_none(prediction: Prediction) -> bool:
    """Answered ``none`` with a score of at least :data:`SURE_NONE`: in a news feed most
    sentences are such, and labelling them teaches the model little."""
    return prediction.label == NONE and prediction.scores[NONE] >= SURE_NONE


def unlabelled(texts: Iterable[str], labelled: Iterable[str]) -> Pool:
    """Blank lines dropped; texts the corpus already holds (or nearly) and repeats left out."""
    candidates = [" ".join(t.split()) for t in texts if t.strip()]
    corpus = NearDuplicateIndex(labelled)
    fresh = [t for t in candidates if not corpus.matches(t)]
    repeats = {later for _, later in NearDuplicateIndex(fresh).pairs()}
    kept = [t for i, t in enumerate(fresh) if i not in repeats]
    return Pool(kept, len(candidates) - len(fresh), len(repeats))


def labelled_texts(labels_dir: Path, incoming: Path | None = None) -> list[str]:
    """Every readable labelled text; unreadable lines are the validator's business, not ours."""
    labels_dir = Path(labels_dir)
    located, _ = read_corpus(labels_dir) if labels_dir.is_dir() else ([], [])
    texts = [item.example.text for item in located]
    if incoming is not None and _outside(incoming, labels_dir) and incoming.is_file():
        extra, _ = read_file(incoming)
        texts += [item.example.text for item in extra]
    return texts


def _outside(path: Path, directory: Path) -> bool:
    return Path(path).resolve().parent != directory.resolve()


def read_pool(path: Path) -> list[str]:
    """One sentence per line."""
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
