"""A real ``python -m service`` process on loopback, serving tiny random models from disk."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from stance.onnx import INT8_FILE
from stance.predictor import Predictor
from stance.registry import ModelStore
from tests.live import free_port

from .fakes import ADMIN_TOKEN, wait_until

pytestmark = pytest.mark.slow

ArtifactFactory = Callable[..., Path]
TEXTS = [
    f"Statement {i}: the delegation {'met officials in Kabul and ' * (i % 7)}discussed aid."
    for i in range(200)
]


@dataclass
class LiveServer:
    url: str
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

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(models_dir: Path, ready_path: str = "/ready", **settings: str) -> LiveServer:
        port = free_port()
        env = os.environ | {
            "STANCE_MODELS_DIR": str(models_dir),
            "STANCE_PORT": str(port),
            "STANCE_THREADS": "1",
            "STANCE_RELOAD_INTERVAL_S": "0.1",
            "STANCE_ADMIN_TOKEN": ADMIN_TOKEN,
            "HF_HUB_OFFLINE": "1",
        }
        env |= {f"STANCE_{name.upper()}": value for name, value in settings.items()}
        log = tmp_path / f"server-{port}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "service"], env=env, stdout=out, stderr=subprocess.STDOUT
            )
        server = LiveServer(f"http://127.0.0.1:{port}", process, log)
        servers.append(server)
        wait_until(lambda: _answers(server, ready_path), timeout_s=90, interval_s=0.1)
        return server

    yield start
    for server in servers:
        server.stop()


def _answers(server: LiveServer, path: str) -> bool:
    if server.process.poll() is not None:
        raise AssertionError(f"server exited:\n{server.log.read_text()}")
    try:
        return server.get(path).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def store(tmp_path: Path, artifact_factory: ArtifactFactory) -> ModelStore:
    """A model store whose current version is a tiny random model 'v1'."""
    store = ModelStore(tmp_path / "models")
    artifact_factory(store.root, "v1", seed=1)
    store.set_current("v1")
    return store


def same_prediction(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal up to float noise; the label may differ only on a near-tie."""
    close = all(abs(a["scores"][k] - b["scores"][k]) < 1e-5 for k in a["scores"])
    tie = abs(a["scores"][a["label"]] - a["scores"][b["label"]]) < 1e-5
    return close and (a["label"] == b["label"] or tie)


async def classify_concurrently(url: str, texts: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(texts))
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        return await asyncio.gather(*(client.post("/classify", json={"text": t}) for t in texts))


def test_200_concurrent_requests_all_succeed_and_match_sequential_ones(
    store: ModelStore, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(store.root)
    predictor = Predictor.load(store.root / "v1", precision="int8")
    sequential = [predictor.predict([text])[0] for text in TEXTS]

    responses = asyncio.run(classify_concurrently(server.url, TEXTS))

    assert [r.status_code for r in responses] == [200] * len(TEXTS)
    assert all(
        same_prediction(r.json(), {"label": s.label, "scores": s.scores})
        for r, s in zip(responses, sequential, strict=True)
    )
    assert server.metric("stance_micro_batch_size_count") < len(TEXTS)


def test_requests_keep_succeeding_across_a_hot_reload(
    store: ModelStore, start_server: Callable[..., LiveServer], artifact_factory: ArtifactFactory
) -> None:
    server = start_server(store.root)
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    def keep_classifying() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                response = client.post("/classify", json={"text": "Kabul asked for recognition."})
                answers.append((response.status_code, response.json().get("model_version", "")))

    workers = [threading.Thread(target=keep_classifying) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        wait_until(lambda: len(answers) >= 20)
        artifact_factory(store.root, "v2", seed=2)
        store.set_current("v2")
        wait_until(lambda: server.get("/model").json()["version"] == "v2")
        wait_until(lambda: sum(version == "v2" for _, version in answers) >= 20)
    finally:
        stop.set()
        for worker in workers:
            worker.join(timeout=30)

    assert {status for status, _ in answers} == {200}
    assert {version for _, version in answers} == {"v1", "v2"}


def test_a_broken_model_is_refused_and_the_old_one_keeps_serving(
    store: ModelStore, start_server: Callable[..., LiveServer], artifact_factory: ArtifactFactory
) -> None:
    server = start_server(store.root)
    broken = artifact_factory(store.root, "v2", seed=2)
    (broken / INT8_FILE).write_bytes(b"not an onnx graph")

    store.set_current("v2")

    wait_until(lambda: server.metric("stance_model_reload_failures_total") == 1)
    assert server.get("/model").json()["version"] == "v1"
    assert server.classify("Still serving?")["model_version"] == "v1"


def test_without_a_model_the_service_starts_and_says_how_to_train(
    tmp_path: Path, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(tmp_path / "empty", ready_path="/health")

    ready = server.get("/ready")
    classify = httpx.post(server.url + "/classify", json={"text": "a"}, timeout=10)

    assert ready.status_code == classify.status_code == 503
    assert "run `make train`" in classify.json()["detail"]


def test_sigterm_stops_the_server_cleanly_and_logs_are_json(
    store: ModelStore, start_server: Callable[..., LiveServer]
) -> None:
    server = start_server(store.root)
    server.classify("one request to log")

    assert server.stop() in (0, -signal.SIGTERM)
    entries = [json.loads(line) for line in server.log.read_text().splitlines()]
    assert any(e.get("route") == "/classify" and e.get("request_id") for e in entries)
    assert entries[-2]["message"] == "Application shutdown complete."
