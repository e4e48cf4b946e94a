"""stance-analyze --engine ray on one small local Ray cluster for the module, with the session's
tiny trained model: the single-process rows, and none lost or doubled when a worker dies."""

from __future__ import annotations

import gc
import json
import os
import signal
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow
import pyarrow.csv
import pyarrow.parquet
import pytest
import ray

from bench.articles import passages
from bench.distributed import write_archive
from stance.actors import Gazetteer
from stance.sentences import split_sentences
from tests.conftest import TrainedStore
from training import distributed
from training.analyze import main

Analyze = Callable[..., int]
Key = tuple[str, int]


@pytest.fixture(scope="module", autouse=True)
def cluster() -> Iterator[None]:
    """Two workers of one core each and a quarter core for reading and writing fit in three
    logical CPUs; no dashboard, a small object store, worker logs kept out of the test output."""
    with ray_resource_warnings_ignored():
        ray.init(
            num_cpus=3,
            include_dashboard=False,
            log_to_driver=False,
            object_store_memory=200 * 1024**2,
            configure_logging=False,
        )
    yield
    with ray_resource_warnings_ignored():
        ray.shutdown()
        gc.collect()


@contextmanager
def ray_resource_warnings_ignored() -> Iterator[None]:
    """Ray drops its daemons' /dev/null handles and Popen objects unclosed, its own affair."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "unclosed file .*/dev/null", ResourceWarning)
        warnings.filterwarnings("ignore", r"subprocess \d+ is still running", ResourceWarning)
        yield


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The held-out passages as articles with ids: 40 articles, 385 sentences."""
    return write_archive(passages(), tmp_path_factory.mktemp("archive"))


@pytest.fixture
def analyze(trained_store: TrainedStore, repo_root: Path) -> Analyze:
    store_args = ["--labels-dir", str(trained_store.labels_dir)]
    store_args += ["--models-dir", str(trained_store.models_dir)]
    actors = str(repo_root / "labels" / "actors.toml")
    return lambda *argv: main([*argv, "--actors", actors, "--no-progress", *store_args])


def keyed(rows: list[dict]) -> dict[Key, dict]:
    return {(row["document"], row["sentence"]): row for row in rows}


def jsonl_rows(path: Path) -> list[dict]:
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    return [json.loads(line) for file in files for line in file.read_text("utf-8").splitlines()]


def test_the_ray_engine_gives_the_single_process_rows(
    analyze: Analyze, archive: Path, tmp_path: Path
) -> None:
    single, on_ray = tmp_path / "single.jsonl", tmp_path / "ray"

    assert analyze(str(archive), "--out", str(single)) == 0
    engine_args = ["--engine", "ray", "--workers", "2", "--articles-per-batch", "4"]
    assert analyze(str(archive), "--out", str(on_ray), "--format", "jsonl", *engine_args) == 0

    expected, got = jsonl_rows(single), jsonl_rows(on_ray)
    assert len(expected) >= 300
    assert len(got) == len(expected)
    assert keyed(got).keys() == keyed(expected).keys()
    for key, row in keyed(expected).items():
        other = keyed(got)[key]
        assert {k: v for k, v in other.items() if k != "scores" and k != "score"} == {
            k: v for k, v in row.items() if k != "scores" and k != "score"
        }
        assert other["score"] == pytest.approx(row["score"], abs=1e-5)
        assert other["scores"] == pytest.approx(row["scores"], abs=1e-5)


def test_plain_text_articles_give_the_single_process_rows(
    analyze: Analyze, repo_root: Path, tmp_path: Path
) -> None:
    seeds = [str(path) for path in sorted((repo_root / "seeds").glob("*.txt"))]
    single, on_ray = tmp_path / "single.jsonl", tmp_path / "ray"

    assert analyze(*seeds, "--out", str(single)) == 0
    assert analyze(*seeds, "--out", str(on_ray), "--format", "jsonl", "--engine", "ray") == 0

    expected, got = keyed(jsonl_rows(single)), keyed(jsonl_rows(on_ray))
    assert {document for document, _ in got} == {Path(seed).name for seed in seeds}
    assert got.keys() == expected.keys()
    assert all(got[key]["label"] == row["label"] for key, row in expected.items())


def test_csv_and_parquet_archives_are_read_together(
    analyze: Analyze, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = passages()[:6]
    csv_file, parquet_file = tmp_path / "a.csv", tmp_path / "b.parquet"
    rows = [{"id": i, "text": text} for i, text in enumerate(texts[:3])]
    pyarrow.csv.write_csv(pyarrow.Table.from_pylist(rows), csv_file)
    rows = [{"id": f"b{i}", "text": text} for i, text in enumerate(texts[3:])]
    pyarrow.parquet.write_table(pyarrow.Table.from_pylist(rows), parquet_file)
    out = tmp_path / "rows"

    code = analyze(str(csv_file), str(parquet_file), "--engine", "ray", "--out", str(out))

    documents = pyarrow.parquet.read_table(out)["document"].to_pylist()
    assert code == 0
    assert set(documents) == {"0", "1", "2", "b0", "b1", "b2"}
    assert len(documents) == sum(len(split_sentences(text)) for text in texts)
    assert f"6 articles, {len(documents)} sentences in" in capsys.readouterr().err


class KillOnce:
    """Kills its worker process at the start of its second batch, once per run (the marker
    file says it has happened): a worker lost mid-run, after it had finished a batch."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.batches = 0

    def __call__(self) -> None:
        self.batches += 1
        if self.batches == 2 and not self.marker.exists():
            self.marker.write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_mid_run_loses_and_doubles_no_row(
    trained_store: TrainedStore, archive: Path, repo_root: Path, tmp_path: Path
) -> None:
    marker, out = tmp_path / "killed", tmp_path / "rows"
    job = distributed.Job(
        files=[archive],
        out=out,
        output_format="parquet",
        model=trained_store.path,
        precision="int8",
        gazetteer=Gazetteer.load(repo_root / "labels" / "actors.toml"),
        articles_per_batch=2,
        workers=2,
    )

    done = distributed.run(job, on_batch=KillOnce(marker))

    table = pyarrow.parquet.read_table(out)
    keys = list(zip(table["document"].to_pylist(), table["sentence"].to_pylist(), strict=True))
    expected = sum(len(split_sentences(text)) for text in passages())
    assert marker.exists()
    assert len(keys) == len(set(keys)) == expected == done.sentences


def test_an_archive_without_ids_is_a_usage_error(
    analyze: Analyze, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "archive.jsonl"
    archive.write_text('{"text": "Kabul welcomed the move."}\n', encoding="utf-8")

    code = analyze(str(archive), "--engine", "ray", "--out", str(tmp_path / "out"))

    assert code == 2
    assert "no 'id' column (set --id-column)" in capsys.readouterr().err


def test_a_non_empty_output_directory_is_a_usage_error(
    analyze: Analyze, archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.parquet").write_text("")

    code = analyze(str(archive), "--engine", "ray", "--out", str(tmp_path / "out"))

    assert code == 2
    assert "is not an empty directory" in capsys.readouterr().err
