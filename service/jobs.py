"""Retraining jobs: ``stance-train`` in a child process, followed line by line.

The service never imports the training code; it runs the installed ``stance-train`` with the
service's labels and models dirs and reads what it prints (progress) and the result file it
writes (version, promotion decision). Training promotes by moving ``models/current``; when it
does, the holder reloads at once, so the new version is served without waiting for the poller.
One job runs at a time. Each job's status is also kept on disk, in ``<models_dir>/.jobs/``,
so that the list survives a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import signal
import sys
import tempfile
import uuid
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI

from service.config import Settings
from service.loop_schemas import JobStatus
from service.model_holder import ModelHolder
from stance.files import write_atomically

JOBS_KEPT = 20
HISTORY_DIR = ".jobs"
CUT_OFF = "the service stopped before the job finished"
STOP_GRACE_S = 15.0
READ_CHUNK = 65536
CHILD_ENV_DEFAULTS = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
_LINE_BREAK = re.compile(rb"[\r\n]")
_EPOCH_LINE = re.compile(r"epoch (\d+): loss (\S+), dev macro-F1 (\S+)")
_VERSION_LINE = re.compile(r"version (\S+) written to ")
_MEMBER_LINE = re.compile(r"member (\d+) of (\d+): (\S+)$")

logger = logging.getLogger(__name__)

Stage = Literal["training", "refitting", "saved", "decided"]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"


class JobBusyError(RuntimeError):
    def __init__(self, job: Job) -> None:
        super().__init__(job.id)
        self.job = job


class TrainerMissingError(RuntimeError):
    """The ``stance-train`` executable is not where the settings say."""


@dataclass
class Progress:
    """What ``stance-train`` has said so far; steps are known at epoch ends only."""

    stage: Stage = "training"
    epoch: int | None = None
    max_epochs: int | None = None
    steps: int | None = None
    total_steps: int | None = None
    loss: float | None = None
    dev_macro_f1: float | None = None
    member: str | None = None
    member_number: int | None = None
    members: int | None = None
    steps_per_epoch: int | None = field(default=None, repr=False)
    config: dict[str, Any] = field(default_factory=dict, repr=False)

    def next_model(self, config: dict[str, Any]) -> Progress:
        """The progress of the next model a run trains: an ensemble's next member."""
        return Progress(
            config=config,
            member=self.member,
            member_number=self.member_number,
            members=self.members,
        )


@dataclass
class Job:
    id: str
    log: deque[str]
    state: JobState = JobState.QUEUED
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    progress: Progress | None = None
    version: str | None = None
    promoted: bool | None = None
    reason: str | None = None
    test_metrics: dict[str, float] = field(default_factory=dict)
    serving: str | None = None
    error: str | None = None

    @property
    def finished(self) -> bool:
        return self.state not in (JobState.QUEUED, JobState.RUNNING)

    def record(self, line: str) -> None:
        self.log.append(line)
        self.progress = read_progress(line, self.progress)
        found = _VERSION_LINE.match(line)
        if found:
            self.version = found.group(1)

    def finish(self, state: JobState, error: str | None = None) -> None:
        self.state, self.error = state, error
        self.finished_at = datetime.now(UTC)


def read_progress(line: str, progress: Progress | None) -> Progress | None:
    """Fold one line of ``stance-train`` output into the progress so far."""
    head, _, rest = line.partition(": ")
    if found := _MEMBER_LINE.match(line):
        progress = progress or Progress()
        progress.member_number, progress.members = int(found.group(1)), int(found.group(2))
        progress.member = found.group(3)
        return progress
    if head == "training config":
        return (progress or Progress()).next_model(_json_object(rest))
    if progress is None:
        return None
    if head == "data":
        _plan_steps(progress, _json_object(rest))
    elif found := _EPOCH_LINE.match(line):
        _end_epoch(progress, int(found.group(1)), found.group(2), found.group(3))
    elif line.startswith("refit: "):
        progress.stage = "refitting"
    elif _VERSION_LINE.match(line):
        progress.stage = "saved"
    elif line.startswith(("promoted to current: ", "NOT promoted: ")):
        progress.stage = "decided"
    return progress


def _plan_steps(progress: Progress, data: dict[str, Any]) -> None:
    config, train = progress.config, data.get("train")
    counts = list(train.values()) if isinstance(train, dict) else []
    batch_size, epochs = config.get("batch_size"), config.get("epochs")
    if not all(isinstance(n, int) for n in [*counts, batch_size, epochs]) or not sum(counts):
        return
    train_size = sum(counts)
    per_epoch = math.ceil(train_size / batch_size)
    total = per_epoch * epochs
    if isinstance(config.get("max_steps"), int) and config["max_steps"] > 0:
        total = min(total, config["max_steps"])
    progress.steps_per_epoch, progress.total_steps = per_epoch, total
    progress.max_epochs = math.ceil(total / per_epoch)
    progress.steps = 0


def _end_epoch(progress: Progress, epoch: int, loss: str, dev_f1: str) -> None:
    progress.epoch, progress.loss, progress.dev_macro_f1 = epoch, _number(loss), _number(dev_f1)
    if progress.steps_per_epoch and progress.total_steps:
        progress.steps = min(epoch * progress.steps_per_epoch, progress.total_steps)


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _number(text: str) -> float | None:
    try:
        value = float(text.rstrip(","))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def status_of(job: Job) -> JobStatus:
    return JobStatus.model_validate(job, from_attributes=True)


def job_from_status(status: JobStatus, log_lines: int) -> Job:
    """The job a saved status describes; one saved while queued or running was cut off by a
    hard stop of the service, and is failed."""
    progress = Progress(**status.progress.model_dump()) if status.progress else None
    job = Job(
        id=status.id,
        log=deque(status.log, maxlen=log_lines),
        state=JobState(status.state),
        created_at=status.created_at,
        started_at=status.started_at,
        finished_at=status.finished_at,
        exit_code=status.exit_code,
        progress=progress,
        version=status.version,
        promoted=status.promoted,
        reason=status.reason,
        test_metrics=status.test_metrics,
        serving=status.serving,
        error=status.error,
    )
    if not job.finished:
        job.finish(JobState.FAILED, CUT_OFF)
    return job


class JobHistory:
    """Jobs as JSON files, one per job, each written atomically.

    Disk trouble is logged, never raised: a job's record is worth less than the job."""

    def __init__(self, directory: Path, log_lines: int) -> None:
        self.directory = directory
        self.log_lines = log_lines

    def save(self, job: Job) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            write_atomically(self._path(job.id), self._document(job))
        except OSError as exc:
            logger.warning("cannot record retrain job: %s", exc, extra={"job_id": job.id})

    def load(self) -> list[Job]:
        """The saved jobs, oldest first; unreadable files are skipped."""
        jobs = []
        for path in self._files():
            try:
                status = JobStatus.model_validate_json(path.read_bytes())
            except (OSError, ValueError) as exc:
                logger.warning("skipping unreadable job record %s: %s", path, exc)
                continue
            jobs.append(job_from_status(status, self.log_lines))
        return sorted(jobs, key=lambda job: job.created_at)

    def retain(self, job_ids: Iterable[str]) -> None:
        """Delete the records of every job not in ``job_ids``."""
        kept = {self._path(job_id) for job_id in job_ids}
        try:
            for path in self._files():
                if path not in kept:
                    path.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("cannot prune retrain job records: %s", exc)

    def _path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}.json"

    def _document(self, job: Job) -> bytes:
        return status_of(job).model_dump_json(indent=2).encode("utf-8")

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("*.json")) if self.directory.is_dir() else []


class JobRunner:
    def __init__(self, settings: Settings, holder: ModelHolder) -> None:
        self._settings = settings
        self._holder = holder
        self._history = JobHistory(settings.models_dir / HISTORY_DIR, settings.job_log_lines)
        self._jobs: OrderedDict[str, Job] = OrderedDict(
            (job.id, job) for job in self._history.load()[-JOBS_KEPT:]
        )
        self._active: Job | None = None
        self._task: asyncio.Task[None] | None = None
        self._process: asyncio.subprocess.Process | None = None

    @property
    def trainer(self) -> Path:
        return self._settings.retrain_command or Path(sys.executable).parent / "stance-train"

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def jobs(self) -> list[Job]:
        return list(reversed(self._jobs.values()))

    def start(self) -> Job:
        """Queue a new job; JobBusyError while one is unfinished."""
        if self._active is not None and not self._active.finished:
            raise JobBusyError(self._active)
        if not os.access(self.trainer, os.X_OK):
            raise TrainerMissingError(str(self.trainer))
        job = Job(uuid.uuid4().hex[:12], deque(maxlen=self._settings.job_log_lines))
        self._remember(job)
        self._history.save(job)
        self._active = job
        self._task = asyncio.create_task(self._run(job), name=f"stance-retrain-{job.id}")
        return job

    async def stop(self) -> None:
        """Interrupt a running ``stance-train`` (it then leaves no version) and wait for it."""
        if self._task is None or self._task.done():
            return
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_GRACE_S)
        except TimeoutError:
            if self._process is not None and self._process.returncode is None:
                self._process.kill()
            await asyncio.gather(self._task, return_exceptions=True)

    def _remember(self, job: Job) -> None:
        self._jobs[job.id] = job
        finished = [j.id for j in self._jobs.values() if j.finished]
        for old in finished[: max(0, len(self._jobs) - JOBS_KEPT)]:
            del self._jobs[old]
        self._history.retain(self._jobs)

    def command(self, result_json: Path) -> list[str]:
        settings = self._settings
        return [
            str(self.trainer),
            "--labels-dir",
            str(settings.labels_dir.resolve()),
            "--models-dir",
            str(settings.models_dir.resolve()),
            "--result-json",
            str(result_json),
            "--no-progress",
            *settings.retrain_args,
        ]

    async def _run(self, job: Job) -> None:
        try:
            with tempfile.TemporaryDirectory(prefix="stance-retrain-") as scratch:
                result_json = Path(scratch) / "result.json"
                exit_code = await self._train(job, self.command(result_json))
                if exit_code is not None:
                    await self._conclude(job, exit_code, result_json)
        except Exception as exc:
            logger.exception("retrain job failed", extra={"job_id": job.id})
            if self._process is not None and self._process.returncode is None:
                self._process.kill()
            job.finish(JobState.FAILED, f"the job runner failed: {exc}")
        finally:
            self._process = None
            self._history.save(job)
            logger.info(
                "retrain job finished",
                extra={"job_id": job.id, "state": job.state, "version": job.version},
            )

    async def _train(self, job: Job, command: list[str]) -> int | None:
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                env=child_environment(),
                preexec_fn=interruptible,
            )
        except OSError as exc:
            job.finish(JobState.FAILED, f"cannot start {command[0]}: {exc.strerror or exc}")
            return None
        self._process = process
        job.state, job.started_at = JobState.RUNNING, datetime.now(UTC)
        logger.info("retrain job started", extra={"job_id": job.id, "command": command})
        assert process.stdout is not None
        async for line in output_lines(process.stdout):
            job.record(line)
            logger.info("stance-train: %s", line, extra={"job_id": job.id})
        job.exit_code = await process.wait()
        return job.exit_code

    async def _conclude(self, job: Job, exit_code: int, result_json: Path) -> None:
        if exit_code != 0:
            last = job.log[-1] if job.log else "no output"
            job.finish(JobState.FAILED, f"stance-train exited with code {exit_code}: {last}")
            return
        try:
            result = json.loads(result_json.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            job.finish(JobState.FAILED, f"stance-train wrote no readable result: {exc}")
            return
        job.version = result.get("version", job.version)
        job.promoted, job.reason = bool(result.get("promoted")), result.get("reason")
        job.test_metrics = scalar_metrics(result.get("metrics"))
        if not job.promoted:
            job.serving = self._holder.serving
            job.finish(JobState.REFUSED)
            return
        await self._serve_new_version(job)

    async def _serve_new_version(self, job: Job) -> None:
        reload = await self._holder.reload(retry_refused=True)
        job.serving = self._holder.serving
        if job.serving == job.version:
            job.finish(JobState.SUCCEEDED)
            return
        why = reload.reason or f"current points at {reload.target}"
        job.finish(
            JobState.FAILED,
            f"version {job.version} was promoted but the service did not load it ({why}); "
            f"{job.serving or 'no model'} keeps serving",
        )


async def output_lines(stream: asyncio.StreamReader) -> AsyncIterator[str]:
    """Lines as they come, split at newlines and at carriage returns (progress bars)."""
    pending = b""
    while chunk := await stream.read(READ_CHUNK):
        *lines, pending = _LINE_BREAK.split(pending + chunk)
        for raw in lines:
            if line := raw.decode("utf-8", errors="replace").strip():
                yield line
    if line := pending.decode("utf-8", errors="replace").strip():
        yield line


def scalar_metrics(metrics: object) -> dict[str, float]:
    if not isinstance(metrics, dict):
        return {}
    return {
        name: float(value)
        for name, value in metrics.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    }


def child_environment() -> dict[str, str]:
    """The service's environment, offline for the model hub unless told otherwise; unbuffered
    so that every line is read as soon as it is printed."""
    return CHILD_ENV_DEFAULTS | dict(os.environ) | {"PYTHONUNBUFFERED": "1"}


@asynccontextmanager
async def retrain_jobs(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The app's job runner (``app.state.jobs``); a running job is interrupted at shutdown."""
    runner = JobRunner(settings, app.state.holder)
    app.state.jobs = runner
    try:
        yield
    finally:
        await runner.stop()


def interruptible() -> None:
    """Let the child see SIGINT even when this service inherited it ignored (a background job
    of a shell does), so that stopping the service interrupts ``stance-train`` cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
