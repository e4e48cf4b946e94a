"""Adding labels: the same checks as training, and no line lost or torn under concurrency."""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from stance import files, intake
from stance.intake import add_examples
from stance.labels import load_examples

EXISTING = {
    "text": "Moscow formally accepted the credentials of the Taliban envoy.",
    "label": "supportive",
}


@pytest.fixture()
def labels_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "labels"
    directory.mkdir()
    (directory / "base.jsonl").write_text(json.dumps(EXISTING) + "\n")
    return directory


def add(records: list[object], labels_dir: Path) -> list[intake.Outcome]:
    return add_examples(records, labels_dir, labels_dir / "incoming.jsonl")


def test_new_example_is_added(labels_dir: Path) -> None:
    [outcome] = add(
        [{"text": "Berlin said recognition was not on the table.", "label": "cautious"}], labels_dir
    )
    assert outcome.status == "added"
    assert len(load_examples(labels_dir)) == 2


def test_duplicate_is_reported_and_not_written(labels_dir: Path) -> None:
    [outcome] = add([{**EXISTING, "text": EXISTING["text"].upper()}], labels_dir)
    assert (outcome.status, outcome.message) == ("duplicate", "duplicate of an existing example")
    assert not (labels_dir / "incoming.jsonl").exists()


def test_conflict_names_the_existing_label(labels_dir: Path) -> None:
    [outcome] = add([{"text": EXISTING["text"], "label": "opposed"}], labels_dir)
    assert outcome.status == "conflict"
    assert outcome.message == "duplicate of an existing example labelled 'supportive'"
    assert outcome.existing_text == EXISTING["text"]


def test_near_duplicate_within_one_request_is_caught(labels_dir: Path) -> None:
    first = "Tehran said it would wait for an inclusive government before any recognition."
    second = "Tehran said it would wait for an inclusive cabinet before any recognition."
    outcomes = add(
        [{"text": first, "label": "cautious"}, {"text": second, "label": "cautious"}], labels_dir
    )
    assert [o.status for o in outcomes] == ["added", "duplicate"]


def test_invalid_example_says_what_to_fix(labels_dir: Path) -> None:
    [outcome] = add([{"text": "Some text here.", "label": "neutral"}], labels_dir)
    assert outcome.status == "invalid"
    assert (
        outcome.message == "unknown label 'neutral': use one of supportive, cautious, opposed, none"
    )


def _post_one(args: tuple[int, str]) -> str:
    number, directory = args
    words = hashlib.sha256(str(number).encode()).hexdigest()
    text = " ".join(words[i : i + 6] for i in range(0, 36, 6)) + " said recognition can wait."
    [outcome] = add_examples(
        [{"text": text, "label": "cautious"}], Path(directory), Path(directory) / "incoming.jsonl"
    )
    return outcome.status


def test_fifty_concurrent_posters_lose_no_line(labels_dir: Path) -> None:
    with ProcessPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(_post_one, [(n, str(labels_dir)) for n in range(50)]))
    assert statuses == ["added"] * 50
    lines = (labels_dir / "incoming.jsonl").read_text().splitlines()
    assert len(lines) == 50
    assert len(load_examples(labels_dir)) == 51


def test_crash_before_rename_leaves_the_file_valid(
    labels_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(
        [{"text": "Ankara kept its embassy open but withheld recognition.", "label": "cautious"}],
        labels_dir,
    )
    before = (labels_dir / "incoming.jsonl").read_bytes()

    def crash(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        add(
            [{"text": "Women's groups called the regime illegitimate.", "label": "opposed"}],
            labels_dir,
        )
    assert (labels_dir / "incoming.jsonl").read_bytes() == before
    assert sorted(p.name for p in labels_dir.iterdir()) == [
        "base.jsonl",
        "incoming.jsonl",
        "incoming.jsonl.lock",
    ]
    assert len(load_examples(labels_dir)) == 2
