"""``POST /admin/retrain`` and ``GET /admin/jobs``: train a new version while serving."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from service.api.deps import AdminOnly
from service.api.errors import error_responses
from service.jobs import (
    JOBS_KEPT,
    Job,
    JobBusyError,
    JobRunner,
    TrainerMissingError,
    status_of,
)
from service.loop_schemas import JobStatus

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[AdminOnly],
    responses=error_responses(401, 403),
)


async def job_runner(request: Request) -> JobRunner:
    return cast(JobRunner, request.app.state.jobs)


JobsDep = Annotated[JobRunner, Depends(job_runner)]


def job_busy(job: Job) -> str:
    return (
        f"retrain job '{job.id}' is still {job.state}: only one runs at a time; "
        f"follow it at /admin/jobs/{job.id} and retry when it has finished"
    )


def trainer_missing(path: str) -> str:
    return (
        f"cannot retrain: {path} is not an executable stance-train; install the project "
        "(pip install -e .) or set STANCE_RETRAIN_COMMAND"
    )


def no_such_job(job_id: str) -> str:
    return (
        f"no job '{job_id}': ids come from POST /admin/retrain, and only the last "
        f"{JOBS_KEPT} jobs are kept (GET /admin/jobs lists them)"
    )


@router.post(
    "/retrain",
    summary="Train a new version from the labels in a separate process",
    status_code=202,
    responses=error_responses(409, 503),
)
async def retrain(jobs: JobsDep, response: Response) -> JobStatus:
    try:
        job = jobs.start()
    except JobBusyError as busy:
        raise HTTPException(status_code=409, detail=job_busy(busy.job)) from None
    except TrainerMissingError as missing:
        raise HTTPException(status_code=503, detail=trainer_missing(str(missing))) from None
    response.headers["Location"] = f"/admin/jobs/{job.id}"
    return status_of(job)


@router.get("/jobs", summary="The last retrain jobs, newest first (kept across restarts)")
async def list_jobs(jobs: JobsDep) -> list[JobStatus]:
    return [status_of(job) for job in jobs.jobs()]


@router.get(
    "/jobs/{job_id}",
    summary="State, progress, last log lines and outcome of a retrain job",
    responses=error_responses(404),
)
async def get_job(job_id: str, jobs: JobsDep) -> JobStatus:
    job = jobs.get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail=no_such_job(job_id))
    return status_of(job)
