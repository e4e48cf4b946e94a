"""What the run happened on, including how busy the shared machine was."""

from __future__ import annotations

import os
import platform
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import psutil
import torch

PACKAGES = ("torch", "transformers", "onnxruntime", "fastapi", "uvicorn", "httpx")


@dataclass(frozen=True)
class Machine:
    cpu: str
    cores: int
    memory_gb: float
    system: str
    python: str
    torch_threads: int
    packages: dict[str, str]


def describe_machine() -> Machine:
    return Machine(
        cpu=cpu_model(),
        cores=os.cpu_count() or 1,
        memory_gb=psutil.virtual_memory().total / 1e9,
        system=platform.platform(),
        python=sys.version.split()[0],
        torch_threads=torch.get_num_threads(),
        packages={name: package_version(name) for name in PACKAGES},
    )


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> float:
    """The 1-minute load average: above ~0.2 at a section's start means someone else was busy."""
    return os.getloadavg()[0]
