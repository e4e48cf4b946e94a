"""The gates a trained version passes: promotion over ``current``, and which precision serves it.

The promotion gate compares test macro-F1 with ``current``'s on the same sentences. The int8
gate compares the version's int8 graph (what the service runs by default) with its own fp32 model
on the test split: a graph more than a tolerance below fp32 is not served, and the version is
served at fp32 instead (see the README's "Precision" section for why it is not refused).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stance.artifact import ArtifactError, ModelMetadata, Serving
from stance.labels import Example
from stance.registry import ModelStore
from training.errors import TrainingError
from training.evaluate import score_on

Rescore = Callable[[ModelMetadata, Path], float | None]
RESCORED = " re-scored on today's test split"
"""Current's test macro-F1 on the new version's test split, or None to use its stored one."""


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    compared_with: str | None
    tolerance: float
    forced: bool

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "decided_at": utc_now().isoformat()}


def decide(
    version: str,
    macro_f1: float | None,
    store: ModelStore,
    tolerance: float,
    force: bool,
    rescore: Rescore | None = None,
    measured: str = "",
    labels: Sequence[str] = (),
) -> Decision:
    """The promotion gate: is ``version`` (with ``labels``) good enough to replace ``current``?

    Both figures are macro-F1 over the stance labels on the stance sentences of the test split,
    so a version that can answer ``none`` is judged against a three-label current on what both
    can do; the reason says so when the label sets differ."""
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
        where += label_set_note(store.metadata(current).labels, labels)
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


def label_set_note(current_labels: Sequence[str], labels: Sequence[str]) -> str:
    if not labels or set(current_labels) == set(labels):
        return ""
    return (
        f" (stance sentences only: current has {len(current_labels)} labels, "
        f"this version {len(labels)})"
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


def judge_int8(fp32_f1: float | None, int8_f1: float | None, tolerance: float) -> Serving:
    """Serve the int8 graph only if its test macro-F1 is within ``tolerance`` of fp32's; served
    unjudged when the test split has no stance sentence to score either on."""
    if fp32_f1 is None or int8_f1 is None:
        return Serving(int8=True, reason="no stance sentence in the test split to judge it on")
    comparison = f"int8 test macro-F1 {int8_f1:.4f} vs fp32's {fp32_f1:.4f}"
    if int8_f1 >= fp32_f1 - tolerance:
        return Serving(int8=True, reason=f"{comparison}, within tolerance {tolerance}")
    return Serving(
        int8=False,
        reason=f"{comparison} is lower by more than the tolerance {tolerance}; served as fp32",
    )


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
