"""Sentence splitting: offsets into the input, real articles' sentences kept whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.articles import join_passage, labelled_passages
from stance.sentences import split_sentences


def texts(sentences: list) -> list[str]:
    return [s.text for s in sentences]


def norm(text: str) -> str:
    return " ".join(text.split())


def test_offsets_point_at_each_sentence_in_the_input() -> None:
    text = "  <p>Moscow acted.</p>\n\nTashkent waited;   Dushanbe objected. Done!"
    for sentence in split_sentences(text):
        assert text[sentence.start : sentence.end] == sentence.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. envoy Mr. Khalilzad met Dr. Abdullah at 10 a.m. on Tuesday. He left.",
            ["The U.S. envoy Mr. Khalilzad met Dr. Abdullah at 10 a.m. on Tuesday.", "He left."],
        ),
        (
            "KABUL, July 3 (Reuters) - The Taliban welcomed the move. "
            '"We are ready," Mujahid said.',
            [
                "KABUL, July 3 (Reuters) - The Taliban welcomed the move.",
                '"We are ready," Mujahid said.',
            ],
        ),
        (
            "BEIJING, July 4. /TASS/. Beijing welcomes Moscow's decision.",
            ["BEIJING, July 4. /TASS/. Beijing welcomes Moscow's decision."],
        ),
        (
            "Russia Recognises the Taliban\nMoscow accepted the envoy's credentials on Thursday.",
            [
                "Russia Recognises the Taliban",
                "Moscow accepted the envoy's credentials on Thursday.",
            ],
        ),
        (
            "The detainees include the police chief; and a commander.",
            ["The detainees include the police chief; and a commander."],
        ),
        (
            "One reason is the unresolved issue of\nterrorist sanctuaries in Afghanistan\n.",
            ["One reason is the unresolved issue of\nterrorist sanctuaries in Afghanistan\n."],
        ),
    ],
    ids=["abbreviations", "dateline-and-quote", "agency-dateline", "headline", "semicolon", "web"],
)
def test_real_article_shapes_split_as_a_reader_would(text: str, expected: list[str]) -> None:
    assert texts(split_sentences(text)) == expected


def test_text_without_sentences_gives_none() -> None:
    assert split_sentences("  <br/>\n\n ") == []


def test_every_labelled_seed_sentence_is_kept_whole(repo_root: Path) -> None:
    labelled = [
        json.loads(line)
        for name in ("seeds.jsonl", "seed_pool_labelled.jsonl")
        for line in (repo_root / "labels" / name).read_text(encoding="utf-8").splitlines()
    ]
    broken = []
    for article in sorted((repo_root / "seeds").glob("*.txt")):
        found = {norm(s.text) for s in split_sentences(article.read_text(encoding="utf-8"))}
        mine = [r["text"] for r in labelled if r["source"] == f"seeds/{article.name}"]
        broken += [text for text in mine if norm(text) not in found]
    assert broken == []


def test_held_out_passages_keep_at_least_98_percent_of_sentences_whole() -> None:
    """Measured: 381 of 385."""
    passages = [[text for text, _ in rows] for rows in labelled_passages()]
    whole = 0
    for sentences in passages:
        found = {norm(s.text) for s in split_sentences(join_passage(sentences))}
        whole += sum(norm(s) in found for s in sentences)
    assert whole / sum(len(sentences) for sentences in passages) >= 0.98
