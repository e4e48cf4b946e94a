"""The service on real (tiny, random) model artifacts, in process."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.config import Settings
from service.main import create_app, model_loader
from service.metrics import Metrics
from service.model_holder import ModelHolder, ReloadResult, ReloadStatus
from stance.artifact import Serving, read_metadata, write_metadata
from stance.onnx import INT8_FILE
from stance.registry import ModelStore
from tests.artifacts import inflate_int8_scales, make_ensemble

from .fakes import point_current

pytestmark = pytest.mark.slow

ArtifactFactory = Callable[..., Path]


@pytest.fixture
def real_client(
    models_dir: Path, make_settings: Callable[..., Settings], artifact_factory: ArtifactFactory
) -> Iterator[TestClient]:
    artifact_factory(models_dir, "v1", labels=("pro", "neutral", "anti"))
    ModelStore(models_dir).set_current("v1")
    with TestClient(create_app(make_settings(max_chars=2000, max_body_bytes=50_000))) as client:
        yield client


def test_scores_are_over_the_artifact_labels(real_client: TestClient) -> None:
    scores = real_client.post("/classify", json={"text": "Kabul wants a seat."}).json()["scores"]

    assert list(scores) == ["pro", "neutral", "anti"]
    assert sum(scores.values()) == pytest.approx(1, abs=1e-5)


def test_a_text_over_the_models_max_tokens_is_truncated(real_client: TestClient) -> None:
    response = real_client.post("/classify", json={"text": "recognition " * 100})

    assert (response.status_code, response.json()["truncated"]) == (200, True)


@pytest.mark.parametrize(
    "text", ["\x00", "\u200f\u202e", "🙂" * 50, "塔利班政府", "e\u0301" * 40, "a\tb\r\nc"]
)
def test_unusual_unicode_is_classified(real_client: TestClient, text: str) -> None:
    assert real_client.post("/classify", json={"text": text}).status_code == 200


def test_a_batch_is_answered_in_order(real_client: TestClient) -> None:
    texts = ["short", "a much longer sentence about recognition and aid", "mid length text"]
    singles = [real_client.post("/classify", json={"text": t}).json() for t in texts]

    results = real_client.post("/classify/batch", json={"texts": texts}).json()["results"]

    for result, single in zip(results, singles, strict=True):
        assert result["scores"] == pytest.approx(single["scores"], abs=1e-5)


def break_metadata(version_dir: Path) -> None:
    (version_dir / "metadata.json").write_text("{not json")


def remove_weights(version_dir: Path) -> None:
    (version_dir / "model.safetensors").unlink()


def disagree_on_labels(version_dir: Path) -> None:
    config = json.loads((version_dir / "config.json").read_text())
    config["id2label"] = {"0": "a", "1": "b", "2": "c"}
    (version_dir / "config.json").write_text(json.dumps(config))


def corrupt_weights(version_dir: Path) -> None:
    (version_dir / "model.safetensors").write_bytes(b"\x00" * 64)


def remove_tokenizer(version_dir: Path) -> None:
    (version_dir / "tokenizer.json").unlink()


def corrupt_int8_graph(version_dir: Path) -> None:
    (version_dir / INT8_FILE).write_bytes(b"\x00" * 64)


BREAKAGES = [
    *(
        (precision, breakage)
        for precision in ("int8", "fp32")
        for breakage in [break_metadata, disagree_on_labels, remove_tokenizer]
    ),
    ("int8", corrupt_int8_graph),
    ("int8", inflate_int8_scales),
    ("fp32", remove_weights),
    ("fp32", corrupt_weights),
]


@pytest.mark.parametrize(("precision", "breakage"), BREAKAGES)
def test_a_broken_version_is_refused_and_the_old_one_keeps_serving(
    models_dir: Path,
    make_settings: Callable[..., Settings],
    artifact_factory: ArtifactFactory,
    precision: str,
    breakage: Callable[[Path], None],
) -> None:
    artifact_factory(models_dir, "v1")
    breakage(artifact_factory(models_dir, "v2", seed=1))
    loader = model_loader(make_settings(precision=precision))
    holder = ModelHolder(ModelStore(models_dir), loader, Metrics())

    async def swap() -> ReloadResult:
        point_current(models_dir, "v1")
        await holder.reload()
        point_current(models_dir, "v2")
        return await holder.reload()

    result = asyncio.run(swap())

    assert (result.status, result.serving) == (ReloadStatus.REFUSED, "v1")
    assert result.reason


def test_fp32_precision_serves_the_same_labels(
    models_dir: Path, make_settings: Callable[..., Settings], artifact_factory: ArtifactFactory
) -> None:
    artifact_factory(models_dir, "v1")
    ModelStore(models_dir).set_current("v1")

    with TestClient(create_app(make_settings(precision="fp32"))) as client:
        response = client.post("/classify", json={"text": "Kabul wants a seat."})

    assert response.status_code == 200
    assert list(response.json()["scores"]) == ["supportive", "cautious", "opposed", "none"]


def test_a_version_whose_int8_graph_fails_its_probes_is_not_served_at_start(
    models_dir: Path, make_settings: Callable[..., Settings], artifact_factory: ArtifactFactory
) -> None:
    inflate_int8_scales(artifact_factory(models_dir, "v1"))
    ModelStore(models_dir).set_current("v1")

    with TestClient(create_app(make_settings(precision="int8"))) as client:
        ready = client.get("/ready")
        metrics = client.get("/metrics").text

    assert ready.status_code == 503
    assert "stance_model_reload_failures_total 1.0" in metrics


def test_a_version_the_int8_gate_refused_is_served_at_fp32_and_says_why(
    models_dir: Path, make_settings: Callable[..., Settings], artifact_factory: ArtifactFactory
) -> None:
    version = artifact_factory(models_dir, "v1")
    refused = Serving(int8=False, reason="int8 test macro-F1 0.1670 vs fp32's 0.9742 ...")
    write_metadata(version, read_metadata(version).model_copy(update={"serving": refused}))
    ModelStore(models_dir).set_current("v1")

    with TestClient(create_app(make_settings(precision="int8"))) as client:
        model = client.get("/model").json()

    assert model["precision"] == "fp32"
    assert "int8 gate refused" in model["precision_reason"]
    assert refused.reason in model["precision_reason"]


def test_an_ensemble_version_is_served_with_every_label_scored(
    models_dir: Path, make_settings: Callable[..., Settings], artifact_factory: ArtifactFactory
) -> None:
    make_ensemble(models_dir / "ens", artifact_factory)
    ModelStore(models_dir).set_current("ens")
    with TestClient(create_app(make_settings())) as client:
        answer = client.post("/classify", json={"text": "Kabul wants a seat."}).json()
        model = client.get("/model").json()

    assert list(answer["scores"]) == ["supportive", "cautious", "opposed", "none"]
    assert answer["model_version"] == "ens"
    assert (model["base_model"], model["precision"]) == ("tiny + tiny", "int8")
