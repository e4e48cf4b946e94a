"""``stance-suggest [FILE] [--k 10]``: which sentences to label next.

Ranks the sentences of FILE (one a line; default: the seed pool ``LABELS_DIR/seed_pool.txt``)
that are not labelled yet by how unsure the current model is about them, least sure first,
like ``POST /suggest``. Exit codes: 0 on success (also when nothing is left to rank), 2 for a
usage error (no such file, no model).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from stance.registry import ModelStore
from stance.suggest import Pool, Suggestion, labelled_texts, rank, read_pool, unlabelled
from training.cli import command, echo, settings_from, store_options
from training.errors import TrainingError

if TYPE_CHECKING:
    from stance.predictor import Precision, Predictor

POOL_FILE = "seed_pool.txt"


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {number}")
    return number


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="stance-suggest",
        description="Rank unlabelled sentences by the model's uncertainty, least sure first.",
        epilog="exit codes: 0 success, 2 usage error",
    )
    main.add_argument(
        "file", nargs="?", type=Path, help=f"one sentence a line (default: LABELS_DIR/{POOL_FILE})"
    )
    main.add_argument("--k", type=positive, default=10, help="how many to show (default: 10)")
    main.add_argument("--version", help="model version to ask (default: current)")
    main.add_argument(
        "--include-none",
        action="store_true",
        help="also show sentences the model is sure take no stance (none score >= 0.9)",
    )
    store_options(main)
    return main


def suggest(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    path = args.file or settings.labels_dir / POOL_FILE
    pool = unlabelled(read_sentences(path), labelled_texts(settings.labels_dir))
    skipped = f"left out: {pool.labelled} already labelled, {pool.repeated} repeated"
    if not pool.texts:
        echo(f"nothing to rank in {path}: {skipped}")
        return 0
    predictor = load_model(ModelStore(settings.models_dir), args.version)
    echo(f"{len(pool.texts)} unlabelled sentences of {path}, ranked by {predictor.version}")
    echo(skipped)
    for line in table(ranked(predictor, pool, args.k, args.include_none)):
        echo(line)
    return 0


def read_sentences(path: Path) -> list[str]:
    try:
        return read_pool(path)
    except OSError as exc:
        raise TrainingError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise TrainingError(f"{path} is not UTF-8 text: {exc.reason}") from None


def load_model(store: ModelStore, version: str | None, precision: Precision = "fp32") -> Predictor:
    from transformers.utils import logging as hf_logging

    from stance.predictor import Predictor

    path = version_path(store, version)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    return Predictor.load(path, precision=precision)


def version_path(store: ModelStore, version: str | None) -> Path:
    """The directory of ``version`` (default: current), checked to hold a model's metadata."""
    version = version or store.current_version()
    if version is None:
        raise TrainingError(
            f"no model to ask: {store.current_link} does not exist; run `make train` "
            "(or stance-train) first"
        )
    store.metadata(version)
    return store.path(version)


def ranked(predictor: Predictor, pool: Pool, k: int, include_none: bool) -> list[Suggestion]:
    return rank(pool.texts, predictor.predict(pool.texts), k, include_none)


def table(suggestions: list[Suggestion]) -> list[str]:
    lines = [f"{'rank':>4}  {'margin':>7}  {'guess':<10}  text"]
    for place, item in enumerate(suggestions, start=1):
        lines.append(f"{place:>4}  {item.margin:>7.4f}  {item.label:<10}  {item.text}")
    return lines


main = command(suggest, parser)
