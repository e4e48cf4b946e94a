"""Retrain jobs kept on disk: listed again after a restart, whatever state they were cut off in."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from service.jobs import CUT_OFF, HISTORY_DIR, Job, JobHistory, JobState

from .conftest import AUTH
from .test_api_retrain import finished_job, start


def running_job(job_id: str) -> Job:
    return Job(job_id, deque(["epoch 1: loss 1.0, dev macro-F1 0.5"]), JobState.RUNNING)


def test_a_finished_job_is_listed_after_a_restart(
    make_client: Callable[..., TestClient],
) -> None:
    before = make_client()
    job = finished_job(before, start(before)["id"])
    before.__exit__(None, None, None)

    after = make_client()

    assert after.get(f"/admin/jobs/{job['id']}", headers=AUTH).json() == job
    assert after.get("/admin/jobs", headers=AUTH).json() == [job]


def test_a_job_cut_off_by_a_hard_stop_comes_back_failed(tmp_path: Path) -> None:
    JobHistory(tmp_path, log_lines=10).save(running_job("abc"))

    [job] = JobHistory(tmp_path, log_lines=10).load()

    assert (job.id, job.state, job.error) == ("abc", JobState.FAILED, CUT_OFF)
    assert list(job.log) == ["epoch 1: loss 1.0, dev macro-F1 0.5"]


def test_an_unreadable_record_is_skipped(tmp_path: Path) -> None:
    history = JobHistory(tmp_path, log_lines=10)
    history.save(running_job("good"))
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")

    assert [job.id for job in history.load()] == ["good"]


def test_records_of_forgotten_jobs_are_deleted(tmp_path: Path) -> None:
    history = JobHistory(tmp_path, log_lines=10)
    for job_id in ("a", "b", "c"):
        history.save(running_job(job_id))

    history.retain(["b", "c"])

    assert sorted(path.name for path in tmp_path.iterdir()) == ["b.json", "c.json"]


def test_records_live_in_the_model_store_but_are_not_a_version(
    make_client: Callable[..., TestClient], models_dir: Path
) -> None:
    client = make_client()
    job = finished_job(client, start(client)["id"])

    versions = client.get("/admin/versions", headers=AUTH).json()

    assert (models_dir / HISTORY_DIR / f"{job['id']}.json").is_file()
    assert [v["version"] for v in versions] == ["v1", "v2"]
