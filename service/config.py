"""The service's settings, all read from ``STANCE_*`` environment variables."""

from __future__ import annotations

import math
import os
import shlex
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from stance import actors
from stance.backends import Precision
from stance.probes import TOLERANCE as PROBE_TOLERANCE

CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")

RETRAIN_FLAGS_SET_BY_SERVICE = ("--labels-dir", "--models-dir", "--result-json", "--cv")

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


def cpu_quota() -> int:
    """CPUs this process may use: its cgroup CPU quota if set, else the CPUs it may run on."""
    available = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_limit()
    return max(1, min(available, math.ceil(quota))) if quota else available


def cgroup_cpu_limit() -> float | None:
    try:
        if CGROUP_V2_CPU_MAX.is_file():
            quota, period = CGROUP_V2_CPU_MAX.read_text().split()[:2]
        else:
            quota, period = CGROUP_V1_QUOTA.read_text(), CGROUP_V1_PERIOD.read_text()
        if quota.strip() in ("max", "-1"):
            return None
        return int(quota) / int(period)
    except (OSError, ValueError):
        return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STANCE_", extra="ignore")

    models_dir: Path = Field(
        default=Path("models"), description="Model store; the service serves models/current."
    )
    labels_dir: Path = Field(default=Path("labels"), description="Labelled corpus (*.jsonl).")
    incoming_labels: Path = Field(
        default=Path("labels/incoming.jsonl"), description="Where labels sent to the API go."
    )
    suggest_pool: Path = Field(
        default=Path("labels/seed_pool.txt"),
        description="Sentences (one a line) that POST /suggest ranks when it is sent no texts.",
    )
    retrain_command: Path | None = Field(
        default=None,
        description="The stance-train executable (default: the one beside this Python).",
    )
    retrain_args: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra stance-train arguments for POST /admin/retrain, e.g. '--threads 1'.",
    )
    job_log_lines: int = Field(
        default=50, ge=1, le=10_000, description="Log lines of a retrain job kept for its status."
    )
    host: str = Field(default="127.0.0.1", min_length=1, description="Interface to listen on.")
    port: int = Field(default=8000, ge=1, le=65535, description="TCP port to listen on.")
    max_chars: int = Field(default=10_000, ge=1, description="Longest text accepted (characters).")
    max_batch: int = Field(
        default=256, ge=1, description="Most texts in one /classify/batch, documents in /analyze."
    )
    max_document_chars: int = Field(
        default=100_000, ge=1, description="Longest article accepted by /analyze (characters)."
    )
    actors_file: Path | None = Field(
        default=None,
        description="The actor gazetteer /analyze matches on each sentence (default: "
        "actors.toml in the labels directory).",
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Largest request body; larger gets 413."
    )
    batch_wait_ms: float = Field(
        default=5.0, ge=0, le=1000, description="Longest a micro-batch waits to gather requests."
    )
    max_micro_batch: int = Field(default=64, ge=1, description="Most texts in one forward pass.")
    threads: int = Field(
        default_factory=cpu_quota,
        ge=1,
        description="Inference threads, torch or ONNX Runtime (default: the CPU quota).",
    )
    reload_interval_s: float = Field(
        default=5.0, ge=0, description="How often models/current is checked (0: never)."
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token for /admin routes; unset disables them."
    )
    precision: Precision = Field(
        default="int8",
        description="int8 (ONNX Runtime, the version's onnx/model.int8.onnx) or fp32 (torch).",
    )
    probe_tolerance: float = Field(
        default=PROBE_TOLERANCE,
        gt=0,
        le=1,
        description="Largest change in a probe sentence's score that a loaded graph may show "
        "against the fp32 scores stored at training time; beyond it the version is refused.",
    )
    log_level: LogLevel = Field(default="info", description="Log level of the JSON logs.")
    shutdown_timeout_s: int = Field(
        default=20, ge=1, description="How long shutdown waits for requests in flight."
    )

    @field_validator("log_level", "precision", mode="before")
    @classmethod
    def lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("retrain_args", mode="before")
    @classmethod
    def split_shell_words(cls, value: object) -> object:
        return shlex.split(value) if isinstance(value, str) else value

    @field_validator("retrain_args")
    @classmethod
    def no_flags_the_service_sets(cls, value: list[str]) -> list[str]:
        clashes = [arg for arg in value if arg.split("=")[0] in RETRAIN_FLAGS_SET_BY_SERVICE]
        if clashes:
            raise ValueError(
                f"{', '.join(clashes)} cannot be set here: the service sets the labels and "
                "models dirs and the result file, and a retrain must train a version"
            )
        return value

    @field_validator("admin_token")
    @classmethod
    def blank_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @model_validator(mode="after")
    def full_batch_fits_in_body(self) -> Self:
        needed = self.max_batch * self.max_chars
        if self.max_body_bytes < needed:
            raise ValueError(
                f"STANCE_MAX_BODY_BYTES ({self.max_body_bytes}) must be at least "
                f"STANCE_MAX_BATCH x STANCE_MAX_CHARS ({needed}) so that a full batch fits"
            )
        return self

    @property
    def actors_path(self) -> Path:
        return self.actors_file or self.labels_dir / actors.FILE_NAME


@lru_cache
def get_settings() -> Settings:
    return Settings()
