"""Training an ensemble version: each member trained into ``members/<recipe>/`` of one staging
directory on the same split, then the ensemble scored, gated and committed like any version.

The members are complete versions (:mod:`stance.ensemble`); what is judged, probed and
promoted is the ensemble: the mean of its members' calibrated probabilities.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stance.artifact import ArtifactError, ModelMetadata, Serving, read_metadata, write_metadata
from stance.ensemble import MEMBERS_DIR, write_labels_config
from stance.predictor import Predictor
from stance.probes import Probes, check_probes, probes_among
from stance.registry import ModelStore
from training.config import PipelineSettings, TrainConfig, config_fields
from training.data import Splits, load_splits
from training.errors import TrainingError
from training.evaluate import (
    classification_metrics,
    label_ids,
    served_int8_metrics,
)
from training.gate import judge_int8, utc_now
from training.pipeline import (
    ModelBuild,
    RunResult,
    Stopwatch,
    commit_version,
    make_version,
    package_versions,
    prepare_base,
    score_held_out_files,
)

log = logging.getLogger(__name__)

MEMBER_SUMMARY = ("macro_f1", "four_label_macro_f1", "accuracy", "stance_lost_to_none")


def train_ensemble(
    members: Sequence[tuple[str, TrainConfig]],
    settings: PipelineSettings,
    force: bool = False,
    progress: bool = True,
) -> RunResult:
    """Train each (name, config) member, then score, gate and commit the ensemble of them."""
    seed, dev_fraction = same_split(members)
    clock = Stopwatch()
    with clock("prepare"):
        splits = load_splits(settings.labels_dir, dev_fraction, seed)
    store = ModelStore(settings.models_dir)
    version = make_version(splits.labels_hash)
    with store.staging() as scratch:
        built: dict[str, np.ndarray] = {}
        for number, (name, config) in enumerate(members, start=1):
            log.info("member %d of %d: %s", number, len(members), name)
            with clock(f"member {name}"):
                trained = reusable(store, splits.labels_hash, config)
                if trained is not None:
                    built[name] = copy_member(trained, scratch, name, splits)
                    continue
                base_path = prepare_base(config, settings, splits)
                build = ModelBuild(config, settings, splits, base_path, progress, False)
                member = build.write(member_dir(scratch, name), f"{version}.{name}", Stopwatch())
                built[name] = member.test_probabilities
        with clock("ensemble"):
            metadata = assemble(scratch, built, splits, settings, version)
        return commit_version(store, scratch, metadata, splits, settings, force, clock)


def same_split(members: Sequence[tuple[str, TrainConfig]]) -> tuple[int, float]:
    """The seed and dev fraction every member shares; TrainingError if they differ, since the
    ensemble is calibrated and judged on one split."""
    if not members:
        raise TrainingError("an ensemble needs at least one member")
    splits = {(config.seed, config.dev_fraction) for _, config in members}
    if len(splits) > 1:
        raise TrainingError("the members of an ensemble must share --seed and --dev-fraction")
    return splits.pop()


def reusable(store: ModelStore, labels_hash: str, config: TrainConfig) -> Path | None:
    """The newest one-model version in the store trained with ``config`` on the same labels
    (threads and device aside): `make serve` trains the fast recipe first, and the pair that
    follows it takes that version as its member instead of training it again."""
    wanted = model_choices(config.to_dict())
    for info in reversed(store.describe()):
        metadata = info.metadata
        if (
            metadata is not None
            and not metadata.members
            and metadata.labels_hash == labels_hash
            and model_choices(metadata.config) == wanted
        ):
            return info.path
    return None


def model_choices(config: dict[str, Any]) -> dict[str, Any]:
    """The config values that change the model saved."""
    names = [name for name, *_ in config_fields() if name not in ("threads", "device")]
    return {name: config.get(name) for name in names}


def copy_member(version: Path, directory: Path, name: str, splits: Splits) -> np.ndarray:
    """Hard-link a trained version in as a member; its calibrated test probabilities."""
    log.info(
        "member %s: reusing %s, trained with the same config on the same labels", name, version
    )
    target = Path(directory) / MEMBERS_DIR / name
    shutil.copytree(version, target, copy_function=os.link)
    return Predictor.load(target).probabilities([e.text for e in splits.test])[0]


def member_dir(directory: Path, name: str) -> Path:
    path = Path(directory) / MEMBERS_DIR / name
    path.mkdir(parents=True)
    return path


def assemble(
    directory: Path,
    test_probabilities: dict[str, np.ndarray],
    splits: Splits,
    settings: PipelineSettings,
    version: str,
) -> ModelMetadata:
    """Write the ensemble's config, metadata, probes and metrics over its trained members, given
    each one's calibrated probabilities on the test split (by member name)."""
    names = list(test_probabilities)
    members = [f"{MEMBERS_DIR}/{name}" for name in names]
    member_metadata = [read_metadata(Path(directory) / member) for member in members]
    metadata = ensemble_metadata(version, splits, members, member_metadata)
    write_labels_config(directory, splits.labels)
    write_metadata(directory, metadata)
    fp32 = Predictor.load(directory, "fp32")
    probabilities = np.mean(list(test_probabilities.values()), axis=0)
    test_y = label_ids(splits.test, splits.labels)
    metrics = classification_metrics(test_y, probabilities, splits.labels, splits.test_files)
    metrics["members"] = {
        name: member_summary(member) for name, member in zip(names, member_metadata, strict=True)
    }
    metrics["held_out"] = score_held_out_files(fp32, settings.labels_dir, splits)
    texts = [e.text for e in splits.test]
    predictions = fp32.predictions(probabilities, [False] * len(texts))
    probes = probes_among(texts, predictions, splits.labels)
    probes.write(directory)
    serving = int8_serving(member_metadata, names)
    if serving.int8:
        tolerance = settings.int8_tolerance
        int8 = Predictor.load(directory, "int8")
        metrics["int8"], serving = judge_int8_members(int8, probes, splits, metrics, tolerance)
    return metadata.model_copy(update={"metrics": metrics, "serving": serving})


def ensemble_metadata(
    version: str, splits: Splits, members: list[str], member_metadata: list[ModelMetadata]
) -> ModelMetadata:
    first = member_metadata[0]
    return ModelMetadata(
        version=version,
        labels=splits.labels,
        base_model=" + ".join(m.base_model for m in member_metadata),
        labels_hash=splits.labels_hash,
        created_at=utc_now().isoformat(),
        max_length=max(m.max_length for m in member_metadata),
        seed=first.seed,
        counts=splits.counts(),
        config={
            "ensemble": "mean of the members' calibrated probabilities",
            **{member: m.config for member, m in zip(members, member_metadata, strict=True)},
        },
        baseline_metrics=first.baseline_metrics,
        packages=package_versions(),
        members=members,
    )


def member_summary(member: ModelMetadata) -> dict[str, Any]:
    metrics = member.metrics
    return {
        "base_model": member.base_model,
        **{key: metrics.get(key) for key in MEMBER_SUMMARY},
        "int8_macro_f1": (metrics.get("int8") or {}).get("macro_f1"),
        "int8_served": member.serving.int8,
    }


def int8_serving(members: list[ModelMetadata], names: Sequence[str]) -> Serving:
    refused = [
        f"{name}: {member.serving.reason}"
        for name, member in zip(names, members, strict=True)
        if not member.serving.int8
    ]
    if refused:
        return Serving(int8=False, reason="a member's int8 gate refused it: " + "; ".join(refused))
    return Serving()


def judge_int8_members(
    int8: Predictor,
    probes: Probes,
    splits: Splits,
    metrics: dict[str, Any],
    tolerance: float,
) -> tuple[dict[str, Any], Serving]:
    """The ensemble of int8 members against the fp32 one: on the test split (the int8 gate),
    then on the probe sentences the service will check it with."""
    figures: dict[str, Any] = served_int8_metrics(int8, splits.test, metrics["macro_f1"])
    figures["scheme"] = "each member's own"
    serving = judge_int8(metrics["macro_f1"], figures["macro_f1"], tolerance)
    if serving.int8:
        try:
            check_probes(int8, probes)
        except ArtifactError as exc:
            return figures, Serving(int8=False, reason=str(exc))
    return figures, serving
