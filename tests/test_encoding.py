"""The serving tokenizer (tokenizers, from tokenizer.json) gives what transformers would."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from stance.artifact import ArtifactError
from stance.encoding import TextEncoder

TEXTS = [
    "Russia recognised the Taliban government.",
    'Qatar\'s envoy, speaking in Doha, said talks would continue — "slowly".',
    "short",
    "The UN urged caution about recognition. " * 10,
]
MAX_LENGTH = 24


@pytest.fixture(scope="module")
def base_copy(base_model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("tokenizer")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(base_model_path / name, target / name)
    return target


def test_inputs_equal_the_transformers_tokenizer(base_copy: Path, base_model_path: Path) -> None:
    from transformers import AutoTokenizer

    expected = AutoTokenizer.from_pretrained(base_model_path)(
        TEXTS, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="np"
    )
    features = TextEncoder.load(base_copy, MAX_LENGTH)(TEXTS).features
    for name in ("input_ids", "attention_mask", "token_type_ids"):
        np.testing.assert_array_equal(features[name], expected[name])


def test_only_texts_over_max_length_are_flagged_truncated(base_copy: Path) -> None:
    assert TextEncoder.load(base_copy, MAX_LENGTH)(TEXTS).truncated == [False, False, False, True]


def test_a_version_without_tokenizer_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="cannot load tokenizer.json"):
        TextEncoder.load(tmp_path, MAX_LENGTH)
