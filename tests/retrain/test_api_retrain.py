"""POST /admin/retrain and GET /admin/jobs with a fake stance-train: states, progress, the
one-at-a-time rule, and what gets served after each outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from service.jobs import JobRunner
from tests.service.fakes import wait_until

from .conftest import AUTH

FINISHED = {"succeeded", "failed", "refused"}


def start(client: TestClient) -> dict[str, Any]:
    response = client.post("/admin/retrain", headers=AUTH)
    assert response.status_code == 202, response.text
    return dict(response.json())


def job_of(client: TestClient, job_id: str) -> dict[str, Any]:
    return dict(client.get(f"/admin/jobs/{job_id}", headers=AUTH).json())


def finished_job(client: TestClient, job_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        job = job_of(client, job_id)
        return job if job["state"] in FINISHED else None

    return wait_until(done, timeout_s=30)


def test_retrain_answers_202_with_the_job_and_where_to_follow_it(client: TestClient) -> None:
    response = client.post("/admin/retrain", headers=AUTH)

    job = response.json()
    assert response.status_code == 202
    assert response.headers["location"] == f"/admin/jobs/{job['id']}"
    assert job["state"] in ("queued", "running")
    finished_job(client, job["id"])


def test_a_promoted_job_is_served_at_once(client: TestClient) -> None:
    job = finished_job(client, start(client)["id"])

    assert job["state"] == "succeeded"
    assert (job["version"], job["promoted"], job["reason"]) == ("v2", True, "within tolerance")
    assert (job["serving"], job["exit_code"], job["error"]) == ("v2", 0, None)
    assert job["test_metrics"] == {"macro_f1": 0.6, "accuracy": 0.7}
    assert client.get("/model").json()["version"] == "v2"
    assert client.post("/classify", json={"text": "a"}).json()["model_version"] == "v2"


def test_the_job_reports_progress_and_the_last_log_lines(client: TestClient) -> None:
    job = finished_job(client, start(client)["id"])

    assert job["progress"] == {
        "stage": "decided",
        "epoch": 2,
        "max_epochs": 2,
        "steps": 3,
        "total_steps": 3,
        "loss": 0.9,
        "dev_macro_f1": 0.6,
        "member": None,
        "member_number": None,
        "members": None,
    }
    assert job["log"][-1] == "promoted to current: within tolerance"


def test_the_log_keeps_the_configured_number_of_lines(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(job_log_lines=3, retrain_args=["--lines", "20"])

    job = finished_job(client, start(client)["id"])

    assert job["log"] == [
        "epoch 2: loss 0.9000, dev macro-F1 0.6000",
        f"version v2 written to {client.app.state.settings.models_dir / 'v2'}",
        "promoted to current: within tolerance",
    ]


def test_a_job_refused_by_the_gate_changes_nothing_served(
    make_client: Callable[..., TestClient], models_dir: Path
) -> None:
    client = make_client(retrain_args="--outcome refuse")

    job = finished_job(client, start(client)["id"])

    assert (job["state"], job["promoted"]) == ("refused", False)
    assert job["reason"] == "lower by more than the tolerance"
    assert job["serving"] == "v1"
    assert client.get("/model").json()["version"] == "v1"
    assert (models_dir / "current").readlink() == Path("v1")


def test_a_failed_job_says_why_and_changes_nothing(make_client: Callable[..., TestClient]) -> None:
    client = make_client(retrain_args="--outcome fail")

    job = finished_job(client, start(client)["id"])

    assert (job["state"], job["exit_code"], job["version"]) == ("failed", 2, None)
    assert job["error"] == (
        "stance-train exited with code 2: error: 2 problems in the labels; fix them and retry"
    )
    assert client.get("/model").json()["version"] == "v1"


def test_a_second_retrain_while_one_runs_is_a_409(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    release = tmp_path / "release"
    client = make_client(retrain_args=["--hold", str(release)])
    first = start(client)["id"]
    wait_until(lambda: job_of(client, first)["state"] == "running")

    second = client.post("/admin/retrain", headers=AUTH)

    release.touch()
    assert (second.status_code, second.json()["detail"]) == (
        409,
        f"retrain job '{first}' is still running: only one runs at a time; "
        f"follow it at /admin/jobs/{first} and retry when it has finished",
    )
    assert finished_job(client, first)["state"] == "succeeded"


def test_a_new_retrain_may_start_once_the_last_finished(client: TestClient) -> None:
    finished_job(client, start(client)["id"])

    assert client.post("/admin/retrain", headers=AUTH).status_code == 202


def test_jobs_are_listed_newest_first(client: TestClient) -> None:
    first = finished_job(client, start(client)["id"])
    second = start(client)

    listed = client.get("/admin/jobs", headers=AUTH).json()

    assert [job["id"] for job in listed] == [second["id"], first["id"]]


def test_an_unknown_job_is_a_404(client: TestClient) -> None:
    response = client.get("/admin/jobs/nope", headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        404,
        "no job 'nope': ids come from POST /admin/retrain, and only the last 20 jobs are "
        "kept (GET /admin/jobs lists them)",
    )


def test_retrain_without_stance_train_is_a_503(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = make_client(retrain_command=tmp_path / "missing")

    response = client.post("/admin/retrain", headers=AUTH)

    assert (response.status_code, response.json()["detail"]) == (
        503,
        f"cannot retrain: {tmp_path / 'missing'} is not an executable stance-train; install the "
        "project (pip install -e .) or set STANCE_RETRAIN_COMMAND",
    )


def test_retrain_needs_the_admin_token(client: TestClient) -> None:
    assert client.post("/admin/retrain").status_code == 401
    assert client.get("/admin/jobs/x").status_code == 401


def test_stopping_the_service_interrupts_a_running_job(
    make_client: Callable[..., TestClient], tmp_path: Path, models_dir: Path
) -> None:
    client = make_client(retrain_args=["--hold", str(tmp_path / "never")])
    job_id = start(client)["id"]
    runner: JobRunner = client.app.state.jobs
    wait_until(lambda: "epoch 1: loss 1.0986, dev macro-F1 0.4000" in job_of(client, job_id)["log"])

    client.__exit__(None, None, None)

    job = runner.get(job_id)
    assert job is not None and (job.state, job.exit_code) == ("failed", 130)
    assert job.error == (
        "stance-train exited with code 130: "
        "interrupted: no model version was written, current is unchanged"
    )
    assert (models_dir / "current").readlink() == Path("v1")
