"""Reading stance-train's output into a job's progress, and splitting it into lines."""

from __future__ import annotations

import asyncio

from service.jobs import Progress, output_lines, read_progress

STANCE_TRAIN_OUTPUT = [
    'training config: {"epochs": 8, "batch_size": 16, "max_length": 32, "max_steps": 2}',
    'data: {"train": {"supportive": 11, "cautious": 10, "opposed": 10}, "dev": {}, "test": {}}',
    "epoch 1: loss 1.0983, dev macro-F1 0.3889",
    "refit: 37 sentences, 1 epochs",
    "refit epoch 1: loss 1.0412",
    "version 20250102T090000Z-04817ff4 written to /models/20250102T090000Z-04817ff4",
    "test macro-F1 0.1667, accuracy 0.3333, ECE 0.0113 (n=3); per-class F1: ...",
    "promoted to current: there is no current model yet",
]


def progress_after(lines: list[str]) -> Progress | None:
    progress = None
    for line in lines:
        progress = read_progress(line, progress)
    return progress


def test_there_is_no_progress_before_the_config_is_printed() -> None:
    assert progress_after(["Some warning from a library"]) is None


def test_the_plan_comes_from_the_config_and_the_data_counts() -> None:
    progress = progress_after(STANCE_TRAIN_OUTPUT[:2])

    assert progress is not None
    assert (progress.stage, progress.epoch, progress.steps) == ("training", None, 0)
    assert (progress.max_epochs, progress.total_steps) == (1, 2)


def test_unexpected_data_counts_leave_the_plan_unknown() -> None:
    progress = progress_after([STANCE_TRAIN_OUTPUT[0], 'data: {"train": ["a", 2]}'])

    assert progress is not None and (progress.total_steps, progress.max_epochs) == (None, None)


def test_an_epoch_line_moves_the_progress() -> None:
    progress = progress_after(STANCE_TRAIN_OUTPUT[:3])

    assert progress is not None
    assert (progress.epoch, progress.steps, progress.loss, progress.dev_macro_f1) == (
        1,
        2,
        1.0983,
        0.3889,
    )


def test_the_stage_follows_the_run_to_its_decision() -> None:
    stages = [
        p.stage if (p := progress_after(STANCE_TRAIN_OUTPUT[:n])) else None for n in (3, 4, 6, 8)
    ]

    assert stages == ["training", "refitting", "saved", "decided"]


def test_refit_lines_leave_the_early_stopping_figures_alone() -> None:
    progress = progress_after(STANCE_TRAIN_OUTPUT[:5])

    assert progress is not None
    assert (progress.epoch, progress.loss, progress.dev_macro_f1) == (1, 1.0983, 0.3889)


def test_a_non_finite_loss_is_left_out() -> None:
    progress = progress_after([*STANCE_TRAIN_OUTPUT[:2], "epoch 1: loss nan, dev macro-F1 0.5"])

    assert progress is not None and (progress.loss, progress.dev_macro_f1) == (None, 0.5)


def test_output_is_split_at_newlines_and_carriage_returns() -> None:
    async def lines() -> list[str]:
        stream = asyncio.StreamReader()
        stream.feed_data(b"train:  10%\rtrain:  20%\r\nepoch 1: l")
        stream.feed_data("oss 1.0\n\ncaf\u00e9\n".encode() + b"tail")
        stream.feed_eof()
        return [line async for line in output_lines(stream)]

    assert asyncio.run(lines()) == [
        "train:  10%",
        "train:  20%",
        "epoch 1: loss 1.0",
        "café",
        "tail",
    ]


PAIR_OUTPUT = [
    "member 1 of 2: fast",
    *STANCE_TRAIN_OUTPUT[:3],
    "member 2 of 2: mpnet",
    'training config: {"epochs": 2, "batch_size": 16, "max_length": 96, "max_steps": 0}',
    'data: {"train": {"supportive": 8, "cautious": 8, "opposed": 8}, "dev": {}, "test": {}}',
]


def test_an_ensemble_says_which_member_it_trains() -> None:
    progress = progress_after(PAIR_OUTPUT[:4])

    assert progress is not None
    assert (progress.member, progress.member_number, progress.members) == ("fast", 1, 2)


def test_the_next_members_plan_replaces_the_last_ones_figures() -> None:
    progress = progress_after(PAIR_OUTPUT)

    assert progress is not None
    assert (progress.member, progress.member_number, progress.members) == ("mpnet", 2, 2)
    assert (progress.epoch, progress.steps, progress.total_steps) == (None, 0, 4)


def test_a_one_model_run_has_no_member() -> None:
    progress = progress_after(STANCE_TRAIN_OUTPUT)

    assert progress is not None and progress.member is None and progress.members is None
