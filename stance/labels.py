"""The labelled corpus: the label set, the example schema, the validator and the fixed split.

Training, the service's ``POST /labels`` and the ``stance-label`` command all go through
this module, so a sentence is checked the same way wherever it comes from.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

NONE = "none"
STANCE_LABELS: tuple[str, ...] = ("supportive", "cautious", "opposed")
LABELS: tuple[str, ...] = (*STANCE_LABELS, NONE)
"""The corpus label set, in the order models learn it (id 0, 1, 2, 3). ``none`` is a sentence
that takes no stance on recognition; a model trained without any learns the other three."""

REQUIRED_FIELDS: tuple[str, ...] = ("text", "label")
OPTIONAL_FIELDS: tuple[str, ...] = ("actor", "source", "url", "date")
DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
TEST_FRACTION_PERCENT = 15
MAX_NEAR_EDITS = 2
NO_EXAMPLES_IN_DIR = "no labelled examples found in *.jsonl files"
NO_EXAMPLES_IN_FILE = "no labelled examples found in the file"

_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)


class LabelFileError(ValueError):
    """One or more problems in the label files, each with its file and line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Problem:
    where: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    actor: str = ""
    source: str = ""
    url: str = ""
    date: str = ""

    def to_json(self) -> str:
        """One JSON line; an optional field that was not given is left out, not written empty."""
        record = {k: v for k, v in asdict(self).items() if v or k not in OPTIONAL_FIELDS}
        return json.dumps(record, ensure_ascii=False)


@dataclass(frozen=True)
class Located:
    """An example with where it was read from, so that every error can point at it."""

    example: Example
    where: str
    line: int


def normalise(text: str) -> str:
    """Case-, punctuation- and whitespace-insensitive form used for duplicates and the split."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _PUNCT_OR_SPACE.sub(" ", folded).strip()


def is_test(text: str) -> bool:
    """The fixed split: a hash of the normalised text, so adding labels never moves a sentence."""
    digest = hashlib.sha256(normalise(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < TEST_FRACTION_PERCENT


def labels_hash(examples: Iterable[Example]) -> str:
    """A short content hash of a corpus, independent of file layout and line order."""
    lines = sorted(f"{normalise(e.text)}\t{e.label}" for e in examples)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:8]


def parse_record(record: object, allowed_labels: Iterable[str] = LABELS) -> Example:
    """Turn one decoded JSON value into an Example, or raise ValueError saying what to fix."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object with 'text' and 'label'")
    for field in REQUIRED_FIELDS:
        if field not in record:
            raise ValueError(f"missing field '{field}'")
    for field in (*REQUIRED_FIELDS, *OPTIONAL_FIELDS):
        value = record.get(field, "")
        if not isinstance(value, str):
            raise ValueError(f"field '{field}' must be a string")
        if field in REQUIRED_FIELDS and not value.strip():
            raise ValueError(f"field '{field}' is empty")
    allowed = tuple(allowed_labels)
    if record["label"] not in allowed:
        raise ValueError(f"unknown label '{record['label']}': use one of {', '.join(allowed)}")
    check_provenance(record.get("url", "").strip(), record.get("date", "").strip())
    return Example(
        text=" ".join(record["text"].split()),
        label=record["label"],
        **{field: record.get(field, "").strip() for field in OPTIONAL_FIELDS},
    )


def check_provenance(url: str, date: str) -> None:
    """A page's address and publication date, where an example was drawn from a page."""
    if url and not url.startswith(("http://", "https://")):
        raise ValueError(f"field 'url' must start with http:// or https://, got '{url[:40]}'")
    if date and not DATE_FORMAT.fullmatch(date):
        raise ValueError(f"field 'date' must be YYYY-MM-DD, got '{date[:20]}'")


def label_files(labels_dir: Path) -> list[Path]:
    return sorted(p for p in Path(labels_dir).glob("*.jsonl") if p.is_file())


def read_file(path: Path, display: str | None = None) -> tuple[list[Located], list[Problem]]:
    """Read one JSONL file, collecting every line-level problem instead of stopping at the first."""
    where = display or str(path)
    located: list[Located] = []
    problems: list[Problem] = []
    with open(path, encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except json.JSONDecodeError as exc:
                problems.append(Problem(where, number, f"invalid JSON: {exc.msg}"))
                continue
            try:
                located.append(Located(parse_record(record), where, number))
            except ValueError as exc:
                problems.append(Problem(where, number, str(exc)))
    return located, problems


def word_edit_distance(a: list[str], b: list[str], limit: int) -> int:
    """Levenshtein distance over words, giving up (returning limit + 1) once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, word in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (word != other))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def allowed_edits(words_a: list[str], words_b: list[str]) -> int:
    """How many changed words still make two texts one example: two, fewer for short texts."""
    return min(MAX_NEAR_EDITS, min(len(words_a), len(words_b)) // 4)


class NearDuplicateIndex:
    """Finds texts within a couple of word edits of each other without comparing every pair.

    Two texts that differ by at most two words share all but two of their distinct words, so
    they must share one of each other's three rarest words (prefix filtering); only those
    candidates are compared word by word.
    """

    PREFIX = MAX_NEAR_EDITS + 1

    def __init__(self, texts: Iterable[str]) -> None:
        self._words: list[list[str]] = [normalise(t).split() for t in texts]
        frequency: Counter[str] = Counter()
        for words in self._words:
            frequency.update(set(words))
        self._frequency = frequency
        self._by_word: dict[str, list[int]] = defaultdict(list)
        for index, words in enumerate(self._words):
            for word in self._prefix(words):
                self._by_word[word].append(index)

    def _prefix(self, words: list[str]) -> list[str]:
        ranked = sorted(set(words), key=lambda w: (self._frequency[w], w))
        return ranked[: self.PREFIX]

    def matches(self, text: str) -> list[int]:
        """Indexes of indexed texts that are the same as ``text`` or within allowed edits."""
        words = normalise(text).split()
        candidates: set[int] = set()
        for word in sorted(set(words), key=lambda w: (self._frequency[w], w))[: self.PREFIX + 2]:
            candidates.update(self._by_word.get(word, ()))
        found = []
        for index in sorted(candidates):
            other = self._words[index]
            limit = allowed_edits(words, other)
            if word_edit_distance(words, other, limit) <= limit:
                found.append(index)
        return found

    def pairs(self) -> Iterator[tuple[int, int]]:
        """Every (earlier, later) pair of indexed texts that are the same or near."""
        for later, words in enumerate(self._words):
            for earlier in self.matches(" ".join(words)):
                if earlier < later:
                    yield earlier, later


def duplicate_problems(located: list[Located]) -> list[Problem]:
    """One text with two labels, duplicates and near-duplicates, reported at the later line."""
    index = NearDuplicateIndex(item.example.text for item in located)
    problems = []
    for earlier, later in index.pairs():
        first, second = located[earlier], located[later]
        exact = normalise(first.example.text) == normalise(second.example.text)
        kind = "duplicate" if exact else "near-duplicate"
        if first.example.label != second.example.label:
            message = (
                f"{kind} of {first.where}:{first.line} with a different label "
                f"('{second.example.label}' here, '{first.example.label}' there): "
                "keep one text with one label"
            )
        else:
            message = f"{kind} of {first.where}:{first.line}: remove one of them"
        problems.append(Problem(second.where, second.line, message))
    return problems


def read_corpus(labels_dir: Path) -> tuple[list[Located], list[Problem]]:
    located: list[Located] = []
    problems: list[Problem] = []
    base = Path(labels_dir)
    for path in label_files(base):
        items, file_problems = read_file(path, display=_display(path, base))
        located.extend(items)
        problems.extend(file_problems)
    return located, problems


def _display(path: Path, base: Path) -> str:
    return f"{base.name}/{path.relative_to(base)}"


def load_examples(labels_dir: Path) -> list[Example]:
    """Every example under ``labels_dir``, validated; raises LabelFileError listing all problems."""
    return [item.example for item in load_located(labels_dir)]


def load_located(labels_dir: Path) -> list[Located]:
    """``load_examples`` with the file and line each example was read from."""
    base = Path(labels_dir)
    if not base.is_dir():
        raise LabelFileError([Problem(str(base), 0, "labels directory does not exist")])
    return validated(*read_corpus(base), empty=Problem(str(base), 0, NO_EXAMPLES_IN_DIR))


def load_file(path: Path) -> list[Example]:
    """Every example in one JSONL file, validated like the corpus; raises LabelFileError."""
    if not Path(path).is_file():
        raise LabelFileError([Problem(str(path), 0, "file does not exist")])
    located = validated(*read_file(path), empty=Problem(str(path), 0, NO_EXAMPLES_IN_FILE))
    return [item.example for item in located]


def validated(located: list[Located], problems: list[Problem], empty: Problem) -> list[Located]:
    """The examples read, unless there were problems, duplicates or no examples at all."""
    problems = [*problems, *duplicate_problems(located)]
    if not located and not problems:
        problems.append(empty)
    if problems:
        raise LabelFileError(sorted(problems, key=lambda p: (p.where, p.line)))
    return located


def split(examples: Iterable[Example]) -> tuple[list[Example], list[Example]]:
    """(train, test) by the fixed hash split."""
    train: list[Example] = []
    test: list[Example] = []
    for example in examples:
        (test if is_test(example.text) else train).append(example)
    return train, test


def counts(examples: Iterable[Example], key: str) -> Counter[str]:
    return Counter(getattr(e, key) or "(none)" for e in examples)
