"""A stand-in for ``stance-train`` that prints what it prints and writes what it writes, at once.

Arguments after the service's own: ``--outcome promote|refuse|fail``, ``--version NAME``,
``--hold PATH`` (wait until PATH exists before finishing; an outcome written in it overrides
``--outcome``), ``--lines N`` (extra log lines).
Written as an executable script by the ``fake_trainer`` fixture.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HOLD_DEADLINE_S = 60.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels-dir", type=Path, required=True)
    parser.add_argument("--models-dir", type=Path, required=True)
    parser.add_argument("--result-json", type=Path, required=True)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--outcome", default="promote")
    parser.add_argument("--version", default="v2")
    parser.add_argument("--hold", type=Path)
    parser.add_argument("--lines", type=int, default=0)
    args = parser.parse_args()
    say('training config: {"epochs": 2, "batch_size": 4, "max_steps": 3}')
    say('data: {"train": {"supportive": 4, "cautious": 4}, "dev": {}, "test": {}}')
    say("epoch 1: loss 1.0986, dev macro-F1 0.4000")
    for number in range(args.lines):
        say(f"extra line {number}")
    if args.hold is not None:
        hold(args.hold)
        args.outcome = args.hold.read_text().strip() or args.outcome
    if args.outcome == "fail":
        sys.stderr.write("error: 2 problems in the labels; fix them and retry\n")
        return 2
    say("epoch 2: loss 0.9000, dev macro-F1 0.6000")
    write_version(args.models_dir, args.version)
    say(f"version {args.version} written to {args.models_dir / args.version}")
    promoted = args.outcome == "promote"
    reason = "within tolerance" if promoted else "lower by more than the tolerance"
    if promoted:
        point_current(args.models_dir, args.version)
    say(f"{'promoted to current' if promoted else 'NOT promoted'}: {reason}")
    result = {"version": args.version, "promoted": promoted, "reason": reason}
    result["metrics"] = {"macro_f1": 0.6, "accuracy": 0.7, "per_class": {}}
    args.result_json.write_text(json.dumps(result))
    return 0


def say(line: str) -> None:
    sys.stderr.write(line + "\n")


def hold(path: Path) -> None:
    deadline = time.monotonic() + HOLD_DEADLINE_S
    try:
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted: no model version was written, current is unchanged\n")
        raise SystemExit(130) from None


def write_version(models_dir: Path, version: str) -> None:
    target = models_dir / version
    target.mkdir(parents=True)
    labels = ["supportive", "cautious", "opposed"]
    config = {"id2label": {str(i): label for i, label in enumerate(labels)}}
    (target / "config.json").write_text(json.dumps(config))
    metadata = {
        "version": version,
        "labels": labels,
        "base_model": "fake-base",
        "labels_hash": "cafe1234",
        "created_at": "2025-01-02T03:04:05+00:00",
        "max_length": 64,
        "seed": 0,
        "metrics": {"macro_f1": 0.6},
    }
    (target / "metadata.json").write_text(json.dumps(metadata))


def point_current(models_dir: Path, version: str) -> None:
    temp = models_dir / f".current-{version}"
    os.symlink(version, temp)
    os.replace(temp, models_dir / "current")


if __name__ == "__main__":
    raise SystemExit(main())
