"""Wall time of the default training (``stance-train``) into a scratch model store.

Standalone: ``python -m bench.train_time [--labels-dir labels] [--out bench/out]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.config import BENCH_DIR, REPO_ROOT
from bench.process import OFFLINE_ENV, venv_script


@dataclass(frozen=True)
class TrainResult:
    seconds: float
    exit_code: int
    macro_f1: float | None
    log: str


def train_command(labels_dir: Path, models_dir: Path, result_json: Path) -> list[str]:
    return [
        str(venv_script("stance-train")),
        "--labels-dir",
        str(labels_dir),
        "--models-dir",
        str(models_dir),
        "--result-json",
        str(result_json),
        "--no-progress",
    ]


def time_training(labels_dir: Path, out_dir: Path) -> TrainResult:
    work = out_dir / "train"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    result_json, log_path = work / "result.json", work / "train.log"
    command = train_command(
        labels_dir.resolve(), (work / "models").resolve(), result_json.resolve()
    )
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        exit_code = subprocess.call(
            command, stdout=log, stderr=log, cwd=REPO_ROOT, env=training_env()
        )
        seconds = time.perf_counter() - start
    return TrainResult(seconds, exit_code, test_macro_f1(result_json), str(log_path))


def training_env() -> dict[str, str]:
    return {**os.environ, **OFFLINE_ENV}


def test_macro_f1(result_json: Path) -> float | None:
    try:
        payload = json.loads(result_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = find_key(payload, "macro_f1")
    return float(value) if isinstance(value, int | float) else None


def find_key(payload: object, key: str) -> object:
    """The first value under ``key`` in a nested JSON document, depth first."""
    if isinstance(payload, dict):
        if key in payload:
            return payload[key]
        payload = list(payload.values())
    if isinstance(payload, list):
        for item in payload:
            found = find_key(item, key)
            if found is not None:
                return found
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--labels-dir", type=Path, default=REPO_ROOT / "labels")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "out")
    args = parser.parse_args(argv)
    result = time_training(args.labels_dir, args.out)
    sys.stdout.write(json.dumps(asdict(result), indent=2) + "\n")
    return result.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
