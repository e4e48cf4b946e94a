"""A real ``python -m service`` process on loopback, for the tests that need one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.process import free_port
from tests.service.fakes import wait_until

READY_TIMEOUT_S = 90


@dataclass
class LiveServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def classify(self, text: str) -> dict[str, Any]:
        response = httpx.post(self.url + "/classify", json={"text": text}, timeout=10)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def metric(self, name: str) -> float:
        for line in self.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"no metric {name}")

    def answers(self, path: str = "/ready") -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"server exited:\n{self.log.read_text()}")
        try:
            return httpx.get(self.url + path, timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def start_service(settings: dict[str, str], log: Path, ready_path: str = "/ready") -> LiveServer:
    """Start the service with these ``STANCE_*`` settings (names without the prefix)."""
    port = free_port()
    env = os.environ | {"HF_HUB_OFFLINE": "1", "STANCE_PORT": str(port)}
    env |= {f"STANCE_{name.upper()}": value for name, value in settings.items()}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    server = LiveServer(f"http://127.0.0.1:{port}", port, process, log)
    try:
        wait_until(lambda: server.answers(ready_path), timeout_s=READY_TIMEOUT_S, interval_s=0.1)
    except BaseException:
        server.stop()
        raise
    return server
