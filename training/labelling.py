"""``stance-label``: add labelled sentences from the shell, with the checks of ``POST /labels``.

    stance-label add "TEXT" --label L [--actor A] [--source S]
    stance-label import FILE            CSV with a header text,label[,actor,source], or JSONL
    stance-label stats                  counts per label (train/test), actor and source

Exit codes: 0 when every sentence given was added or was already there with the same label;
1 when at least one was refused (a conflict with an existing label, or invalid); 2 for a usage
error or when nothing could be done (unreadable file, labels locked by another writer).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from filelock import Timeout

from stance.intake import Outcome, Status, add_examples
from stance.labels import (
    LABELS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    Example,
    counts,
    read_corpus,
    split,
)
from training.cli import command, echo, settings_from
from training.errors import TrainingError

REFUSED = 1
INCOMING_FILE = "incoming.jsonl"
COLUMNS = (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
STATUSES: tuple[Status, ...] = get_args(Status)


@dataclass(frozen=True)
class Entry:
    """One record of an import file: the decoded record, or why it could not be decoded."""

    line: int
    record: object = None
    problem: str | None = None


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--labels-dir", type=Path, help="labels directory (STANCE_LABELS_DIR)")
    common.add_argument(
        "--incoming", type=Path, help=f"file new labels go to (default: LABELS_DIR/{INCOMING_FILE})"
    )
    main = argparse.ArgumentParser(
        prog="stance-label",
        description="Add labelled sentences to the corpus, checked like training checks them.",
        epilog="exit codes: 0 all added or already there, 1 something refused, 2 usage error",
    )
    actions = main.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", parents=[common], help="add one sentence")
    add.add_argument("text", help="the sentence, quoted")
    add.add_argument("--label", required=True, help=f"one of {', '.join(LABELS)}")
    add.add_argument("--actor", default="", help="who holds the stance")
    add.add_argument("--source", default="", help="where the sentence comes from")
    imports = actions.add_parser("import", parents=[common], help="add every sentence of FILE")
    imports.add_argument("file", type=Path, help="CSV (header text,label[,actor,source]) or JSONL")
    imports.add_argument("--format", choices=("csv", "jsonl"), help="default: from the suffix")
    actions.add_parser("stats", parents=[common], help="count the examples")
    return main


def label(args: argparse.Namespace) -> int:
    labels_dir = settings_from(args).labels_dir
    incoming = args.incoming or labels_dir / INCOMING_FILE
    if args.action == "stats":
        return stats(labels_dir)
    if args.action == "add":
        record = {"text": args.text, "label": args.label, "actor": args.actor}
        record |= {"source": args.source}
        [outcome] = append([record], labels_dir, incoming)
        where = f" -> {incoming}" if outcome.status == "added" else ""
        echo(describe(outcome, args.text) + where)
        return exit_code([outcome])
    return import_file(args.file, args.format, labels_dir, incoming)


def append(records: list[object], labels_dir: Path, incoming: Path) -> list[Outcome]:
    try:
        return add_examples(records, labels_dir, incoming)
    except Timeout:
        raise TrainingError(f"{incoming} is locked by another writer: retry in a moment") from None
    except OSError as exc:
        raise TrainingError(f"cannot write {incoming}: {exc.strerror or exc}") from None


def describe(outcome: Outcome, text: str) -> str:
    """The service's message for the outcome, with the sentence it concerns."""
    if outcome.status == "added":
        return f'added: "{text}"'
    if outcome.existing_text is not None:
        return f'{outcome.status}: {outcome.message}: "{outcome.existing_text}"'
    return f"{outcome.status}: {outcome.message}"


def exit_code(outcomes: Iterable[Outcome]) -> int:
    refused = any(o.status in ("conflict", "invalid") for o in outcomes)
    return REFUSED if refused else 0


def import_file(path: Path, kind: str | None, labels_dir: Path, incoming: Path) -> int:
    entries = read_entries(path, kind or guess_format(path))
    if not entries:
        raise TrainingError(f"{path}: no examples found")
    decoded = [entry for entry in entries if entry.problem is None]
    added = iter(append([entry.record for entry in decoded], labels_dir, incoming))
    outcomes = [
        next(added) if entry.problem is None else Outcome("invalid", entry.problem)
        for entry in entries
    ]
    for entry, outcome in zip(entries, outcomes, strict=True):
        echo(f"line {entry.line}: {describe(outcome, text_of(entry.record))}")
    counts = Counter(outcome.status for outcome in outcomes)
    summary = ", ".join(f"{counts[status]} {status}" for status in STATUSES)
    echo(f"{path}: {summary} -> {incoming}")
    return exit_code(outcomes)


def text_of(record: object) -> str:
    text = record.get("text") if isinstance(record, dict) else None
    return text if isinstance(text, str) else ""


def guess_format(path: Path) -> str:
    if path.suffix.lower() in JSONL_SUFFIXES:
        return "jsonl"
    if path.suffix.lower() == ".csv":
        return "csv"
    return "jsonl" if read_text(path).lstrip().startswith("{") else "csv"


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise TrainingError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TrainingError(f"{path} is not UTF-8 text: {exc.reason}") from None


def read_entries(path: Path, kind: str) -> list[Entry]:
    text = read_text(path)
    return jsonl_entries(text) if kind == "jsonl" else csv_entries(text, path)


def jsonl_entries(text: str) -> list[Entry]:
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(Entry(number, record=json.loads(line)))
        except json.JSONDecodeError as exc:
            entries.append(Entry(number, problem=f"invalid JSON: {exc.msg}"))
    return entries


def csv_entries(text: str, path: Path) -> list[Entry]:
    reader = csv.DictReader(text.splitlines())
    check_header(reader.fieldnames, path)
    entries = []
    start = reader.line_num + 1
    for row in reader:
        entries.append(csv_entry(start, row))
        start = reader.line_num + 1
    return entries


def check_header(columns: Sequence[str] | None, path: Path) -> None:
    found = [c.strip() for c in columns or []]
    unknown = [c for c in found if c not in COLUMNS]
    missing = [c for c in REQUIRED_FIELDS if c not in found]
    if unknown or missing:
        problem = f"unknown column {unknown[0]!r}" if unknown else f"no column {missing[0]!r}"
        raise TrainingError(
            f"{path}: {problem}: the CSV header must be text,label[,actor,source] "
            f"(found: {','.join(found) or 'nothing'})"
        )


def csv_entry(line: int, row: dict[str | None, object]) -> Entry:
    if row.get(None):
        return Entry(line, problem="the row has more cells than the header has columns")
    record = {str(key).strip(): value for key, value in row.items() if value is not None}
    return Entry(line, record=record)


def stats(labels_dir: Path) -> int:
    if not labels_dir.is_dir():
        raise TrainingError(f"labels directory {labels_dir} does not exist")
    located, problems = read_corpus(labels_dir)
    examples = [item.example for item in located]
    files = len({item.where for item in located})
    for line in stats_lines(labels_dir, examples, files):
        echo(line)
    if problems:
        sys.stderr.write(
            f"warning: {len(problems)} lines could not be read and are not counted; "
            "run stance-validate to see them\n"
        )
    return 0


def stats_lines(labels_dir: Path, examples: list[Example], files: int) -> list[str]:
    train, test = split(examples)
    lines = [
        f"{labels_dir}: {len(examples)} examples in {files} files "
        f"({len(train)} train, {len(test)} test)",
        "",
        f"{'label':<14}{'train':>7}{'test':>7}{'total':>7}",
    ]
    train_counts, test_counts = Counter(e.label for e in train), Counter(e.label for e in test)
    labels = [*LABELS, *sorted({e.label for e in examples} - set(LABELS))]
    for name in labels:
        n_train, n_test = train_counts[name], test_counts[name]
        lines.append(f"{name:<14}{n_train:>7}{n_test:>7}{n_train + n_test:>7}")
    lines.append(f"{'total':<14}{len(train):>7}{len(test):>7}{len(examples):>7}")
    for field in ("actor", "source"):
        lines += ["", *count_lines(field, counts(examples, field))]
    return lines


def count_lines(field: str, found: Counter[str]) -> list[str]:
    header = f"{field} ({len(found)})"
    width = max([len(header), *(len(name) for name in found)]) + 2
    lines = [f"{header:<{width}}{'total':>7}"]
    for name, count in sorted(found.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"{name:<{width}}{count:>7}")
    return lines


main = command(label, parser)
