"""The promotion gate and rollback, on fake artifacts whose metrics are set by hand."""

from pathlib import Path

import pytest

from stance.artifact import read_metadata
from stance.labels import LABELS, STANCE_LABELS
from stance.registry import ModelStore
from training.cli import models_main, promote_main
from training.data import load_splits
from training.evaluate import score_on
from training.gate import decide, rescore_on


@pytest.fixture
def store(tmp_path: Path, artifact_factory) -> ModelStore:
    artifact_factory(tmp_path, "v1-good", macro_f1=0.80)
    artifact_factory(tmp_path, "v2-worse", macro_f1=0.70)
    artifact_factory(tmp_path, "v3-close", macro_f1=0.795)
    store = ModelStore(tmp_path)
    store.set_current("v1-good")
    return store


def promote(store: ModelStore, *args: str) -> int:
    return promote_main([*args, "--models-dir", str(store.root)])


def test_gate_refuses_a_worse_model(store: ModelStore, capsys) -> None:
    assert promote(store, "v2-worse") == 1
    assert store.current_version() == "v1-good"
    out = capsys.readouterr().out
    assert "NOT promoted" in out
    assert "0.7000 vs current v1-good's 0.8000" in out


def test_gate_records_its_refusal_in_metadata(store: ModelStore) -> None:
    promote(store, "v2-worse")
    promotion = read_metadata(store.path("v2-worse")).promotion
    assert promotion["promoted"] is False
    assert promotion["compared_with"] == "v1-good"
    assert "tolerance" in promotion["reason"]


def test_force_overrides_the_gate(store: ModelStore, capsys) -> None:
    assert promote(store, "v2-worse", "--force") == 0
    assert store.current_version() == "v2-worse"
    assert "forced" in capsys.readouterr().out


def test_gate_accepts_a_drop_within_tolerance(store: ModelStore) -> None:
    assert promote(store, "v3-close") == 0
    assert store.current_version() == "v3-close"


def test_tolerance_comes_from_the_settings(store: ModelStore, monkeypatch) -> None:
    from training.config import get_settings

    monkeypatch.setenv("STANCE_PROMOTE_TOLERANCE", "0.2")
    get_settings.cache_clear()
    try:
        assert promote(store, "v2-worse") == 0
    finally:
        get_settings.cache_clear()
    assert store.current_version() == "v2-worse"


def test_promote_unknown_version_is_a_clear_error(store: ModelStore, capsys) -> None:
    assert promote(store, "v9-missing") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: no version 'v9-missing'")
    assert len(err.splitlines()) == 1


def test_models_use_rolls_back_without_the_gate(store: ModelStore, capsys) -> None:
    assert models_main(["--models-dir", str(store.root), "use", "v2-worse"]) == 0
    assert store.current_version() == "v2-worse"
    assert "current -> v2-worse (was v1-good)" in capsys.readouterr().out


def test_models_list_shows_metrics_and_current(store: ModelStore, capsys) -> None:
    assert models_main(["--models-dir", str(store.root), "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    current = [line for line in lines if line.startswith("*")]
    assert len(current) == 1
    assert "v1-good" in current[0]
    assert "0.8000" in current[0]
    assert len(lines) == 4


def test_models_use_unknown_version_is_a_clear_error(store: ModelStore, capsys) -> None:
    assert models_main(["--models-dir", str(store.root), "use", "nope"]) == 2
    assert "no version 'nope'" in capsys.readouterr().err
    assert store.current_version() == "v1-good"


def test_gate_compares_with_current_rescored_on_the_new_split(store: ModelStore) -> None:
    decision = decide("v2-worse", 0.70, store, 0.01, False, rescore=lambda metadata, path: 0.69)
    assert decision.promoted
    assert decision.reason == (
        "test macro-F1 0.7000 vs current v1-good's 0.6900 re-scored on today's test split, "
        "within tolerance 0.01"
    )


def test_gate_keeps_the_stored_figure_when_rescore_declines(store: ModelStore) -> None:
    decision = decide("v2-worse", 0.70, store, 0.01, False, rescore=lambda metadata, path: None)
    assert not decision.promoted
    assert "0.7000 vs current v1-good's 0.8000 is lower" in decision.reason


def test_current_is_rescored_only_when_the_labels_changed(
    store: ModelStore, small_labels_dir: Path
) -> None:
    splits = load_splits(small_labels_dir, 0.15, 13)
    metadata = store.metadata("v1-good")
    rescore = rescore_on(splits.labels_hash, splits.test)
    assert (
        rescore(
            metadata.model_copy(update={"labels_hash": splits.labels_hash}), store.path("v1-good")
        )
        is None
    )
    rescored = rescore(metadata, store.path("v1-good"))
    assert rescored == score_on(store.path("v1-good"), splits.test)["macro_f1"]
    assert rescored != metadata.macro_f1


def test_promote_rescores_versions_trained_on_other_labels(
    tmp_path: Path, artifact_factory, small_labels_dir: Path, capsys
) -> None:
    artifact_factory(tmp_path, "v1-old-labels", macro_f1=0.80, labels_hash="11111111")
    artifact_factory(tmp_path, "v2-new-labels", macro_f1=0.70, labels_hash="22222222")
    store = ModelStore(tmp_path)
    store.set_current("v1-old-labels")
    test = load_splits(small_labels_dir, 0.15, 13).test
    today = score_on(store.path("v1-old-labels"), test)["macro_f1"]

    assert promote(store, "v2-new-labels", "--labels-dir", str(small_labels_dir)) == 0
    assert (
        f"test macro-F1 {today:.4f} re-scored on today's test split vs current v1-old-labels's "
        f"{today:.4f} re-scored on today's test split, within tolerance 0.01"
    ) in capsys.readouterr().out


def test_a_four_label_version_is_judged_against_three_labels_on_stance_sentences(
    tmp_path: Path, artifact_factory
) -> None:
    artifact_factory(tmp_path, "v1-three", labels=STANCE_LABELS, macro_f1=0.80)
    store = ModelStore(tmp_path)
    store.set_current("v1-three")

    decision = decide("v2-four", 0.81, store, 0.01, force=False, labels=LABELS)

    assert decision.promoted
    assert "(stance sentences only: current has 3 labels, this version 4)" in decision.reason


def test_the_same_label_sets_need_no_note(store: ModelStore) -> None:
    decision = decide("v9", 0.81, store, 0.01, force=False, labels=LABELS)

    assert "stance sentences only" not in decision.reason


def test_the_fastest_int8_scheme_within_half_the_tolerance_on_dev_is_kept() -> None:
    from training.pipeline import choose_scheme

    deltas = {"all": -0.046, "ffn_down_fp32": -0.009, "ffn_fp32": -0.004}

    scheme, tried = choose_scheme(deltas.__getitem__, tolerance=0.01)

    assert scheme == "ffn_fp32" and tried == deltas


def test_no_slower_scheme_is_tried_once_one_passes() -> None:
    from training.pipeline import choose_scheme

    scheme, tried = choose_scheme(lambda _: 0.002, tolerance=0.01)

    assert (scheme, tried) == ("all", {"all": 0.002})


def test_the_most_faithful_scheme_is_kept_when_none_passes_on_dev() -> None:
    from training.pipeline import choose_scheme

    scheme, _ = choose_scheme(lambda _: -0.5, tolerance=0.01)

    assert scheme == "ffn_fp32"
