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
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.process import free_port
from service.cli import READY as READY_LINE
from stance.onnx import INT8_FILE
from stance.predictor import Predictor
from stance.registry import ModelStore
from stance.sentences import split_sentences
from tests.live import LiveServer, start_service

from .fakes import ADMIN_TOKEN, wait_until

pytestmark = pytest.mark.slow

ArtifactFactory = Callable[..., Path]
TEXTS = [
    f"Statement {i}: the delegation {'met officials in Kabul and ' * (i % 7)}discussed aid."
    for i in range(200)
]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    servers: list[LiveServer] = []

    def start(models_dir: Path, ready_path: str = "/ready", **settings: str) -> LiveServer:
        defaults = {
            "models_dir": str(models_dir),
            "threads": "1",
            "reload_interval_s": "0.1",
            "admin_token": ADMIN_TOKEN,
        }
        log = tmp_path / f"server-{len(servers)}.log"
        servers.append(start_service(defaults | settings, log, ready_path))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


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
    lines = server.log.read_text().splitlines()
    entries = [json.loads(line) for line in lines if not line.startswith(READY_LINE)]
    assert any(e.get("route") == "/classify" and e.get("request_id") for e in entries)
    assert entries[-2]["message"] == "Application shutdown complete."


def test_a_seed_article_is_analysed_sentence_by_sentence_over_http(
    store: ModelStore, start_server: Callable[..., LiveServer], repo_root: Path
) -> None:
    article = sorted((repo_root / "seeds").glob("*.txt"))[0].read_text(encoding="utf-8")
    actors = str(repo_root / "labels" / "actors.toml")
    server = start_server(store.root, actors_file=actors)
    sentences = split_sentences(article)
    expected = Predictor.load(store.root / "v1", precision="int8").predict(
        [s.text for s in sentences]
    )

    response = httpx.post(server.url + "/analyze", json={"text": article}, timeout=60)

    body = response.json()
    assert response.status_code == 200, response.text
    assert [(s["start"], s["end"]) for s in body["sentences"]] == [
        (s.start, s.end) for s in sentences
    ]
    assert all(
        same_prediction(got, {"label": want.label, "scores": want.scores})
        for got, want in zip(body["sentences"], expected, strict=True)
    )
    assert sum(body["summary"]["counts"].values()) == len(sentences)


NO_STANCE_EXAMPLES = [
    "The weather in Kabul was cold and dry on Tuesday.",
    "Apple reported record quarterly revenue driven by iPhone sales.",
    "Pakistan and India exchanged fire along the Line of Control.",
    "Russia recognised the independence of Abkhazia in 2008.",
    "The Taliban banned girls from attending secondary school.",
]


def test_the_none_issue_examples_get_every_label_s_score_over_http(
    store: ModelStore, start_server: Callable[..., LiveServer]
) -> None:
    """The tiny model's labels are random, so only the shape is checked; the trained default's
    answers (all none) are in README.md and training/README.md."""
    server = start_server(store.root)

    answers = [server.classify(text) for text in NO_STANCE_EXAMPLES]

    assert all(set(a["scores"]) == {"supportive", "cautious", "opposed", "none"} for a in answers)
    assert all(a["label"] == max(a["scores"], key=a["scores"].get) for a in answers)


def test_stance_serve_flags_win_over_the_environment_and_it_prints_its_address(
    store: ModelStore, tmp_path: Path
) -> None:
    port, log = free_port(), tmp_path / "serve.log"
    env = os.environ | {"STANCE_PORT": "1", "STANCE_MODELS_DIR": str(tmp_path / "elsewhere")}
    command = [sys.executable, "-m", "service", "--port", str(port), "--models-dir"]
    with log.open("wb") as out:
        process = subprocess.Popen([*command, str(store.root)], env=env, stdout=out, stderr=out)
    server = LiveServer(f"http://127.0.0.1:{port}", port, process, log)
    try:
        wait_until(lambda: READY_LINE in log.read_text(), timeout_s=90, interval_s=0.1)

        assert f"{READY_LINE} http://127.0.0.1:{port}/" in log.read_text().splitlines()
        assert server.get("/model").json()["version"] == "v1"
    finally:
        server.stop()
