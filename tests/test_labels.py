"""The validator on the shipped corpus and on one broken fixture per kind of error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stance.labels import (
    LABELS,
    NONE,
    STANCE_LABELS,
    Example,
    LabelFileError,
    NearDuplicateIndex,
    counts,
    is_test,
    labels_hash,
    load_examples,
    load_file,
    normalise,
    parse_record,
    split,
)

BROKEN = Path(__file__).parent / "fixtures" / "broken_labels"

MIN_EXAMPLES = 900
MIN_PER_LABEL = 280
MIN_ACTORS = 40
MIN_NONE = 900
MIN_FROM_PAGES = 1200


@pytest.fixture(scope="module")
def corpus(repo_root: Path) -> list[Example]:
    return load_examples(repo_root / "labels")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("invalid_json", "broken_labels/labels.jsonl:2: invalid JSON: Expecting ',' delimiter"),
        ("missing_field", "broken_labels/labels.jsonl:2: missing field 'label'"),
        ("empty_field", "broken_labels/labels.jsonl:2: field 'text' is empty"),
        (
            "unknown_label",
            "broken_labels/labels.jsonl:2: unknown label 'neutral': "
            "use one of supportive, cautious, opposed, none",
        ),
        (
            "duplicate",
            "broken_labels/labels.jsonl:2: duplicate of broken_labels/labels.jsonl:1: "
            "remove one of them",
        ),
        (
            "near_duplicate",
            "broken_labels/labels.jsonl:2: near-duplicate of broken_labels/labels.jsonl:1: "
            "remove one of them",
        ),
        (
            "two_labels",
            "broken_labels/labels.jsonl:2: duplicate of broken_labels/labels.jsonl:1 with a "
            "different label ('cautious' here, 'supportive' there): keep one text with one label",
        ),
        (
            "not_an_object",
            "broken_labels/labels.jsonl:2: expected a JSON object with 'text' and 'label'",
        ),
        ("wrong_type", "broken_labels/labels.jsonl:2: field 'text' must be a string"),
    ],
)
def test_broken_file_is_refused_with_file_and_line(case: str, message: str, tmp_path: Path) -> None:
    target = tmp_path / "broken_labels"
    target.mkdir()
    (target / "labels.jsonl").write_bytes((BROKEN / case / "labels.jsonl").read_bytes())
    with pytest.raises(LabelFileError) as caught:
        load_examples(target)
    assert [str(p) for p in caught.value.problems] == [message]


def test_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError, match="labels directory does not exist"):
        load_examples(tmp_path / "nowhere")


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LabelFileError, match=r"no labelled examples found in \*\.jsonl files"):
        load_examples(tmp_path)


def test_short_texts_differing_in_one_word_of_three_are_distinct(tmp_path: Path) -> None:
    lines = [
        '{"text": "Russia recognises Taliban", "label": "supportive"}',
        '{"text": "Tajikistan rejects Taliban", "label": "opposed"}',
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    assert len(load_examples(tmp_path)) == 2


def test_shipped_labels_validate(corpus: list[Example]) -> None:
    assert len(corpus) >= MIN_EXAMPLES


def test_shipped_labels_have_enough_of_each_label(corpus: list[Example]) -> None:
    per_label = counts(corpus, "label")
    assert set(per_label) == set(LABELS)
    assert min(per_label.values()) >= MIN_PER_LABEL, per_label


def test_shipped_labels_have_enough_actors(corpus: list[Example]) -> None:
    assert len(counts(corpus, "actor")) >= MIN_ACTORS


def test_shipped_stance_labels_name_their_actor(corpus: list[Example]) -> None:
    assert all(e.actor for e in corpus if e.label != NONE)


def test_shipped_labels_name_their_source(corpus: list[Example]) -> None:
    assert all(e.source for e in corpus)


def test_shipped_stance_labels_stay_balanced(corpus: list[Example]) -> None:
    per_label = counts(corpus, "label")
    stance = [per_label[label] for label in STANCE_LABELS]
    assert max(stance) <= 1.15 * min(stance), per_label


def test_shipped_labels_hold_enough_none(corpus: list[Example]) -> None:
    assert counts(corpus, "label")[NONE] >= MIN_NONE


def test_page_drawn_labels_record_url_and_date(corpus: list[Example]) -> None:
    from_pages = [e for e in corpus if e.source == "page"]
    assert len(from_pages) >= MIN_FROM_PAGES
    assert [e.text for e in from_pages if not (e.url and e.date)] == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("url", "www.example.com/a", "field 'url' must start with http:// or https://"),
        ("date", "5 July 2025", "field 'date' must be YYYY-MM-DD"),
    ],
)
def test_bad_provenance_is_refused(field: str, value: str, message: str) -> None:
    record = {"text": "Kabul hailed the move.", "label": "supportive", field: value}
    with pytest.raises(ValueError, match=message):
        parse_record(record)


def test_none_and_provenance_are_accepted() -> None:
    record = {"text": "The match ended in a draw.", "label": "none", "url": "https://a.example/1"}
    example = parse_record({**record, "date": "2024-03-01"})
    assert (example.label, example.url, example.date) == ("none", record["url"], "2024-03-01")


def held_out_files(repo_root: Path) -> list[Path]:
    return sorted((repo_root / "labels" / "held_out").glob("*.jsonl"))


@pytest.fixture(scope="module")
def held_out(repo_root: Path) -> list[Example]:
    return [e for path in held_out_files(repo_root) for e in load_file(path)]


def test_held_out_sentences_validate_with_every_label(held_out: list[Example]) -> None:
    assert set(counts(held_out, "label")) == set(LABELS)


def test_held_out_sentences_are_not_in_the_corpus(
    corpus: list[Example], held_out: list[Example]
) -> None:
    index = NearDuplicateIndex(e.text for e in corpus)
    assert [e.text for e in held_out if index.matches(e.text)] == []


def test_held_out_pages_are_not_training_pages(
    corpus: list[Example], held_out: list[Example]
) -> None:
    training_urls = {e.url for e in corpus if e.url}
    assert sorted({e.url for e in held_out if e.url} & training_urls) == []


def test_held_out_real_reporting_is_whole_passages_of_many_articles(repo_root: Path) -> None:
    path = repo_root / "labels" / "held_out" / "real_reporting.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    passages = {row["passage"] for row in rows}
    assert len(rows) >= 300 and len(passages) >= 30
    assert len({row["url"] for row in rows}) == len(passages)
    for passage in passages:
        positions = [row["position"] for row in rows if row["passage"] == passage]
        assert positions == sorted(positions), passage


def test_held_out_none_file_is_large_enough(repo_root: Path) -> None:
    examples = load_file(repo_root / "labels" / "held_out" / "none_news.jsonl")
    assert len(examples) >= 150 and {e.label for e in examples} == {NONE}


def test_seed_sentences_come_from_the_seed_articles(corpus: list[Example], repo_root: Path) -> None:
    seeds = [e for e in corpus if e.source.startswith("seeds/")]
    assert seeds
    for example in seeds:
        article = normalise((repo_root / example.source).read_text(encoding="utf-8"))
        assert normalise(example.text) in article, example.text


def test_split_is_a_function_of_the_normalised_text() -> None:
    text = "Recognition is not on the agenda for now, the minister said."
    assert is_test(text) == is_test("  recognition IS not on the agenda for now the minister said")


def test_test_split_holds_about_fifteen_percent_of_each_label(corpus: list[Example]) -> None:
    _, test = split(corpus)
    for label in LABELS:
        share = sum(e.label == label for e in test) / sum(e.label == label for e in corpus)
        assert 0.10 <= share <= 0.20, (label, share)


def test_adding_labels_moves_no_existing_sentence(corpus: list[Example]) -> None:
    extra = [Example(f"A new sentence number {i} about envoys.", "cautious") for i in range(50)]
    _, before = split(corpus)
    _, after = split(corpus + extra)
    assert set(before) <= set(after)


def test_labels_hash_ignores_order() -> None:
    a = [Example("One text.", "opposed"), Example("Another text.", "cautious")]
    assert labels_hash(a) == labels_hash(list(reversed(a)))
