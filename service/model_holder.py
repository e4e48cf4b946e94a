"""The model in service, and swapping in a new version without a restart.

A new version is loaded and checked in a worker thread beside the one in service, then put in
service with one assignment: batches already running keep their reference to the old predictor.
A version that fails to load or to pass the checks (a warm-up prediction, and the probe
sentences stored at training time, which the graph about to be served must reproduce) is
refused once and not retried by the poller; ``POST /admin/reload`` retries it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from service.metrics import Metrics
from stance.artifact import ArtifactError
from stance.probes import TOLERANCE, Probes, check_probes
from stance.registry import ModelStore

if TYPE_CHECKING:
    from stance.predictor import PredictorProtocol

PredictorLoader = Callable[[Path], "PredictorProtocol"]

WARM_UP_TEXT = "The foreign ministry said it would study the request."
logger = logging.getLogger(__name__)


class ReloadStatus(StrEnum):
    LOADED = "loaded"
    UNCHANGED = "unchanged"
    REFUSED = "refused"
    MISSING = "missing"


@dataclass(frozen=True)
class ReloadResult:
    status: ReloadStatus
    target: str | None
    serving: str | None
    reason: str | None = None


@dataclass(frozen=True)
class _Refusal:
    target: str
    reason: str


class ModelHolder:
    def __init__(
        self,
        store: ModelStore,
        loader: PredictorLoader,
        metrics: Metrics,
        probe_tolerance: float = TOLERANCE,
    ) -> None:
        self._store = store
        self._probe_tolerance = probe_tolerance
        self._loader = loader
        self._metrics = metrics
        self._predictor: PredictorProtocol | None = None
        self._source: str | None = None
        self._refusal: _Refusal | None = None
        self._lock = asyncio.Lock()

    @property
    def predictor(self) -> PredictorProtocol | None:
        return self._predictor

    @property
    def serving(self) -> str | None:
        return self._predictor.version if self._predictor is not None else None

    async def reload(self, retry_refused: bool = False) -> ReloadResult:
        """Serve the version ``current`` points at, unless it is already served or was refused."""
        async with self._lock:
            target = self._store.current_version()
            if target is None:
                return ReloadResult(ReloadStatus.MISSING, None, self.serving)
            if target == self._source:
                return ReloadResult(ReloadStatus.UNCHANGED, target, self.serving)
            refusal = self._refusal
            if refusal is not None and refusal.target == target and not retry_refused:
                return ReloadResult(ReloadStatus.REFUSED, target, self.serving, refusal.reason)
            return await self._swap_to(target)

    async def watch(self, interval_s: float) -> None:
        """Poll ``current`` forever; cancel the task to stop."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.reload()
            except Exception:
                logger.exception("checking the current model failed")

    async def _swap_to(self, target: str) -> ReloadResult:
        started = time.perf_counter()
        try:
            predictor = await asyncio.to_thread(self._load_checked, target)
        except Exception as exc:
            return self._refuse(target, exc)
        previous = self.serving
        self._predictor, self._source, self._refusal = predictor, target, None
        self._metrics.reloads.inc()
        self._metrics.serving(predictor.version, predictor.metadata.base_model)
        logger.info(
            "model loaded",
            extra={
                "model_version": predictor.version,
                "previous_version": previous,
                "load_seconds": round(time.perf_counter() - started, 3),
            },
        )
        return ReloadResult(ReloadStatus.LOADED, target, predictor.version)

    def _load_checked(self, target: str) -> PredictorProtocol:
        path = self._store.path(target)
        predictor = self._loader(path)
        check_predictor(predictor)
        probes = Probes.read(path)
        if probes is not None:
            check_probes(predictor, probes, self._probe_tolerance)
        return predictor

    def _refuse(self, target: str, exc: Exception) -> ReloadResult:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        self._refusal = _Refusal(target, reason)
        self._metrics.reload_failures.inc()
        logger.error(
            "model refused; the previous one keeps serving",
            extra={"target": target, "reason": reason, "model_version": self.serving},
        )
        return ReloadResult(ReloadStatus.REFUSED, target, self.serving, reason)


def check_predictor(predictor: PredictorProtocol) -> None:
    """A warm-up prediction that must give one finite probability per label, summing to 1."""
    labels = list(predictor.labels)
    if not labels:
        raise ArtifactError("the model has no labels")
    predictions = predictor.predict([WARM_UP_TEXT])
    if len(predictions) != 1:
        raise ArtifactError(f"warm-up gave {len(predictions)} predictions for 1 text")
    scores = predictions[0].scores
    if sorted(scores) != sorted(labels) or predictions[0].label not in labels:
        raise ArtifactError(f"warm-up scores {sorted(scores)} do not match the labels {labels}")
    values = list(scores.values())
    if not all(math.isfinite(v) for v in values) or abs(sum(values) - 1) > 1e-3:
        raise ArtifactError(f"warm-up scores are not probabilities: {values}")
