"""Running a server in a subprocess: cold start to ``/ready``, peak RSS, and a clean stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.config import REPO_ROOT

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
READY_POLL_S = 0.05
STOP_TIMEOUT_S = 15.0


class ServerError(RuntimeError):
    """A server that exited or never became ready; the message points at its log."""


@dataclass
class RunningServer:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    startup_s: float

    def peak_rss_bytes(self) -> int:
        return peak_rss_bytes(self.process.pid)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def venv_script(name: str) -> Path:
    return Path(sys.executable).with_name(name)


@contextmanager
def running_server(
    name: str,
    command: list[str],
    env: Mapping[str, str],
    port: int,
    log_path: Path,
    ready_timeout_s: float,
) -> Iterator[RunningServer]:
    """Start ``command``, which must serve ``GET /ready`` on ``port``; stop it on exit."""
    url = f"http://127.0.0.1:{port}"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env={**os.environ, **OFFLINE_ENV, **env}, stdout=log, stderr=log, cwd=REPO_ROOT
        )
        try:
            wait_ready(process, url, started + ready_timeout_s, log_path)
            yield RunningServer(name, url, process, time.perf_counter() - started)
        finally:
            stop(process)


def wait_ready(process: subprocess.Popen[bytes], url: str, deadline: float, log_path: Path) -> None:
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        while time.perf_counter() < deadline:
            if process.poll() is not None:
                raise ServerError(f"server exited with {process.returncode}; see {log_path}")
            try:
                if client.get(f"{url}/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(READY_POLL_S)
    raise ServerError(f"server not ready at {url}/ready in time; see {log_path}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def peak_rss_bytes(pid: int) -> int:
    """Peak resident set (VmHWM) of a process and its children, summed; current RSS off Linux."""
    root = psutil.Process(pid)
    return sum(process_peak_rss(p) for p in [root, *root.children(recursive=True)])


def process_peak_rss(process: psutil.Process) -> int:
    status = Path(f"/proc/{process.pid}/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return int(process.memory_info().rss)
