"""Adding labelled examples to the corpus without losing or corrupting a line.

Used by ``POST /labels`` and ``stance-label``. Every example is checked like training checks
it; accepted ones are appended under a file lock by writing the whole file anew and renaming
it into place, so a crash at any point leaves either the old or the new file, both valid.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from filelock import FileLock

from stance.files import write_atomically
from stance.labels import (
    LABELS,
    Example,
    Located,
    NearDuplicateIndex,
    counts,
    normalise,
    parse_record,
    read_corpus,
    read_file,
)

Status = Literal["added", "duplicate", "conflict", "invalid"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    message: str
    existing_label: str | None = None
    existing_text: str | None = None


def add_examples(
    records: list[object], labels_dir: Path, incoming: Path, lock_timeout: float = 30.0
) -> list[Outcome]:
    """Check each record against the corpus and append the new ones to ``incoming``."""
    incoming = Path(incoming)
    incoming.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(incoming) + ".lock", timeout=lock_timeout):
        corpus = _current_corpus(Path(labels_dir), incoming)
        outcomes, accepted = _classify(records, corpus)
        if accepted:
            _append_atomically(incoming, [e.to_json() for e in accepted])
    return outcomes


def label_counts(labels_dir: Path, incoming: Path) -> Counter[str]:
    """Examples per label in the corpus, ``incoming`` included wherever it lies."""
    corpus = _current_corpus(Path(labels_dir), Path(incoming))
    return counts((item.example for item in corpus), "label")


def _current_corpus(labels_dir: Path, incoming: Path) -> list[Located]:
    located, _ = read_corpus(labels_dir) if labels_dir.is_dir() else ([], [])
    inside = incoming.resolve().parent == labels_dir.resolve()
    if incoming.exists() and not inside:
        extra, _ = read_file(incoming)
        located.extend(extra)
    return located


def _classify(records: list[object], corpus: list[Located]) -> tuple[list[Outcome], list[Example]]:
    known = [item.example for item in corpus]
    index = NearDuplicateIndex(e.text for e in known)
    accepted: list[Example] = []
    outcomes: list[Outcome] = []
    for record in records:
        try:
            example = parse_record(record, LABELS)
        except ValueError as exc:
            outcomes.append(Outcome("invalid", str(exc)))
            continue
        match = _first_match(example, index, known) or _first_match(
            example, NearDuplicateIndex(e.text for e in accepted), accepted
        )
        if match is None:
            accepted.append(example)
            outcomes.append(Outcome("added", "added"))
        else:
            outcomes.append(_describe_match(example, match))
    return outcomes, accepted


def _first_match(
    example: Example, index: NearDuplicateIndex, known: list[Example]
) -> Example | None:
    found = index.matches(example.text)
    return known[found[0]] if found else None


def _describe_match(example: Example, match: Example) -> Outcome:
    same_text = normalise(match.text) == normalise(example.text)
    kind = "duplicate" if same_text else "near-duplicate"
    if match.label == example.label:
        return Outcome("duplicate", f"{kind} of an existing example", match.label, match.text)
    return Outcome(
        "conflict",
        f"{kind} of an existing example labelled '{match.label}'",
        match.label,
        match.text,
    )


def _append_atomically(path: Path, lines: list[str]) -> None:
    existing = path.read_bytes() if path.exists() else b""
    if existing and not existing.endswith(b"\n"):
        existing += b"\n"
    write_atomically(path, existing + ("\n".join(lines) + "\n").encode("utf-8"))
