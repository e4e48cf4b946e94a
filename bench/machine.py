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

PACKAGES = ("torch", "transformers", "onnxruntime", "fastapi", "uvicorn", "aiohttp")


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


def busy_cores(sample_s: float = 1.0) -> float:
    """Cores kept busy by other processes, sampled while the bench itself is idle between
    sections (the load average would also count the bench's own previous section)."""
    import psutil

    return psutil.cpu_percent(interval=sample_s) / 100 * (psutil.cpu_count() or 1)
