"""The int8 precision (ONNX Runtime): same answers as fp32 on a tiny model, saved or exported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stance.artifact import ArtifactError
from stance.encoding import TextEncoder
from stance.onnx import INT8_FILE, OnnxBackend, Scheme, excluded_nodes, export_fp32, write_int8
from stance.predictor import Predictor

TEXTS = ["Russia recognised the Taliban government.", "short", "The UN urged caution. " * 4]


@pytest.fixture(scope="module")
def tiny_version(artifact_factory, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return artifact_factory(tmp_path_factory.mktemp("int8"), "tiny")


@pytest.mark.slow
def test_saved_int8_scores_match_fp32(tiny_version: Path) -> None:
    int8 = Predictor.load(tiny_version, precision="int8")
    fp32 = Predictor.load(tiny_version)
    np.testing.assert_allclose(
        int8.probabilities(TEXTS)[0], fp32.probabilities(TEXTS)[0], atol=0.02
    )


@pytest.mark.slow
def test_int8_flags_truncation_like_fp32(tiny_version: Path) -> None:
    long_text = "Russia recognised the Taliban government. " * 20
    [int8] = Predictor.load(tiny_version, precision="int8").predict([long_text])
    [fp32] = Predictor.load(tiny_version).predict([long_text])
    assert int8.truncated is fp32.truncated is True


@pytest.mark.slow
def test_a_version_without_a_saved_graph_is_exported_at_load(artifact_factory, tmp_path) -> None:
    version = artifact_factory(tmp_path, "no-onnx", int8=False)
    int8 = Predictor.load(version, precision="int8")
    assert not (version / INT8_FILE).exists()
    np.testing.assert_allclose(
        int8.probabilities(TEXTS)[0], Predictor.load(version).probabilities(TEXTS)[0], atol=0.02
    )


def test_a_corrupt_int8_graph_is_refused(artifact_factory, tmp_path: Path) -> None:
    version = artifact_factory(tmp_path, "corrupt")
    (version / INT8_FILE).write_bytes(b"not an onnx graph")
    with pytest.raises(ArtifactError, match="cannot load ONNX model"):
        Predictor.load(version, precision="int8")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scheme", "kept_fp32"), [("all", 0), ("ffn_down_fp32", 1), ("ffn_fp32", 2)]
)
def test_a_scheme_keeps_the_feed_forward_matmuls_of_each_layer_fp32(
    tiny_version: Path, tmp_path: Path, scheme: Scheme, kept_fp32: int
) -> None:
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_version)
    graph = export_fp32(model, tiny_version, tmp_path / "model.onnx")

    excluded = excluded_nodes(graph, scheme, model.config.intermediate_size)

    assert len(excluded) == kept_fp32 * model.config.num_hidden_layers


@pytest.mark.slow
def test_a_graph_with_fp32_feed_forward_still_matches_fp32(
    tiny_version: Path, tmp_path: Path
) -> None:
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_version)
    write_int8(model, tiny_version, tmp_path, scheme="ffn_fp32")
    backend = OnnxBackend(tmp_path / INT8_FILE)
    fp32 = Predictor.load(tiny_version)
    int8 = Predictor.single(backend, fp32.encoder, fp32.metadata, "int8")

    np.testing.assert_allclose(
        int8.probabilities(TEXTS)[0], fp32.probabilities(TEXTS)[0], atol=0.02
    )


@pytest.mark.slow
def test_an_mpnet_graph_round_trips_through_int8(base_model_path: Path, tmp_path: Path) -> None:
    """The mpnet architecture (relative position bias, no token types) exports and quantises
    with its feed-forward MatMuls fp32, and agrees with torch; a tiny random one, since the
    real weights are an optional 420 MB extra."""
    import torch
    from transformers import AutoTokenizer, MPNetConfig, MPNetForSequenceClassification

    tokenizer = AutoTokenizer.from_pretrained(base_model_path)
    torch.manual_seed(0)
    config = MPNetConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=40,
        num_labels=4,
    )
    model = MPNetForSequenceClassification(config).eval()
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)

    backend = OnnxBackend(write_int8(model, tmp_path, tmp_path / "out", scheme="ffn_fp32"))
    features = TextEncoder.load(tmp_path, 32)(TEXTS).features
    with torch.inference_mode():
        inputs = {k: torch.from_numpy(features[k]) for k in ("input_ids", "attention_mask")}
        expected = model(**inputs).logits.numpy()

    np.testing.assert_allclose(backend(features), expected, atol=0.05)
    assert (backend(features).argmax(axis=1) == expected.argmax(axis=1)).all()
