"""The gazetteer that says who holds a sentence's stance."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from stance.actors import Gazetteer, GazetteerError
from stance.labels import NONE, load_examples

ROOT = Path(__file__).resolve().parents[1]
ACTORS = ROOT / "labels" / "actors.toml"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load(ACTORS)


def test_the_speaker_of_reported_speech_holds_the_stance(gazetteer: Gazetteer) -> None:
    sentence = "Beijing has its own timetable, a Kremlin spokesman said on Tuesday."

    assert gazetteer.speaker(sentence) == "Russia"


def test_a_name_after_according_to_is_the_speaker(gazetteer: Gazetteer) -> None:
    sentence = "Recognition is not on the table for now, according to Islamabad."

    assert gazetteer.speaker(sentence) == "Pakistan"


def test_the_object_of_recognition_is_passed_over(gazetteer: Gazetteer) -> None:
    sentence = "Uzbekistan is in no hurry to recognise the Taliban."

    assert gazetteer.speaker(sentence) == "Uzbekistan"


def test_officials_and_capitals_stand_for_their_state(gazetteer: Gazetteer) -> None:
    assert gazetteer.speaker("Lavrov met the delegation.") == "Russia"
    assert gazetteer.speaker("Tashkent opened a trade office.") == "Uzbekistan"


def test_a_name_inside_a_longer_word_does_not_match(gazetteer: Gazetteer) -> None:
    assert gazetteer.speaker("USAID staff and Russianness were discussed.") is None


def test_kabul_stands_for_no_one(gazetteer: Gazetteer) -> None:
    assert gazetteer.speaker("Kabul was cold and dry on Tuesday.") is None


def test_no_alias_stands_for_two_actors() -> None:
    tables = tomllib.loads(ACTORS.read_text(encoding="utf-8"))
    names = Counter(name for table in tables.values() for name in table["aliases"])

    assert [name for name, count in names.items() if count > 1] == []


def test_the_gazetteer_names_the_labelled_actor_of_most_stance_sentences(
    gazetteer: Gazetteer,
) -> None:
    """Measured: 0.805 of 2,083; the floor catches a gazetteer or a rule that got worse."""
    known = [
        e for e in load_examples(ROOT / "labels") if e.label != NONE and e.actor in gazetteer.actors
    ]
    agreed = sum(gazetteer.speaker(e.text) == e.actor for e in known)

    assert len(known) > 1500
    assert agreed / len(known) > 0.78


def test_an_actor_without_aliases_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "actors.toml"
    path.write_text('[Russia]\nnames = ["Moscow"]\n', encoding="utf-8")

    with pytest.raises(GazetteerError, match="'aliases' list"):
        Gazetteer.load(path)


def test_an_unreadable_actors_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "actors.toml"
    path.write_text("[Russia\n", encoding="utf-8")

    with pytest.raises(GazetteerError, match="cannot read the actors file"):
        Gazetteer.load(path)
