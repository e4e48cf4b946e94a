"""``stance-analyze --engine ray``: the single-process rows, computed on a Ray cluster.

Ray Data reads the archive (plain text, one article a file with its name as id, JSON Lines,
CSV or Parquet; files are read in parallel), an actor
pool turns batches of articles into sentence rows with :func:`training.rows.articles_rows`
(the single-process path's function, so both give the same rows), each actor loading the
predictor once, and the rows are written as Parquet or JSON Lines files into a directory.
``--address`` joins an existing cluster (``auto``, ``host:port`` or ``ray://host:10001``);
without it a local cluster is started for the run and stopped after it.

A worker that dies mid-run loses nothing and duplicates nothing: Ray restarts the actor and
retries its unfinished batch, and a write task names its file after the write and the task
(Ray Data's filenames), so a retried write replaces the file it had begun. The output
directory must be empty, so that every file in it belongs to this run. Rows are keyed by
(document, sentence), which is why this engine needs an id per article: the position of a row
in its file, the single-process path's fallback id, is not known to a parallel reader.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from stance.actors import Gazetteer
from stance.predictor import Precision, Predictor
from training.errors import TrainingError
from training.rows import Article, articles_rows

if TYPE_CHECKING:
    import ray.data

OUTPUT_FORMATS = ("parquet", "jsonl")
INPUT_SUFFIXES = (".txt", ".jsonl", ".csv", ".parquet")
LIGHT_TASK_CPUS = 0.25
"""Reading and writing are light beside the model: their tasks share the core that the
default number of workers leaves out."""

BatchHook = Callable[[], None]


@dataclass(frozen=True)
class Job:
    files: Sequence[Path]
    out: Path
    output_format: str
    model: Path
    """The version directory, at the same path on every node (a shared volume)."""
    precision: Precision
    gazetteer: Gazetteer
    text_column: str = "text"
    id_column: str = "id"
    articles_per_batch: int = 32
    workers: int | None = None
    """Actors; by default one per ``worker_cpus`` of the cluster, less a core for the light
    reading and writing tasks (on a local cluster: of this machine, which adds that core)."""
    worker_cpus: int = 1
    address: str | None = None
    progress: bool = False


@dataclass(frozen=True)
class Done:
    articles: int
    sentences: int
    seconds: float


class Scorer:
    """One actor of the pool: the predictor is loaded once, in the constructor."""

    def __init__(
        self,
        model: Path,
        precision: Precision,
        threads: int,
        gazetteer: Gazetteer,
        on_batch: BatchHook | None = None,
    ) -> None:
        self.predictor = Predictor.load(model, precision=precision, threads=threads)
        self.gazetteer = gazetteer
        self.schema = row_schema(self.predictor.labels)
        self.on_batch = on_batch

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self.on_batch is not None:
            self.on_batch()
        chunk = [
            Article(identifier, text)
            for identifier, text in zip(
                batch.column("id").to_pylist(), batch.column("text").to_pylist(), strict=True
            )
        ]
        rows = articles_rows(chunk, self.predictor, self.gazetteer)
        return pa.Table.from_pylist(rows, schema=self.schema)


def row_schema(labels: Sequence[str]) -> pa.Schema:
    """The rows of :func:`training.rows.sentence_rows` as Arrow types."""
    return pa.schema(
        [
            ("document", pa.string()),
            ("sentence", pa.int64()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("label", pa.string()),
            ("score", pa.float64()),
            ("actor", pa.string()),
            ("truncated", pa.bool_()),
            ("text", pa.string()),
            ("scores", pa.struct([(label, pa.float64()) for label in labels])),
        ]
    )


def articles_table(batch: pa.Table, text_column: str, id_column: str) -> pa.Table:
    """The batch's (id, text) as strings; a TrainingError names the file of a bad row."""
    paths = batch.column("path").to_pylist() if "path" in batch.column_names else []
    where = paths[0] if paths else "input"
    if text_column not in batch.column_names:
        raise TrainingError(f"{where}: no '{text_column}' column (set --text-column)")
    if id_column not in batch.column_names:
        raise TrainingError(
            f"{where}: no '{id_column}' column (set --id-column): the ray engine keys its rows "
            "by article id"
        )
    texts = batch.column(text_column).to_pylist()
    ids = [
        None if value in (None, "") else str(value) for value in batch.column(id_column).to_pylist()
    ]
    for row, (identifier, text) in enumerate(zip(ids, texts, strict=True)):
        source = paths[row] if paths else where
        if not isinstance(text, str):
            raise TrainingError(f"{source}: a row without '{text_column}' text")
        if identifier is None:
            raise TrainingError(f"{source}: a row without an '{id_column}'")
    return pa.table({"id": pa.array(ids, pa.string()), "text": pa.array(texts, pa.string())})


def read(job: Job) -> ray.data.Dataset:
    """``job``'s articles as (id, text) batches, whatever files they come from."""
    parts = [
        read_part(suffix, [str(path) for path in job.files if path.suffix == suffix], job)
        for suffix in INPUT_SUFFIXES
        if any(path.suffix == suffix for path in job.files)
    ]
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def read_part(suffix: str, paths: list[str], job: Job) -> ray.data.Dataset:
    import ray.data

    if suffix == ".txt":
        files = ray.data.read_binary_files(paths, **light())
        return files.map_batches(whole_files, batch_format="pyarrow", num_cpus=LIGHT_TASK_CPUS)
    readers: dict[str, Callable[..., ray.data.Dataset]] = {
        ".jsonl": partial(ray.data.read_json, lines=True),
        ".csv": ray.data.read_csv,
        ".parquet": ray.data.read_parquet,
    }
    return readers[suffix](paths, **light()).map_batches(
        partial(articles_table, text_column=job.text_column, id_column=job.id_column),
        batch_format="pyarrow",
        batch_size=None,
        num_cpus=LIGHT_TASK_CPUS,
    )


def whole_files(batch: pa.Table) -> pa.Table:
    """One article per ``.txt`` file, its id the file's name, as in the single-process path."""
    paths = batch.column("path").to_pylist()
    texts = []
    for path, content in zip(paths, batch.column("bytes").to_pylist(), strict=True):
        try:
            texts.append(content.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise TrainingError(f"{path}: not UTF-8 text ({exc.reason})") from None
    ids = [Path(path).name for path in paths]
    return pa.table({"id": pa.array(ids, pa.string()), "text": pa.array(texts, pa.string())})


def light() -> dict[str, Any]:
    return {"include_paths": True, "num_cpus": LIGHT_TASK_CPUS}


def pipeline(job: Job, on_batch: BatchHook | None = None) -> ray.data.Dataset:
    """The rows of ``job``'s articles, not yet computed."""
    import ray.data

    return read(job).map_batches(
        Scorer,
        fn_constructor_kwargs={
            "model": job.model,
            "precision": job.precision,
            "threads": job.worker_cpus,
            "gazetteer": job.gazetteer,
            "on_batch": on_batch,
        },
        batch_size=job.articles_per_batch,
        batch_format="pyarrow",
        compute=ray.data.ActorPoolStrategy(size=job.workers),
        num_cpus=job.worker_cpus,
    )


def write(rows: ray.data.Dataset, job: Job) -> None:
    remote = {"num_cpus": LIGHT_TASK_CPUS}
    if job.output_format == "parquet":
        rows.write_parquet(str(job.out), ray_remote_args=remote)
    else:
        rows.write_json(str(job.out), ray_remote_args=remote, force_ascii=False)


def check(job: Job) -> None:
    unread = [str(path) for path in job.files if path.suffix not in INPUT_SUFFIXES]
    if unread:
        raise TrainingError(
            f"the ray engine reads {', '.join(INPUT_SUFFIXES)} files, not: {', '.join(unread)}"
        )
    if job.output_format not in OUTPUT_FORMATS:
        raise TrainingError(f"the ray engine writes {' or '.join(OUTPUT_FORMATS)}")
    if job.out.exists() and (not job.out.is_dir() or any(job.out.iterdir())):
        raise TrainingError(f"{job.out} is not an empty directory (the ray engine writes one)")


def run(job: Job, on_batch: BatchHook | None = None) -> Done:
    """Analyse ``job`` on the cluster (started here when none is running); ``on_batch`` runs
    in the worker before each batch (tests kill the worker from it)."""
    import ray

    check(job)
    started_here = not ray.is_initialized()
    if started_here:
        start_cluster(job)
    try:
        job = replace(job, workers=job.workers or cluster_workers(job.worker_cpus))
        configure_progress(job.progress)
        start = time.perf_counter()
        try:
            write(pipeline(job, on_batch), job)
        except Exception as exc:
            raise usage_error(exc) or exc from None
        seconds = time.perf_counter() - start
    finally:
        if started_here:
            ray.shutdown()
    articles, sentences = counted(job.out, job.output_format)
    return Done(articles, sentences, seconds)


def start_cluster(job: Job) -> None:
    """Join ``job.address``, or start a local cluster sized for the workers and one light
    core for reading and writing."""
    import ray

    if job.address:
        ray.init(address=job.address, log_to_driver=False)
    else:
        workers = job.workers or max(1, (os.cpu_count() or 1) // job.worker_cpus)
        cpus = workers * job.worker_cpus + 1
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)


def cluster_workers(worker_cpus: int) -> int:
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 1))
    return max(1, (cpus - 1) // worker_cpus)


def configure_progress(progress: bool) -> None:
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = progress
    context.print_on_execution_start = progress
    context.raise_original_map_exception = True


def usage_error(exc: BaseException) -> TrainingError | None:
    """The TrainingError a worker raised, without the cluster's traceback around it (Ray's
    error is a subclass of it, its message the remote traceback; ``cause`` is the original)."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen) is TrainingError:
            return seen
        seen = getattr(seen, "cause", None) or seen.__cause__ or seen.__context__
    return None


def counted(out: Path, output_format: str) -> tuple[int, int]:
    """Articles and sentences in the output directory."""
    import pyarrow.json
    import pyarrow.parquet

    documents: set[str] = set()
    sentences = 0
    for path in sorted(out.iterdir()):
        if output_format == "parquet":
            column = pyarrow.parquet.read_table(path, columns=["document"]).column("document")
        else:
            column = pyarrow.json.read_json(path).column("document")
        documents.update(column.to_pylist())
        sentences += len(column)
    return len(documents), sentences
