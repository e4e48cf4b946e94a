"""The loop on a real ``python -m service`` process: labels in, a real ``stance-train`` run,
the new version served without a restart while requests keep succeeding."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from stance.labels import labels_hash, load_examples
from stance.registry import ModelStore
from tests.live import start_service
from tests.service.fakes import ADMIN_TOKEN, wait_until

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PACE_S = 0.02
TINY_TRAINING = (
    "--recipe fast --max-steps 2 --max-length 32 --batch-size 8 --epochs 1 --threads 1 --force"
)
"""Two steps train no better than chance, and the gate re-scores current on the new test
split (6 sentences), so which one wins is a coin toss: ``--force`` promotes the new version,
which is what this module's loop needs; the gate has its own tests."""
NEW_LABELS = [
    {
        "text": "Tashkent said it would not rush to recognise the Taliban administration.",
        "label": "cautious",
        "actor": "Uzbekistan",
    },
    {
        "text": "Minsk welcomed the Taliban's envoy and called for full diplomatic relations.",
        "label": "supportive",
        "actor": "Belarus",
    },
]


@dataclass
class Server:
    url: str

    def get(self, path: str) -> dict[str, Any]:
        response = httpx.get(self.url + path, headers=AUTH, timeout=30)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def post(self, path: str, body: object = None) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers=AUTH, timeout=60)


@pytest.fixture(scope="module")
def live_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live_loop")


@pytest.fixture(scope="module")
def labels_dir(live_dir: Path, small_labels_dir: Path) -> Path:
    return Path(shutil.copytree(small_labels_dir, live_dir / "labels"))


@pytest.fixture(scope="module")
def store(live_dir: Path, artifact_factory: Callable[..., Path]) -> ModelStore:
    """Current is a tiny random model."""
    store = ModelStore(live_dir / "models")
    artifact_factory(store.root, "v0", macro_f1=0.0)
    store.set_current("v0")
    return store


@pytest.fixture(scope="module")
def server(live_dir: Path, labels_dir: Path, store: ModelStore) -> Iterator[Server]:
    """One service for the module (starting one takes seconds); the tests do not depend on
    each other's order."""
    settings = {
        "models_dir": str(store.root),
        "labels_dir": str(labels_dir),
        "incoming_labels": str(labels_dir / "incoming.jsonl"),
        "threads": "1",
        "reload_interval_s": "0",
        "admin_token": ADMIN_TOKEN,
        "retrain_args": TINY_TRAINING,
    }
    live = start_service(settings, live_dir / "server.log")
    try:
        yield Server(live.url)
    finally:
        live.stop()


class Classifier:
    """Sends /classify requests from a thread until stopped, paced so as to leave the CPU to
    the training run; remembers every answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[int, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> Classifier:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def _run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while not self._stop.is_set():
                response = client.post("/classify", json={"text": "Kabul asked for recognition."})
                version = response.json().get("model_version", "")
                self.answers.append((response.status_code, version))
                self._stop.wait(PACE_S)

    def count(self, version: str) -> int:
        return sum(answer == (200, version) for answer in self.answers)


def finished_job(server: Server, job_id: str) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        job = server.get(f"/admin/jobs/{job_id}")
        return job if job["state"] not in ("queued", "running") else None

    return wait_until(done, timeout_s=240, interval_s=0.2)


def test_labels_posted_then_retrained_are_served_without_a_restart(
    server: Server, labels_dir: Path
) -> None:
    with Classifier(server.url) as classifier:
        wait_until(lambda: classifier.count("v0") >= 5)
        labelled = server.post("/labels", {"examples": NEW_LABELS})
        started = server.post("/admin/retrain")
        job = finished_job(server, started.json()["id"])
        served = server.get("/model")
        wait_until(lambda: classifier.count(job["version"]) >= 5)

    assert labelled.json()["counts"]["added"] == 2
    assert started.status_code == 202
    assert (job["state"], job["promoted"], job["error"]) == ("succeeded", True, None), job
    assert job["progress"]["stage"] == "decided" and job["progress"]["epoch"] == 1
    assert served["version"] == job["version"] == job["serving"]
    assert served["labels_hash"] == labels_hash(load_examples(labels_dir))
    assert {status for status, _ in classifier.answers} == {200}
    assert {version for _, version in classifier.answers} == {"v0", job["version"]}


def test_50_concurrent_label_posts_lose_no_line_and_tear_none(
    server: Server, labels_dir: Path
) -> None:
    examples = [
        {
            "text": f"Envoy{i} met minister{i} in city{i} to discuss aid{i} and trade{i}.",
            "label": "cautious",
        }
        for i in range(50)
    ]

    async def post_all() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=120) as client:
            posts = (client.post("/labels", json={"examples": [e]}, headers=AUTH) for e in examples)
            return await asyncio.gather(*posts)

    before = incoming_texts(labels_dir)

    responses = asyncio.run(post_all())

    assert [r.json()["counts"]["added"] for r in responses] == [1] * 50
    after = incoming_texts(labels_dir)
    assert after[: len(before)] == before
    assert sorted(after[len(before) :]) == sorted(e["text"] for e in examples)
    load_examples(labels_dir)


def incoming_texts(labels_dir: Path) -> list[str]:
    """The texts of incoming.jsonl in file order; a torn line would fail to parse."""
    path = labels_dir / "incoming.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line)["text"] for line in lines]
