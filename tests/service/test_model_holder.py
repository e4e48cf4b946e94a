"""The model holder: which version it serves, and what it refuses."""

from __future__ import annotations

import asyncio
from pathlib import Path

from service.metrics import Metrics
from service.model_holder import ModelHolder, ReloadResult, ReloadStatus
from stance.registry import ModelStore

from .fakes import FakeLoader, point_current


def reload_all(holder: ModelHolder, *retry_refused: bool) -> list[ReloadResult]:
    async def run() -> list[ReloadResult]:
        return [await holder.reload(retry_refused=retry) for retry in retry_refused]

    return asyncio.run(run())


def new_holder(models_dir: Path, loader: FakeLoader) -> tuple[ModelHolder, Metrics]:
    metrics = Metrics()
    return ModelHolder(ModelStore(models_dir), loader, metrics), metrics


def test_loads_the_current_version(models_dir: Path, loader: FakeLoader) -> None:
    point_current(models_dir, "v1")
    holder, _ = new_holder(models_dir, loader)

    [result] = reload_all(holder, False)

    assert result == ReloadResult(ReloadStatus.LOADED, "v1", "v1")
    assert holder.predictor is loader.loaded["v1"]


def test_does_not_reload_the_version_it_serves(models_dir: Path, loader: FakeLoader) -> None:
    point_current(models_dir, "v1")
    holder, _ = new_holder(models_dir, loader)

    results = reload_all(holder, False, True)

    assert results[1].status is ReloadStatus.UNCHANGED


def test_without_current_nothing_is_loaded(models_dir: Path, loader: FakeLoader) -> None:
    holder, _ = new_holder(models_dir, loader)

    [result] = reload_all(holder, False)

    assert result.status is ReloadStatus.MISSING
    assert holder.predictor is None


def test_a_broken_version_is_refused_and_the_old_one_kept(
    models_dir: Path, loader: FakeLoader
) -> None:
    point_current(models_dir, "v1")
    holder, metrics = new_holder(models_dir, loader)
    reload_all(holder, False)
    loader.broken.add("v2")
    point_current(models_dir, "v2")

    [result] = reload_all(holder, False)

    assert result == ReloadResult(ReloadStatus.REFUSED, "v2", "v1", "v2 is broken on purpose")
    assert holder.serving == "v1"
    assert metrics.registry.get_sample_value("stance_model_reload_failures_total") == 1


def test_the_poller_does_not_retry_a_refused_version(models_dir: Path, loader: FakeLoader) -> None:
    loader.broken.add("v2")
    point_current(models_dir, "v2")
    holder, metrics = new_holder(models_dir, loader)

    results = reload_all(holder, False, False)

    assert [r.status for r in results] == [ReloadStatus.REFUSED, ReloadStatus.REFUSED]
    assert metrics.registry.get_sample_value("stance_model_reload_failures_total") == 1


def test_an_explicit_reload_retries_a_refused_version(models_dir: Path, loader: FakeLoader) -> None:
    loader.broken.add("v2")
    point_current(models_dir, "v2")
    holder, _ = new_holder(models_dir, loader)
    reload_all(holder, False)
    loader.broken.clear()

    [result] = reload_all(holder, True)

    assert result.status is ReloadStatus.LOADED


def test_a_version_name_outside_the_store_is_refused(models_dir: Path, loader: FakeLoader) -> None:
    (models_dir / "current").symlink_to("..")
    holder, _ = new_holder(models_dir, loader)

    [result] = reload_all(holder, False)

    assert result.status is ReloadStatus.REFUSED
    assert loader.loaded == {}
