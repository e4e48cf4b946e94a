"""A training run from labels to a committed, possibly promoted, model version.

Everything is written into a staging directory of the store and renamed into ``models/<version>``
only once complete, so an exception or Ctrl-C leaves neither a version nor a moved ``current``.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stance.artifact import (
    METADATA_FILE,
    ArtifactError,
    ModelMetadata,
    Serving,
    write_metadata,
)
from stance.backends import TorchBackend
from stance.encoding import TextEncoder
from stance.ensemble import model_paths
from stance.labels import (
    labels_hash,
    load_examples,
    load_file,
    load_located,
    split,
)
from stance.onnx import (
    INT8_FILE,
    SCHEMES,
    OnnxBackend,
    Scheme,
    excluded_nodes,
    export_fp32,
    quantize,
)
from stance.predictor import Predictor
from stance.probes import Probes, check_probes, choose_probes
from stance.registry import ModelStore
from training.base_models import NAMED, base_model_label, resolve_base_model
from training.config import PipelineSettings, TrainConfig
from training.crossval import cross_validate
from training.data import Splits, files_of, load_splits
from training.evaluate import (
    answered,
    baseline_metrics,
    headline_f1,
    int8_metrics,
    label_ids,
    predict_logits,
    score_held_out,
    score_on,
    served_int8_metrics,
    unseen,
)
from training.evaluate import evaluate_model as evaluate_on_splits
from training.gate import RESCORED, Decision, Rescore, decide, judge_int8, rescore_on, utc_now
from training.report import write_report
from training.train import FineTuner, TrainedModel

log = logging.getLogger(__name__)

HELD_OUT_DIR = "held_out"
"""Under the labels dir: labelled files that are never trained on, scored for every version."""
PACKAGES = ("stance", "torch", "transformers", "datasets", "scikit-learn", "numpy")
BASE_PACKAGES = tuple(model.package for model in NAMED.values())


@dataclass(frozen=True)
class RunResult:
    version: str
    path: Path
    decision: Decision
    metrics: dict[str, Any]
    serving: Serving

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "promoted": self.decision.promoted,
            "reason": self.decision.reason,
            "metrics": self.metrics,
            "serving": self.serving.model_dump(),
        }


class Stopwatch:
    def __init__(self) -> None:
        self.durations: dict[str, float] = {}
        self.started = time.perf_counter()

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.durations[name] = round(time.perf_counter() - start, 3)

    def total(self) -> dict[str, float]:
        return {**self.durations, "total": round(time.perf_counter() - self.started, 3)}


def prepare_run(config: TrainConfig, settings: PipelineSettings) -> tuple[Splits, str]:
    """Quiet transformers, set threads, validate labels and the base model; log the config."""
    splits = load_splits(settings.labels_dir, config.dev_fraction, config.seed)
    return splits, prepare_base(config, settings, splits)


def prepare_base(config: TrainConfig, settings: PipelineSettings, splits: Splits) -> str:
    """The base model's path, with torch's threads set and the config and data logged (in
    that order: the service's job progress reads them so)."""
    base_path = resolve_base_model(config.base_model, settings.base_models_dir)
    quiet_transformers()
    torch.set_num_threads(config.resolved_threads())
    log.info("training config: %s", json.dumps(resolved_config(config, base_path, settings)))
    log.info("data: %s", json.dumps(splits.counts()))
    return base_path


def train_version(
    config: TrainConfig, settings: PipelineSettings, force: bool = False, progress: bool = True
) -> RunResult:
    """Train, evaluate, write and commit a version, then apply the promotion gate."""
    clock = Stopwatch()
    with clock("prepare"):
        splits, base_path = prepare_run(config, settings)
    store = ModelStore(settings.models_dir)
    version = make_version(splits.labels_hash)
    with store.staging() as scratch:
        built = ModelBuild(config, settings, splits, base_path, progress)
        metadata = built.write(scratch, version, clock).metadata
        return commit_version(store, scratch, metadata, splits, settings, force, clock)


def commit_version(
    store: ModelStore,
    scratch: Path,
    metadata: ModelMetadata,
    splits: Splits,
    settings: PipelineSettings,
    force: bool,
    clock: Stopwatch,
) -> RunResult:
    """Apply the promotion gate to a version written in ``scratch``, record the decision in its
    metadata and report, move it into the store, and point ``current`` at it if promoted."""
    version, metrics = metadata.version, metadata.metrics
    with clock("gate"):
        decision = decide(
            version,
            metrics["macro_f1"],
            store,
            settings.promote_tolerance,
            force,
            rescore_on(splits.labels_hash, splits.test),
            labels=splits.labels,
        )
    update = {"promotion": decision.as_dict(), "durations": clock.total()}
    metadata = metadata.model_copy(update=update)
    write_metadata(scratch, metadata)
    write_report(scratch, metadata)
    path = store.commit(scratch, version)
    if decision.promoted:
        store.set_current(version)
    return RunResult(version, path, decision, metrics, metadata.serving)


@dataclass(frozen=True)
class ModelBuild:
    """One model trained, evaluated and written as a version directory, before any gate: a
    version of its own, or a member of an ensemble (``standalone=False``: the ensemble is what
    is scored on the held-out files and probed, so its members are not)."""

    config: TrainConfig
    settings: PipelineSettings
    splits: Splits
    base_path: str
    progress: bool = True
    standalone: bool = True

    def write(self, directory: Path, version: str, clock: Stopwatch) -> Built:
        config, splits = self.config, self.splits
        with clock("train"):
            tuner = FineTuner(config, self.base_path, splits.labels, self.progress)
            trained = tuner.train(splits.dataset("train"), splits.dataset("dev"))
        with clock("evaluate"):
            metrics, probabilities = evaluate_trained(trained, splits, config)
        with clock("baseline"):
            baseline = baseline_metrics(
                splits.train_pool, splits.test, splits.labels, config.seed, splits.test_files
            )
        with clock("save"):
            trained.model.save_pretrained(directory)
            trained.tokenizer.save_pretrained(directory)
        serving = Serving(int8=False, reason="trained with --no-int8: no int8 graph saved")
        if config.int8:
            with clock("int8"):
                tolerance = self.settings.int8_tolerance
                f1 = metrics["macro_f1"]
                metrics["int8"] = save_int8(trained, directory, splits, config, f1, tolerance)
                serving = gate_int8(directory, metrics, tolerance)
        metadata = ModelMetadata(
            version=version,
            labels=splits.labels,
            base_model=base_model_label(config.base_model, self.base_path),
            labels_hash=splits.labels_hash,
            created_at=utc_now().isoformat(),
            max_length=config.max_length,
            temperature=metrics["calibration"]["temperature"],
            seed=config.seed,
            counts=splits.counts(),
            config=resolved_config(config, self.base_path, self.settings),
            metrics=metrics,
            baseline_metrics=baseline,
            packages=package_versions(),
            serving=serving,
        )
        if self.standalone:
            predictor = in_memory_predictor(trained, directory, metadata)
            with clock("held_out"):
                metrics["held_out"] = score_held_out_files(
                    predictor, self.settings.labels_dir, splits
                )
            texts = [e.text for e in splits.test]
            serving = check_int8_probes(directory, predictor, texts, serving)
        metadata = metadata.model_copy(
            update={"metrics": metrics, "durations": clock.total(), "serving": serving}
        )
        write_metadata(directory, metadata)
        write_report(directory, metadata)
        return Built(metadata, probabilities)


@dataclass(frozen=True)
class Built:
    """A model version just written, and its calibrated probabilities on the test split."""

    metadata: ModelMetadata
    test_probabilities: np.ndarray


def check_int8_probes(
    directory: Path, fp32: Predictor, texts: Sequence[str], serving: Serving
) -> Serving:
    """Keep the probe sentences (chosen among ``texts``) that the service checks a graph with,
    and check the int8 graph with them."""
    probes = choose_probes(fp32, texts)
    probes.write(directory)
    return probe_int8(directory, fp32, probes, serving) if serving.int8 else serving


def in_memory_predictor(
    trained: TrainedModel, directory: Path, metadata: ModelMetadata
) -> Predictor:
    """The fp32 predictor of the model just trained, as the service would load it from
    ``directory``, without reading it back from disk."""
    encoder = TextEncoder.load(directory, metadata.max_length)
    return Predictor.single(TorchBackend(trained.model), encoder, metadata)


def score_held_out_files(
    predictor: Predictor, labels_dir: Path, splits: Splits
) -> dict[str, dict[str, Any]]:
    """The new model and the baseline on each file of ``labels/held_out/`` that holds a label
    the model answers: a three-label model passes over a file of ``none`` sentences."""
    corpus = [*splits.train_pool, *splits.test]
    files = {
        path.name: load_file(path)
        for path in sorted((Path(labels_dir) / HELD_OUT_DIR).glob("*.jsonl"))
    }
    return {
        name: score_held_out(predictor, examples, corpus)
        for name, examples in files.items()
        if answered(examples, predictor.labels)
    }


def save_int8(
    trained: TrainedModel,
    directory: Path,
    splits: Splits,
    config: TrainConfig,
    fp32_f1: float,
    tolerance: float,
) -> dict[str, Any]:
    """Save the int8 ONNX graph the service runs by default, and its test macro-F1, with the
    quantisation scheme :func:`choose_scheme` kept and the dev figure of each scheme tried."""
    fp32_dev = saved_dev_logits(trained, splits, config).argmax(axis=1).tolist()
    fp32_dev_f1 = headline_f1(label_ids(splits.dev, splits.labels), fp32_dev, splits.labels)
    with tempfile.TemporaryDirectory() as scratch:
        graph = export_fp32(trained.model, directory, Path(scratch) / "model.onnx")

        def dev_delta(scheme: Scheme) -> float | None:
            exclude = excluded_nodes(graph, scheme, trained.model.config.intermediate_size)
            quantize(graph, directory / INT8_FILE, exclude)
            metrics = int8_metrics(
                directory, splits.dev, splits.labels, config.max_length, fp32_dev_f1
            )
            return metrics["delta_macro_f1"]

        scheme, tried = choose_scheme(dev_delta, tolerance)
    test = int8_metrics(directory, splits.test, splits.labels, config.max_length, fp32_f1)
    return {**test, "scheme": scheme, "dev_delta_by_scheme": tried}


def saved_dev_logits(trained: TrainedModel, splits: Splits, config: TrainConfig) -> np.ndarray:
    """The saved model's fp32 logits on dev: those early stopping computed, unless a refit
    trained the model saved afresh."""
    if trained.refit is None:
        return trained.dev_logits
    texts = [e.text for e in splits.dev]
    return predict_logits(trained.model, trained.tokenizer, texts, config.max_length)


def choose_scheme(
    dev_delta: Callable[[Scheme], float | None], tolerance: float
) -> tuple[Scheme, dict[str, float | None]]:
    """Try the quantisation schemes from the fastest (:data:`stance.onnx.SCHEMES`), each one
    writing its graph, and keep the first within half of ``tolerance`` of fp32 on dev (the
    last one otherwise): the test split, which the gate then judges with the whole tolerance,
    plays no part in the choice. Half, because dev is small: on an mpnet model a scheme 0.009
    below fp32 on dev was 0.017 below on test."""
    tried: dict[str, float | None] = {}
    for scheme in SCHEMES:
        delta = tried[scheme] = dev_delta(scheme)
        if delta is None or delta >= -tolerance / 2:
            break
    return scheme, tried


def gate_int8(directory: Path, metrics: dict[str, Any], tolerance: float) -> Serving:
    """Judge the saved int8 graph against fp32 on the test split; a refused graph is deleted
    from the version, so that nothing can serve it, and its figures stay in the metrics."""
    serving = judge_int8(metrics["macro_f1"], metrics["int8"]["macro_f1"], tolerance)
    return serving if serving.int8 else refuse_int8(directory, serving.reason)


def refuse_int8(directory: Path, reason: str) -> Serving:
    """Delete the version's int8 graph, so that nothing can serve it; it is served at fp32."""
    log.warning("int8 graph refused: %s", reason)
    (directory / INT8_FILE).unlink()
    return Serving(int8=False, reason=reason)


def probe_int8(directory: Path, fp32: Predictor, probes: Probes, serving: Serving) -> Serving:
    """Run the probe check the service will run on the int8 graph; a graph that fails it is
    deleted and the version served at fp32, so that no promoted version fails to load."""
    backend = OnnxBackend(directory / INT8_FILE).checked(len(fp32.labels))
    int8 = Predictor.single(backend, fp32.encoder, fp32.metadata, "int8")
    try:
        check_probes(int8, probes)
    except ArtifactError as exc:
        return refuse_int8(directory, str(exc))
    return serving


def evaluate_trained(
    trained: TrainedModel, splits: Splits, config: TrainConfig
) -> tuple[dict[str, Any], np.ndarray]:
    metrics, probabilities = evaluate_on_splits(
        trained.model, trained.tokenizer, trained.dev_logits, splits, config.max_length
    )
    metrics["training"] = trained.summary()
    return metrics, probabilities


def run_cross_validation(
    config: TrainConfig, settings: PipelineSettings, k: int, progress: bool = True
) -> dict[str, Any]:
    splits, base_path = prepare_run(config, settings)
    started = time.perf_counter()
    result = cross_validate(config, base_path, splits, k, progress)
    return {**result, "config": config.to_dict(), "seconds": round(time.perf_counter() - started)}


def promote_version(version: str, settings: PipelineSettings, force: bool) -> Decision:
    """Apply the gate to an existing version, record the decision in it, move ``current``.

    When the version and current were trained on different labels, each one whose labels are
    not today's is re-scored on today's test split, so that both figures count the same
    sentences."""
    store = ModelStore(settings.models_dir)
    metadata = store.metadata(version)
    macro_f1, measured, rescore = metadata.macro_f1, "", None
    if not force and labels_differ(store, metadata):
        rescore = todays_rescore(settings.labels_dir)
        rescored = rescore(metadata, store.path(version))
        if rescored is not None:
            macro_f1, measured = rescored, RESCORED
    tolerance = settings.promote_tolerance
    decision = decide(
        version, macro_f1, store, tolerance, force, rescore, measured, metadata.labels
    )
    if store.current_version() != version:
        record_promotion(store.path(version), metadata, decision)
    if decision.promoted:
        store.set_current(version)
    return decision


def labels_differ(store: ModelStore, metadata: ModelMetadata) -> bool:
    current = store.current_version()
    if current is None or current == metadata.version:
        return False
    try:
        return store.metadata(current).labels_hash != metadata.labels_hash
    except ArtifactError:
        return False


def todays_rescore(labels_dir: Path) -> Rescore:
    examples = load_examples(labels_dir)
    _, test = split(examples)
    return rescore_on(labels_hash(examples), test)


def use_version(version: str, settings: PipelineSettings) -> str | None:
    """Point ``current`` at ``version`` without the gate (rollback); returns the previous one."""
    store = ModelStore(settings.models_dir)
    previous = store.current_version()
    store.set_current(version)
    return previous


def record_promotion(directory: Path, metadata: ModelMetadata, decision: Decision) -> None:
    """Rewrite metadata.json with the decision, atomically, so readers never see half a file."""
    updated = metadata.model_copy(update={"promotion": decision.as_dict()})
    fd, temp = tempfile.mkstemp(prefix=".metadata-", suffix=".json", dir=directory)
    os.close(fd)
    try:
        write_metadata_to(Path(temp), updated)
        os.replace(temp, directory / METADATA_FILE)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_metadata_to(path: Path, metadata: ModelMetadata) -> None:
    path.write_text(metadata.model_dump_json(indent=2) + "\n", encoding="utf-8")


def evaluate_version(version: str, settings: PipelineSettings) -> dict[str, Any]:
    """Metrics of a saved version on today's test split (sentences of unknown labels skipped)."""
    quiet_transformers()
    store = ModelStore(settings.models_dir)
    store.metadata(version)
    located = load_located(settings.labels_dir)
    _, test = split(item.example for item in located)
    return score_on(store.path(version), test, files_of(located, test))


def evaluate_held_out(version: str, path: Path, settings: PipelineSettings) -> dict[str, Any]:
    """A saved version's metrics on a labelled file kept out of ``labels/``, with the TF-IDF
    baseline's on the same sentences under ``baseline`` and, if the version has one, its int8
    graph's (what the service runs by default) under ``int8``.

    Sentences that are in ``labels/``, or within a couple of words of one, are skipped: a model
    scored on what it trained on looks better than it is. The baseline is fitted on the training
    side of today's fixed split, as ``stance-train`` fits it.
    """
    quiet_transformers()
    held_out = load_file(path)
    store = ModelStore(settings.models_dir)
    directory = store.path(store.metadata(version).version)
    predictor = Predictor.load(directory)
    corpus = load_examples(settings.labels_dir)
    result = score_held_out(predictor, held_out, corpus)
    if not int8_saved(directory, predictor.metadata):
        return result
    int8 = Predictor.load(directory, "int8")
    if int8.precision == "int8":
        scored = answered(unseen(held_out, corpus), predictor.labels)
        result["int8"] = served_int8_metrics(int8, scored, result["macro_f1"])
    return result


def int8_saved(directory: Path, metadata: ModelMetadata) -> bool:
    """Whether the version (each member of an ensemble) has an int8 graph on disk."""
    return all((path / INT8_FILE).is_file() for path in model_paths(directory, metadata))


def make_version(labels_hash: str) -> str:
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{labels_hash}"


def resolved_config(
    config: TrainConfig, base_path: str, settings: PipelineSettings
) -> dict[str, Any]:
    return {
        **config.to_dict(),
        "threads": config.resolved_threads(),
        "base_model_path": base_path,
        "labels_dir": str(settings.labels_dir),
    }


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in (*PACKAGES, *BASE_PACKAGES):
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def quiet_transformers() -> None:
    """Keep transformers' load reports and progress bars out of the training output."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
