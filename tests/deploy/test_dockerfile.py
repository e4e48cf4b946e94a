"""The Dockerfile: linted, checked as data, and its own steps replayed into a serving "image"."""

from __future__ import annotations

import re
import subprocess
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from stance.artifact import read_metadata
from stance.registry import ModelStore

if TYPE_CHECKING:
    from conftest import BuildContext, ReplayedImage, Server, Stage

PINNED_SLIM_PYTHON = re.compile(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?")
PROJECT_INSTALL = re.compile(r"pip install .* \"?\.(\[(?P<extras>[\w,]+)\])?\"?$")


def test_hadolint_reports_nothing(repo_root: Path) -> None:
    hadolint = Path(sysconfig.get_path("scripts")) / "hadolint"
    result = subprocess.run(
        [str(hadolint), "--no-color", "Dockerfile"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_both_stages_start_from_one_pinned_slim_python(
    dockerfile_stages: tuple[Stage, ...],
) -> None:
    images = {stage.image for stage in dockerfile_stages}
    assert len(dockerfile_stages) >= 2
    assert len(images) == 1, "the venv copied between stages needs the same Python"
    assert PINNED_SLIM_PYTHON.fullmatch(images.pop())


def test_cpu_torch_is_pinned_and_installed_before_the_project(
    dockerfile_stages: tuple[Stage, ...],
) -> None:
    build = dockerfile_stages[0]
    runs = [run.value for run in build.all("RUN")]
    torch_step = next(i for i, run in enumerate(runs) if "torch==" in run)
    project_step = next(i for i, run in enumerate(runs) if PROJECT_INSTALL.search(run))
    assert torch_step < project_step
    assert '--index-url "$TORCH_INDEX_URL" "torch==$TORCH_VERSION"' in runs[torch_step]
    assert build.arg_default("TORCH_INDEX_URL").endswith("/whl/cpu")
    assert re.fullmatch(r"\d+\.\d+\.\d+", build.arg_default("TORCH_VERSION"))


def test_the_project_is_installed_with_the_default_recipes_base_model(
    dockerfile_stages: tuple[Stage, ...],
) -> None:
    runs = [run.value for run in dockerfile_stages[0].all("RUN")]
    found = next(PROJECT_INSTALL.search(run) for run in runs if PROJECT_INSTALL.search(run))
    assert "mpnet" in (found["extras"] or "").split(",")


def test_runtime_runs_as_a_non_root_user(dockerfile_stages: tuple[Stage, ...]) -> None:
    user = dockerfile_stages[-1].last("USER").value.split(":")[0]
    assert user not in {"root", "0"}


def test_runtime_serves_stance_on_all_interfaces(dockerfile_stages: tuple[Stage, ...]) -> None:
    runtime = dockerfile_stages[-1]
    env = runtime.env()
    assert runtime.last("CMD").exec_form() == ["stance-serve"]
    assert env["STANCE_HOST"] == "0.0.0.0"
    assert runtime.last("EXPOSE").value == env["STANCE_PORT"]


def test_models_and_labels_live_at_fixed_mount_points(dockerfile_stages: tuple[Stage, ...]) -> None:
    runtime = dockerfile_stages[-1]
    workdir = runtime.last("WORKDIR").value
    env = runtime.env()
    assert env["STANCE_MODELS_DIR"] == f"{workdir}/models"
    assert env["STANCE_LABELS_DIR"] == f"{workdir}/labels"
    assert Path(env["STANCE_INCOMING_LABELS"]).parent == Path(env["STANCE_LABELS_DIR"])


def test_build_context_leaves_out_local_state(build_context: BuildContext) -> None:
    for local in (".venv/bin/python", "models/current", ".git/HEAD", "stance/__pycache__/x.pyc"):
        assert build_context.excludes(local), local
    for needed in ("pyproject.toml", "labels/seeds.jsonl", "stance/labels.py"):
        assert not build_context.excludes(needed), needed


@pytest.mark.slow
def test_runtime_image_holds_only_venv_models_and_labels(replayed_image: ReplayedImage) -> None:
    assert sorted(p.name for p in replayed_image.workdir.iterdir()) == ["labels", "models"]
    assert (replayed_image.root / replayed_image.env["VIRTUAL_ENV"]).is_dir()


@pytest.mark.slow
def test_image_answers_health(served_image: Server) -> None:
    assert httpx.get(f"{served_image.url}/health").status_code == 200


@pytest.mark.slow
def test_image_is_ready_with_its_trained_model(
    served_image: Server, replayed_image: ReplayedImage
) -> None:
    current = ModelStore(Path(replayed_image.env["STANCE_MODELS_DIR"])).current_version()
    response = httpx.get(f"{served_image.url}/ready")
    assert response.status_code == 200
    assert response.json()["model_version"] == current


@pytest.mark.slow
def test_image_classifies_with_a_label_of_its_model(
    served_image: Server, replayed_image: ReplayedImage
) -> None:
    store = ModelStore(Path(replayed_image.env["STANCE_MODELS_DIR"]))
    labels = read_metadata(store.current_path()).labels
    response = httpx.post(
        f"{served_image.url}/classify",
        json={"text": "Russia became the first country to recognise the Taliban government."},
    )
    assert response.status_code == 200
    assert response.json()["label"] in labels


@pytest.mark.slow
def test_image_serves_the_page_and_its_scripts_from_the_installed_package(
    served_image: Server,
) -> None:
    page = httpx.get(f"{served_image.url}/")
    script = httpx.get(f"{served_image.url}/static/app.js")

    assert page.status_code == script.status_code == 200
    assert "Classify and read" in page.text


@pytest.mark.slow
def test_healthcheck_passes_on_the_running_image(
    served_image: Server, replayed_image: ReplayedImage
) -> None:
    command = replayed_image.command(replayed_image.stage.healthcheck())
    result = subprocess.run(command, env=served_image.env, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_healthcheck_fails_when_nothing_answers(
    replayed_image: ReplayedImage, unused_port: int
) -> None:
    env = {**replayed_image.env, "STANCE_PORT": str(unused_port)}
    command = replayed_image.command(replayed_image.stage.healthcheck())
    assert subprocess.run(command, env=env, capture_output=True, check=False).returncode != 0
