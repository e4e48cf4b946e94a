"""Texts to model inputs with the version's own tokenizer, in one pass.

The ``tokenizers`` library reads the ``tokenizer.json`` that ``save_pretrained`` writes, so
serving needs neither transformers nor torch. With truncation on, each encoding keeps what was
cut off in ``overflowing``: the same pass that builds the inputs tells which texts were truncated.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from stance.artifact import ArtifactError

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
DEFAULT_PAD_TOKEN = "[PAD]"


@dataclass(frozen=True)
class Encoded:
    """Padded int64 arrays by input name (``input_ids``, ``attention_mask``, ``token_type_ids``)."""

    features: dict[str, np.ndarray]
    truncated: list[bool]


class TextEncoder:
    def __init__(self, tokenizer: Tokenizer, max_length: int, pad_token: str) -> None:
        pad_id = tokenizer.token_to_id(pad_token)
        if pad_id is None:
            raise ArtifactError(f"the tokenizer has no pad token '{pad_token}'")
        self.tokenizer = tokenizer
        tokenizer.enable_truncation(max_length)
        tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)

    @classmethod
    def load(cls, directory: Path, max_length: int) -> TextEncoder:
        """The version's tokenizer; ArtifactError if its files are missing or unreadable."""
        directory = Path(directory)
        try:
            tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises plain Exception for unreadable files
            raise ArtifactError(f"{directory}: cannot load {TOKENIZER_FILE}: {exc}") from exc
        return cls(tokenizer, max_length, pad_token(directory))

    def __call__(self, texts: Sequence[str]) -> Encoded:
        encodings = self.tokenizer.encode_batch(list(texts))
        features = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        return Encoded(features, [bool(e.overflowing) for e in encodings])


def pad_token(directory: Path) -> str:
    path = Path(directory) / TOKENIZER_CONFIG_FILE
    try:
        token = json.loads(path.read_text(encoding="utf-8")).get("pad_token")
    except (OSError, ValueError):
        return DEFAULT_PAD_TOKEN
    if isinstance(token, dict):
        token = token.get("content")
    return token if isinstance(token, str) and token else DEFAULT_PAD_TOKEN
