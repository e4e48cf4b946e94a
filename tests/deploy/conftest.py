"""The Dockerfile read as data, and its image replayed on the host (no Docker engine runs here).

Replaying a stage: every container path lives under one host directory (the container's ``/``);
ARGs take the values ``docker build --build-arg`` would give them; ENV values that are absolute
paths are moved under that directory; COPY takes the build context as ``.dockerignore`` leaves
it; RUN lines run in ``sh`` with the stage's environment. Every stage is replayed in the same
host directory (the previous stage's tree is moved aside first), so the venv the runtime stage
copies from the build stage sits at the path its scripts name, as it does in the image.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from bench.process import free_port

TINY_TRAINING = "--recipe fast --max-steps 2 --max-length 32 --epochs 1"
STEP_TIMEOUT = 900
STARTUP_TIMEOUT = 180
MEMORY_NEEDED = 4 * 2**30
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
GLOB_TOKEN = re.compile(r"(\*\*/|\*\*|\*|\?)")
ACCOUNT_COMMANDS = frozenset({"groupadd", "useradd", "addgroup", "adduser"})
PYTHON_COMMANDS = frozenset({"python", "python3", "pip", "pip3"})
HOST_SETTINGS = (
    "HOME",
    "XDG_CONFIG",
    "PIP_",
    "SSL_CERT_",
    "REQUESTS_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
)
NO_FILE_EFFECT = frozenset({"USER", "EXPOSE", "HEALTHCHECK", "CMD", "LABEL", "STOPSIGNAL"})


class ReplayError(RuntimeError):
    pass


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str
    line: int

    def words(self) -> list[str]:
        return shlex.split(self.value)

    def exec_form(self) -> list[str]:
        command = json.loads(self.value)
        assert isinstance(command, list), f"Dockerfile:{self.line}: {self.keyword} not JSON form"
        return [str(word) for word in command]

    def where(self) -> str:
        return f"Dockerfile:{self.line}: {self.keyword} {self.value}"


@dataclass(frozen=True)
class Stage:
    image: str
    name: str
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name} has no {keyword}"
        return found[-1]

    def arg_default(self, name: str) -> str:
        defaults = dict(word.partition("=")[::2] for i in self.all("ARG") for word in i.words())
        return defaults[name]

    def env(self) -> dict[str, str]:
        """ENV as written, before variable expansion."""
        return dict(word.split("=", 1) for i in self.all("ENV") for word in i.words())

    def healthcheck(self) -> list[str]:
        options, _, command = self.last("HEALTHCHECK").value.partition("CMD ")
        assert all(word.startswith("--") for word in options.split()), options
        return Instruction("HEALTHCHECK", command, self.last("HEALTHCHECK").line).exec_form()


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Instructions with continuation lines joined; comments and blank lines dropped."""
    start, parts = 0, []
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        start = start if parts else number
        parts.append(stripped.removesuffix("\\").strip())
        if not stripped.endswith("\\"):
            yield start, " ".join(parts)
            parts = []


def parse_dockerfile(text: str) -> tuple[Stage, ...]:
    stages: list[tuple[str, str, list[Instruction]]] = []
    for line, content in logical_lines(text):
        keyword, _, value = content.partition(" ")
        instruction = Instruction(keyword.upper(), value.strip(), line)
        if instruction.keyword == "FROM":
            image, *alias = instruction.words()
            name = alias[1] if len(alias) == 2 and alias[0].lower() == "as" else str(len(stages))
            stages.append((image, name, []))
        else:
            assert stages, f"{instruction.where()}: only FROM may start the Dockerfile here"
            stages[-1][2].append(instruction)
    return tuple(Stage(image, name, tuple(body)) for image, name, body in stages)


def glob_regex(pattern: str) -> re.Pattern[str]:
    translated = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    parts = GLOB_TOKEN.split(posixpath.normpath(pattern.strip("/")))
    return re.compile("".join(translated.get(part, re.escape(part)) for part in parts))


@dataclass(frozen=True)
class BuildContext:
    """The repository as ``docker build .`` sends it: ``.dockerignore`` applied."""

    root: Path
    rules: tuple[tuple[bool, re.Pattern[str]], ...]

    @classmethod
    def at(cls, root: Path) -> BuildContext:
        ignore = root / ".dockerignore"
        lines = ignore.read_text().splitlines() if ignore.exists() else []
        patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        return cls(root, tuple((p.startswith("!"), glob_regex(p.lstrip("!"))) for p in patterns))

    def excludes(self, relative: str) -> bool:
        """Docker's rule: the last pattern that matches the path or one of its parents wins."""
        parts = relative.split("/")
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        excluded = False
        for negated, rule in self.rules:
            if any(rule.fullmatch(candidate) for candidate in candidates):
                excluded = not negated
        return excluded

    @staticmethod
    def join(directory: str, name: str) -> str:
        return posixpath.normpath(posixpath.join(directory, name))

    def files(self, source: str) -> list[str]:
        """Context files at ``source`` or under it, relative to the context root."""
        top = posixpath.normpath(source.strip("/"))
        if (self.root / top).is_file():
            return [] if self.excludes(top) else [top]
        can_prune = not any(negated for negated, _ in self.rules)
        found = []
        for directory, subdirs, names in os.walk(self.root / top):
            here = Path(directory).relative_to(self.root).as_posix()
            if can_prune:
                subdirs[:] = [d for d in subdirs if not self.excludes(self.join(here, d))]
            found += [self.join(here, n) for n in names if not self.excludes(self.join(here, n))]
        return sorted(found)


def command_names(script: str) -> list[str]:
    """The command word of each simple command in a shell line (after any VAR=value)."""
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    names, expecting = [], True
    for token in lexer:
        if token in {"&&", "||", ";", "|", "&"}:
            expecting = True
        elif expecting and not re.fullmatch(r"\w+=.*", token):
            names.append(token)
            expecting = False
    return names


def relocate(value: str, root: Path) -> str:
    """Move a path, or a ``:`` list of paths and variables, under ``root``; leave other values."""
    parts = value.split(":")
    if not all(part.startswith(("/", "$")) for part in parts):
        return value
    return ":".join(f"{root}{part}" if part.startswith("/") else part for part in parts)


def link_tree(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True, copy_function=os.link, dirs_exist_ok=True)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target)


@dataclass
class StageReplay:
    root: Path
    context: BuildContext
    earlier: Mapping[str, Path]
    base_env: Mapping[str, str]
    build_args: Mapping[str, str]
    log: Path
    workdir: str = "/"
    args: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def apply(self, instruction: Instruction) -> None:
        handlers: dict[str, Callable[[Instruction], None]] = {
            "ARG": self.arg,
            "ENV": self.set_env,
            "WORKDIR": self.change_workdir,
            "COPY": self.copy,
            "RUN": self.run,
        }
        if instruction.keyword in NO_FILE_EFFECT:
            return
        if instruction.keyword not in handlers:
            raise ReplayError(f"{instruction.where()}: the replay does not support this")
        handlers[instruction.keyword](instruction)

    def variables(self) -> dict[str, str]:
        return {**self.base_env, **self.args, **self.env}

    def expand(self, value: str) -> str:
        variables = self.variables()
        return VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), ""), value)

    def host(self, container_path: str) -> Path:
        absolute = posixpath.normpath(posixpath.join(self.workdir, container_path))
        return self.root / absolute.lstrip("/")

    def arg(self, instruction: Instruction) -> None:
        for word in instruction.words():
            name, has_default, default = word.partition("=")
            if name in self.build_args:
                self.args[name] = self.build_args[name]
            elif has_default:
                self.args[name] = self.expand(default)

    def set_env(self, instruction: Instruction) -> None:
        for word in instruction.words():
            name, _, value = word.partition("=")
            self.env[name] = self.expand(relocate(value, self.root))

    def change_workdir(self, instruction: Instruction) -> None:
        self.workdir = posixpath.normpath(
            posixpath.join(self.workdir, self.expand(instruction.value))
        )
        self.host(self.workdir).mkdir(parents=True, exist_ok=True)

    def copy(self, instruction: Instruction) -> None:
        words = [self.expand(word) for word in instruction.words()]
        flags = dict(w[2:].partition("=")[::2] for w in words if w.startswith("--"))
        *sources, destination = [w for w in words if not w.startswith("--")]
        into_directory = destination.endswith("/") or len(sources) > 1
        for source in sources:
            if "from" in flags:
                self.copy_from_stage(instruction, self.earlier[flags["from"]], source, destination)
            else:
                self.copy_from_context(instruction, source, destination, into_directory)

    def copy_from_context(
        self, instruction: Instruction, source: str, destination: str, into_directory: bool
    ) -> None:
        files = self.context.files(source)
        if not files:
            raise ReplayError(f"{instruction.where()}: {source} is not in the build context")
        top = posixpath.normpath(source.strip("/"))
        source_is_dir = (self.context.root / top).is_dir()
        for relative in files:
            if source_is_dir:
                target = self.host(destination) / posixpath.relpath(relative, top)
            elif into_directory:
                target = self.host(destination) / posixpath.basename(relative)
            else:
                target = self.host(destination)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.context.root / relative, target)

    def copy_from_stage(
        self, instruction: Instruction, stage_root: Path, source: str, destination: str
    ) -> None:
        origin, target = stage_root / source.lstrip("/"), self.host(destination)
        if not origin.exists():
            raise ReplayError(f"{instruction.where()}: {source} was not built")
        if origin.is_file() and destination.endswith("/"):
            target = target / origin.name
        link_tree(origin, target)

    def run(self, instruction: Instruction) -> None:
        commands = command_names(instruction.value)
        if all(name in ACCOUNT_COMMANDS for name in commands):
            return
        unsafe = [n for n in commands if n not in PYTHON_COMMANDS and not n.startswith("stance-")]
        if unsafe:
            raise ReplayError(
                f"{instruction.where()}: the replay will not run {unsafe} on the host"
            )
        literal = [word for word in instruction.words() if word.startswith("/")]
        if literal:
            raise ReplayError(f"{instruction.where()}: name {literal[0]} through an ENV variable")
        with self.log.open("a") as out:
            out.write(f"\n### {instruction.where()}\n")
            out.flush()
            result = subprocess.run(
                ["/bin/sh", "-c", instruction.value],
                cwd=self.host(self.workdir),
                env=self.variables(),
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=STEP_TIMEOUT,
                check=False,
            )
        if result.returncode:
            tail = "\n".join(self.log.read_text().splitlines()[-40:])
            raise ReplayError(
                f"{instruction.where()}: exit {result.returncode} (log: {self.log})\n{tail}"
            )


@dataclass(frozen=True)
class ReplayedImage:
    stage: Stage
    root: Path
    workdir: Path
    env: dict[str, str]

    def command(self, words: list[str], **env: str) -> list[str]:
        """``words`` with the first one resolved on the image's PATH."""
        found = shutil.which(words[0], path={**self.env, **env}["PATH"])
        assert found, f"{words[0]} is not on the image's PATH"
        return [found, *words[1:]]


def replay_image(
    stages: tuple[Stage, ...],
    context: BuildContext,
    root: Path,
    build_args: Mapping[str, str],
    base_env: Mapping[str, str],
    log: Path,
) -> ReplayedImage:
    earlier: dict[str, Path] = {}
    for previous, stage in zip((None, *stages), stages, strict=False):
        if previous is not None:
            earlier[previous.name] = root.rename(root.with_name(f"{root.name}.{previous.name}"))
        root.mkdir()
        replay = StageReplay(root, context, earlier, base_env, build_args, log)
        for instruction in stage.instructions:
            replay.apply(instruction)
    return ReplayedImage(stages[-1], root, replay.host(replay.workdir), replay.variables())


def base_image_env(scratch: Path) -> dict[str, str]:
    """The base image's Python as ``python`` on PATH, and how this machine reaches the package
    registries: PIP_* and proxy variables, and HOME, under which pip's user config lives."""
    bin_dir = scratch / "base-bin"
    bin_dir.mkdir()
    python = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(python)
    settings = {k: v for k, v in os.environ.items() if k.upper().startswith(HOST_SETTINGS)}
    return {**settings, "PATH": f"{bin_dir}:/usr/bin:/bin", "LANG": "C.UTF-8"}


def torch_wheel_on_disk(version: str, index_url: str) -> str | None:
    """The local CPU wheel pip would pick for ``torch==version`` with this index, if any."""
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--ignore-installed"]
        + ["--quiet", "--report", "-", "--index-url", index_url, f"torch=={version}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        return None
    [chosen] = json.loads(result.stdout)["install"]
    url = str(chosen["download_info"]["url"])
    return url if url.startswith("file:") and "+cpu" in chosen["metadata"]["version"] else None


@dataclass(frozen=True)
class Server:
    url: str
    env: dict[str, str]


def wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        try:
            process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
    pytest.fail(f"no healthy server within {STARTUP_TIMEOUT} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def dockerfile_stages(repo_root: Path) -> tuple[Stage, ...]:
    return parse_dockerfile((repo_root / "Dockerfile").read_text())


@pytest.fixture(scope="session")
def build_context(repo_root: Path) -> BuildContext:
    return BuildContext.at(repo_root)


def memory_backed_dir() -> str | None:
    """tmpfs, when it has room: deleting a venv's files from a disk mounted with ``discard``
    takes minutes, longer than building them."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and shutil.disk_usage(shm).free > MEMORY_NEEDED else None


@pytest.fixture(scope="session")
def replayed_image(
    dockerfile_stages: tuple[Stage, ...],
    build_context: BuildContext,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ReplayedImage]:
    """The image built from the Dockerfile's own steps, with a tiny training run."""
    log = tmp_path_factory.mktemp("docker") / "build.log"
    with tempfile.TemporaryDirectory(prefix="stance-image-", dir=memory_backed_dir()) as name:
        scratch = Path(name)
        empty_index = scratch / "empty-index"
        empty_index.mkdir()
        build_args = {"TORCH_INDEX_URL": empty_index.as_uri(), "TRAIN_ARGS": TINY_TRAINING}
        version = dockerfile_stages[0].arg_default("TORCH_VERSION")
        if torch_wheel_on_disk(version, build_args["TORCH_INDEX_URL"]) is None:
            pytest.skip(f"no CPU wheel of torch=={version} in pip's find-links on this machine")
        env = base_image_env(scratch)
        root = scratch / "rootfs"
        try:
            image = replay_image(dockerfile_stages, build_context, root, build_args, env, log)
        except ReplayError as exc:
            raise pytest.fail.Exception(str(exc), pytrace=False) from None
        yield image


@pytest.fixture(scope="session")
def served_image(
    replayed_image: ReplayedImage, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The image's CMD running, as ``docker run -e STANCE_HOST=127.0.0.1 -e STANCE_PORT=…``."""
    port = free_port()
    env = {**replayed_image.env, "STANCE_HOST": "127.0.0.1", "STANCE_PORT": str(port)}
    command = replayed_image.command(replayed_image.stage.last("CMD").exec_form())
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=replayed_image.workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(process, url, log)
        yield Server(url, env)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
