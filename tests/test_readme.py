"""Every ``console`` example in the README, run in order against a live server.

The README's outputs come from the full model; this server runs the session's tiny trained
model, so outputs are compared by shape, and identifiers (versions, job ids) that the README
shows are replaced by the ones this run produced before the next command uses them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live import LiveServer, start_service
from tests.readme_examples import Example, examples, identifiers, metric_names, shape

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLES = examples(README)
TOKEN = "readme-token"
TINY_TRAINING = "--recipe pair --max-steps 2 --max-length 32 --batch-size 8 --epochs 1 --threads 1"
"""The README's retrain trains the default recipe, the pair; so does this one, a few steps of it,
so that the job it reports has the same shape (members in its progress)."""
FINISHED = ("succeeded", "refused", "failed")
JOB_TIMEOUT_S = 300
WITH_STATUS = re.compile(r"^(?P<body>.*) (?P<status>\d{3})$", re.DOTALL)
SINGLE_TOKEN = re.compile(r"^\S+$")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, trained_store: Any) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("readme")
    models = Path(shutil.copytree(trained_store.models_dir, root / "models", symlinks=True))
    labels = Path(shutil.copytree(trained_store.labels_dir, root / "labels"))
    pool = root / "pool.txt"
    pool.write_text(
        "Officials in Dushanbe said the border talks touched on trade and water.\n"
        "The envoy said his government expected a seat at the next summit.\n"
        "Observers said the decision could prompt other capitals to follow.\n"
    )
    server = start_service(
        {
            "models_dir": str(models),
            "labels_dir": str(labels),
            "incoming_labels": str(labels / "incoming.jsonl"),
            "suggest_pool": str(pool),
            "admin_token": TOKEN,
            "retrain_args": TINY_TRAINING,
            "reload_interval_s": "0",
            "threads": "1",
        },
        root / "server.log",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def seen() -> dict[str, str]:
    """README identifiers mapped to this run's, filled in as the examples run."""
    return {}


def test_readme_has_console_examples() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.block}:{e.command[:50]}" for e in EXAMPLES])
def test_readme_example_gives_what_the_readme_shows(
    example: Example, server: LiveServer, seen: dict[str, str]
) -> None:
    command = localise(example.command, server, seen)
    actual = run(command)
    expected_json = parse(example.output)
    if isinstance(expected_json, dict) and expected_json.get("state") in FINISHED:
        actual = wait_for_job(command, actual)
    compare(example.output, actual, seen)


def localise(command: str, server: LiveServer, seen: dict[str, str]) -> str:
    for readme_value, value in seen.items():
        command = command.replace(readme_value, value)
    return command.replace("localhost:8000", f"127.0.0.1:{server.port}")


def run(command: str) -> str:
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": _path(), "STANCE_ADMIN_TOKEN": TOKEN},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _path() -> str:
    return f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def wait_for_job(command: str, actual: str) -> str:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while json.loads(actual).get("state") not in FINISHED:
        assert time.monotonic() < deadline, f"job still not finished: {actual}"
        time.sleep(0.5)
        actual = run(command)
    return actual


def parse(text: str) -> Any | None:
    try:
        return json.loads(text)
    except ValueError:
        return None


def compare(expected: str, actual: str, seen: dict[str, str]) -> None:
    expected_status = WITH_STATUS.match(expected)
    if expected_status and parse(expected_status["body"]) is not None:
        actual_status = WITH_STATUS.match(actual)
        assert actual_status, actual
        assert actual_status["status"] == expected_status["status"], actual
        expected, actual = expected_status["body"], actual_status["body"]
    expected_json = parse(expected)
    if expected_json is not None:
        actual_json = parse(actual)
        assert shape(actual_json) == shape(expected_json), actual
        seen.update(identifiers(expected_json, actual_json))
    elif SINGLE_TOKEN.match(expected):
        assert SINGLE_TOKEN.match(actual), actual
        seen[expected] = actual
    else:
        assert metric_names(expected) <= metric_names(actual), actual


def test_readme_lists_every_setting() -> None:
    from service.config import Settings
    from training.config import PipelineSettings

    text = README.read_text(encoding="utf-8")
    names = {*Settings.model_fields, *PipelineSettings.model_fields}
    assert [n for n in sorted(names) if f"`STANCE_{n.upper()}`" not in text] == []
