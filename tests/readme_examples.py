"""Reading the README's ``console`` examples so that tests can run them against a live server.

An example is a ``$ command`` line (with ``\\`` continuations) and the output printed under
it. The outputs in the README come from the full model; a test server runs a tiny one, so
outputs are compared by shape: the same JSON keys and value types, or the same metric names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FENCE = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
IDENTIFIERS = ("id", "version", "model_version", "request_id")


@dataclass(frozen=True)
class Example:
    block: int
    command: str
    output: str

    def json_output(self) -> Any | None:
        try:
            return json.loads(self.output)
        except ValueError:
            return None


def console_blocks(readme: Path) -> list[str]:
    return FENCE.findall(readme.read_text(encoding="utf-8"))


def examples(readme: Path) -> list[Example]:
    found: list[Example] = []
    for number, block in enumerate(console_blocks(readme)):
        found.extend(_parse_block(number, block))
    return found


def _parse_block(number: int, block: str) -> list[Example]:
    parsed: list[Example] = []
    lines = block.splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].startswith("$ "):
            index += 1
            continue
        command = lines[index][2:]
        while command.endswith("\\") and index + 1 < len(lines):
            index += 1
            command = command[:-1] + " " + lines[index].strip()
        index += 1
        output: list[str] = []
        while index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        parsed.append(Example(number, command, "\n".join(output).strip()))
    return parsed


def shape(value: Any) -> Any:
    """Keys and value types, recursively; a list by the shape of its first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def identifiers(expected: Any, actual: Any) -> dict[str, str]:
    """README identifiers (job ids, versions) and the ones this run produced in their place."""
    found: dict[str, str] = {}
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            other = actual.get(key)
            if key in IDENTIFIERS and isinstance(value, str) and isinstance(other, str):
                found[value] = other
            else:
                found.update(identifiers(value, other))
    return found


def metric_names(text: str) -> set[str]:
    names = set()
    for line in text.splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names
