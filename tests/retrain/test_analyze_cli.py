"""stance-analyze on a tiny random model: each input format, each output format, the errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from stance.articles import split_sentences
from stance.registry import ModelStore
from training.analyze import main

ARTICLE = (
    "ISLAMABAD, July 4 - Pakistan will not rush to recognise the Taliban, the foreign "
    "office said. Talks on transit trade went on in Torkham. Moscow's move was welcomed in Kabul."
)
SECOND = "Beijing has kept its embassy open. China said engagement would continue."

Analyze = Callable[..., int]


@pytest.fixture
def analyze(labels_dir: Path, store: ModelStore, repo_root: Path) -> Analyze:
    """stance-analyze with these arguments, on the tiny store and the repository's actors."""
    store_args = ["--labels-dir", str(labels_dir), "--models-dir", str(store.root)]
    actors = str(repo_root / "labels" / "actors.toml")
    return lambda *argv: main([*argv, "--actors", actors, "--no-progress", *store_args])


def rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_text_file_is_one_article_with_a_row_per_sentence(
    analyze: Analyze, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "pakistan.txt"
    article.write_text(ARTICLE, encoding="utf-8")

    assert analyze(str(article)) == 0

    out = rows(capsys.readouterr().out)
    assert [r["text"] for r in out] == [s.text for s in split_sentences(ARTICLE)]
    assert {r["document"] for r in out} == {"pakistan.txt"}
    assert all(ARTICLE[r["start"] : r["end"]] == r["text"] for r in out)
    assert all(r["score"] == r["scores"][r["label"]] for r in out)


def test_jsonl_articles_keep_their_ids_in_order(
    analyze: Analyze, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive.jsonl"
    lines = [{"id": "a", "text": ARTICLE}, {"text": SECOND}]
    archive.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    assert analyze(str(archive), "--articles-per-batch", "1") == 0

    documents = [r["document"] for r in rows(capsys.readouterr().out)]
    assert documents == ["a"] * 3 + [f"{archive}:2"] * 2


def test_csv_in_and_csv_out_with_a_column_per_label(analyze: Analyze, tmp_path: Path) -> None:
    archive, out = tmp_path / "archive.csv", tmp_path / "out.csv"
    with open(archive, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["body", "id"], [SECOND, "b1"]])

    code = analyze(str(archive), "--text-column", "body", "--out", str(out))

    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert code == 0
    assert [row["document"] for row in table] == ["b1", "b1"]
    assert {key for key in table[0] if key.startswith("score_")} == {
        f"score_{label}" for label in ("supportive", "cautious", "opposed", "none")
    }


def test_the_throughput_is_reported_on_stderr(
    analyze: Analyze, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(SECOND, encoding="utf-8")

    analyze(str(article))

    assert "1 articles, 2 sentences in" in capsys.readouterr().err


def test_a_row_without_text_is_a_usage_error(
    analyze: Analyze, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive.jsonl"
    archive.write_text('{"body": "x"}\n', encoding="utf-8")

    assert analyze(str(archive)) == 2
    assert f"{archive}:1: no 'text' text (set --text-column)" in capsys.readouterr().err


def test_a_missing_file_is_a_usage_error(
    analyze: Analyze, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert analyze(str(tmp_path / "nope.txt")) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_missing_actors_file_is_a_usage_error(
    labels_dir: Path, store: ModelStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(SECOND, encoding="utf-8")

    code = main([str(article), "--labels-dir", str(labels_dir), "--models-dir", str(store.root)])

    assert code == 2
    assert "cannot read the actors file" in capsys.readouterr().err
