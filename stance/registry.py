"""The model store: ``models/<version>/`` directories and the ``models/current`` pointer.

Versions are written into a hidden staging directory and renamed into place when complete;
``current`` is a relative symlink swapped with an atomic rename. A reader therefore never
sees a half-written version nor a missing ``current``.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stance.artifact import ArtifactError, ModelMetadata, read_metadata

CURRENT = "current"
STAGING_PREFIX = ".staging-"


@dataclass(frozen=True)
class VersionInfo:
    version: str
    path: Path
    metadata: ModelMetadata | None
    error: str | None
    is_current: bool


class ModelStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def current_link(self) -> Path:
        return self.root / CURRENT

    def current_version(self) -> str | None:
        """The version ``current`` points at, or None when there is none yet."""
        link = self.current_link
        if not link.is_symlink() and not link.exists():
            return None
        target = os.readlink(link) if link.is_symlink() else link.resolve().name
        return Path(target).name

    def current_path(self) -> Path | None:
        version = self.current_version()
        return self.root / version if version else None

    def path(self, version: str) -> Path:
        if not version or "/" in version or version.startswith(".") or version == CURRENT:
            raise ArtifactError(f"'{version}' is not a version name")
        return self.root / version

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
        )

    def describe(self) -> list[VersionInfo]:
        current = self.current_version()
        infos = []
        for version in self.versions():
            path = self.root / version
            try:
                metadata, error = read_metadata(path), None
            except ArtifactError as exc:
                metadata, error = None, str(exc)
            infos.append(VersionInfo(version, path, metadata, error, version == current))
        return infos

    def metadata(self, version: str) -> ModelMetadata:
        path = self.path(version)
        if not path.is_dir():
            raise ArtifactError(f"no version '{version}' in {self.root}")
        return read_metadata(path)

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A scratch directory for a new version; removed unless committed with :meth:`commit`."""
        self.root.mkdir(parents=True, exist_ok=True)
        scratch = self.root / f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}"
        scratch.mkdir()
        try:
            yield scratch
        finally:
            if scratch.exists():
                shutil.rmtree(scratch, ignore_errors=True)

    def commit(self, scratch: Path, version: str) -> Path:
        """Move a finished staging directory to its version name (one rename)."""
        read_metadata(scratch)
        final = self.path(version)
        if final.exists():
            raise ArtifactError(f"version '{version}' already exists")
        os.replace(scratch, final)
        return final

    def set_current(self, version: str) -> None:
        """Point ``current`` at an existing, readable version, atomically."""
        self.metadata(version)
        temp = self.root / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
        os.symlink(version, temp)
        os.replace(temp, self.current_link)
