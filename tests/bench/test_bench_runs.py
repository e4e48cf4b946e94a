"""The bench runs end to end on a tiny model: every section, both servers, both outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench.cli import main
from stance.registry import ModelStore


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor:UserWarning")
def test_quick_bench_writes_report_and_plot(
    artifact_factory, repo_root: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    artifact_factory(models, "tiny", macro_f1=0.4)
    ModelStore(models).set_current("tiny")
    labels = tmp_path / "labels"
    labels.mkdir()
    shutil.copy(repo_root / "labels" / "seeds.jsonl", labels)
    results, out = tmp_path / "results.md", tmp_path / "out"

    exit_code = main(
        [
            "--quick",
            "--models-dir",
            str(models),
            "--labels-dir",
            str(labels),
            "--out",
            str(out),
            "--results",
            str(results),
        ]
    )

    raw = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert (exit_code, raw["failures"]) == (0, {})
    assert {(r["target"], r["concurrency"]) for r in raw["load"]} == {
        ("service", 1),
        ("service", 4),
        ("naive", 1),
        ("naive", 4),
    }
    assert (raw["lone"]["target"], raw["lone"]["requests"], raw["lone"]["errors"]) == (
        "service",
        8,
        0,
    )
    assert (raw["peak"]["target"], raw["peak"]["concurrency"], raw["peak"]["errors"]) == (
        "service",
        4,
        0,
    )
    assert "## Targets" in results.read_text(encoding="utf-8")
    assert results.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_a_model_beside_is_timed_in_the_same_run(
    artifact_factory, repo_root: Path, tmp_path: Path
) -> None:
    stores = {}
    for name in ("measured", "beside"):
        stores[name] = tmp_path / name
        artifact_factory(stores[name], name, macro_f1=0.4)
        ModelStore(stores[name]).set_current(name)
    labels = tmp_path / "labels"
    labels.mkdir()
    shutil.copy(repo_root / "labels" / "seeds.jsonl", labels)
    results, out = tmp_path / "results.md", tmp_path / "out"
    argv = ["--quick", "--models-dir", str(stores["measured"]), "--beside", str(stores["beside"])]
    argv += ["--labels-dir", str(labels), "--out", str(out), "--results", str(results)]

    exit_code = main([*argv, "--sections", "model", "beside"])

    raw = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert (exit_code, raw["failures"]) == (0, {})
    assert raw["beside"]["version"] == "beside"
    assert [row["batch_size"] for row in raw["beside"]["rows"]] == [1, 8]
    assert "### Beside: `beside`" in results.read_text(encoding="utf-8")
