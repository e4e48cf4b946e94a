"""``stance-analyze FILE...``: ``POST /analyze`` over an archive, in process, no server.

Each ``.txt`` file is one article; a ``.jsonl`` or ``.csv`` file holds one article per line
or row, in a text column (``--text-column``, default ``text``) with an optional id column
(``--id-column``, default ``id``; else ``FILE:LINE``). Output is one row per sentence, as
JSON Lines or CSV, to ``--out`` or stdout, written as the articles are read; a progress bar
goes to stderr, and the throughput (articles/s, sentences/s) at the end. It runs the current
version with the int8 predictor, as the service does. Exit codes: 0 on success, 2 for a usage
error (no such file, no model, a row without text).

``--engine ray`` computes the same rows on a Ray cluster (:mod:`training.distributed`), into a
directory of Parquet or JSON Lines files; it needs the ``distributed`` extra.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from stance.actors import FILE_NAME, Gazetteer, GazetteerError
from stance.predictor import PRECISIONS
from stance.registry import ModelStore
from training.cli import command, settings_from, store_options
from training.errors import TrainingError
from training.rows import COLUMNS, Article, articles_rows
from training.suggest import load_model, positive, version_path

FORMATS = ("jsonl", "csv", "parquet")
ENGINES = ("process", "ray")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="stance-analyze",
        description="Split articles into sentences and give each its stance and actor.",
        epilog="exit codes: 0 success, 2 usage error",
    )
    main.add_argument(
        "files",
        nargs="+",
        type=Path,
        help=".txt (one article), .jsonl or .csv; --engine ray also .parquet",
    )
    main.add_argument("--out", type=Path, help="write here instead of stdout")
    main.add_argument(
        "--format",
        choices=FORMATS,
        help="jsonl or csv (default: from --out); --engine ray: parquet (default) or jsonl",
    )
    main.add_argument("--text-column", default="text", help="column of the article text")
    main.add_argument("--id-column", default="id", help="column of the article id, if any")
    main.add_argument("--version", help="model version (default: current)")
    main.add_argument("--precision", choices=PRECISIONS, default="int8", help="default: int8")
    main.add_argument(
        "--articles-per-batch",
        type=positive,
        default=32,
        help="articles whose sentences are classified together (default: 32)",
    )
    main.add_argument(
        "--actors", type=Path, help="actor gazetteer (default: LABELS_DIR/actors.toml)"
    )
    main.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    engine = main.add_argument_group(
        "distributed", "--engine ray needs the distributed extra: pip install 'stance[distributed]'"
    )
    engine.add_argument(
        "--engine",
        choices=ENGINES,
        default="process",
        help="process (default) or ray: Ray Data on a cluster, --out a directory of files",
    )
    engine.add_argument(
        "--address", help="an existing Ray cluster (auto, HOST:PORT, ray://HOST:10001)"
    )
    engine.add_argument(
        "--workers",
        type=positive,
        help="actors that classify (default: the cluster's cores less one, / --worker-cpus)",
    )
    engine.add_argument(
        "--worker-cpus", type=positive, default=1, help="cores per actor (default: 1)"
    )
    store_options(main)
    return main


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        raise TrainingError(f"no such file: {', '.join(missing)}")
    gazetteer = load_gazetteer(args.actors or settings.labels_dir / FILE_NAME)
    store = ModelStore(settings.models_dir)
    if args.engine == "ray":
        return run_on_ray(args, version_path(store, args.version), gazetteer)
    if args.format == "parquet":
        raise TrainingError("--format parquet needs --engine ray")
    predictor = load_model(store, args.version, args.precision)
    output_format = args.format or ("csv" if args.out and args.out.suffix == ".csv" else "jsonl")
    started = time.perf_counter()
    with ExitStack() as stack:
        out = (
            stack.enter_context(open(args.out, "w", encoding="utf-8", newline=""))
            if args.out
            else sys.stdout
        )
        writer = Writer(out, output_format, predictor.labels)
        bar = stack.enter_context(
            tqdm(unit="article", file=sys.stderr, disable=args.no_progress, desc="analyze")
        )
        articles = read_articles(args.files, args.text_column, args.id_column)
        counted = Counted()
        for chunk in chunks(articles, args.articles_per_batch):
            rows = articles_rows(chunk, predictor, gazetteer)
            writer.write(rows)
            counted.add(len(chunk), len(rows))
            bar.update(len(chunk))
    seconds = time.perf_counter() - started
    sys.stderr.write(counted.report(seconds) + "\n")
    return 0


def run_on_ray(args: argparse.Namespace, model: Path, gazetteer: Gazetteer) -> int:
    try:
        from training import distributed
    except ImportError as exc:
        raise TrainingError(
            f"--engine ray needs the distributed extra ({exc}): pip install 'stance[distributed]'"
        ) from None
    if args.out is None:
        raise TrainingError("--engine ray writes files: give --out DIRECTORY")
    job = distributed.Job(
        files=args.files,
        out=args.out,
        output_format=args.format or "parquet",
        model=model,
        precision=args.precision,
        gazetteer=gazetteer,
        text_column=args.text_column,
        id_column=args.id_column,
        articles_per_batch=args.articles_per_batch,
        workers=args.workers,
        worker_cpus=args.worker_cpus,
        address=args.address,
        progress=not args.no_progress,
    )
    done = distributed.run(job)
    counted = Counted()
    counted.add(done.articles, done.sentences)
    sys.stderr.write(counted.report(done.seconds) + "\n")
    return 0


def load_gazetteer(path: Path) -> Gazetteer:
    try:
        return Gazetteer.load(path)
    except GazetteerError as exc:
        raise TrainingError(str(exc)) from None


def read_articles(files: Iterable[Path], text_column: str, id_column: str) -> Iterator[Article]:
    for path in files:
        try:
            if path.suffix == ".jsonl":
                yield from jsonl_articles(path, text_column, id_column)
            elif path.suffix == ".csv":
                yield from csv_articles(path, text_column, id_column)
            else:
                yield Article(path.name, path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise TrainingError(f"{path} is not UTF-8 text: {exc.reason}") from None


def jsonl_articles(path: Path, text_column: str, id_column: str) -> Iterator[Article]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TrainingError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
            yield article_from(record, f"{path}:{number}", text_column, id_column)


def csv_articles(path: Path, text_column: str, id_column: str) -> Iterator[Article]:
    with open(path, encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            yield article_from(row, f"{path}:{number}", text_column, id_column)


def article_from(record: Any, where: str, text_column: str, id_column: str) -> Article:
    text = record.get(text_column) if isinstance(record, dict) else None
    if not isinstance(text, str):
        raise TrainingError(f"{where}: no '{text_column}' text (set --text-column)")
    identifier = record.get(id_column)
    return Article(str(identifier) if identifier not in (None, "") else where, text)


def chunks(articles: Iterable[Article], size: int) -> Iterator[list[Article]]:
    chunk: list[Article] = []
    for article in articles:
        chunk.append(article)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Writer:
    """One row per sentence: JSON Lines with every score, or CSV with a column per label."""

    def __init__(self, out: IO[str], output_format: str, labels: list[str]) -> None:
        self.out = out
        self.format = output_format
        self.labels = labels
        self.csv = csv.writer(out) if output_format == "csv" else None
        if self.csv is not None:
            self.csv.writerow([*COLUMNS, *(f"score_{label}" for label in labels)])

    def write(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            if self.csv is not None:
                scores = [row["scores"][label] for label in self.labels]
                self.csv.writerow([*(row[column] for column in COLUMNS), *scores])
            else:
                self.out.write(json.dumps(row, ensure_ascii=False) + "\n")


class Counted:
    def __init__(self) -> None:
        self.articles = 0
        self.sentences = 0

    def add(self, articles: int, sentences: int) -> None:
        self.articles += articles
        self.sentences += sentences

    def report(self, seconds: float) -> str:
        rate = max(seconds, 1e-9)
        return (
            f"{self.articles} articles, {self.sentences} sentences in {seconds:.1f} s: "
            f"{self.articles / rate:.1f} articles/s, {self.sentences / rate:.1f} sentences/s"
        )


main = command(run, parser)
