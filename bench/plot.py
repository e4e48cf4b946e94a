"""``results.png``: throughput and latency against concurrency, service against naive."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from bench.results import NAIVE, SERVICE, Results
from bench.throughput import best

STYLE = {SERVICE: ("tab:blue", "stance service"), NAIVE: ("tab:orange", "naive pipeline endpoint")}


def write_plot(results: Results, path: Path) -> None:
    """Draw with a bare Figure (Agg canvas on save), so no pyplot backend state is touched."""
    figure = Figure(figsize=(11, 4.2))
    left, right = figure.subplots(1, 2)
    levels = sorted({r.concurrency for r in results.load})
    throughput_panel(left, results, levels)
    latency_panel(right, results, levels)
    figure.suptitle(
        f"model {results.model.version}, {results.machine.cores} cores, {results.started_at[:10]}"
    )
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def series(results: Results, target: str) -> list[tuple[int, float, float, float]]:
    rows = sorted((r for r in results.load if r.target == target), key=lambda r: r.concurrency)
    return [(r.concurrency, r.requests_per_s, r.latency.p50_ms, r.latency.p95_ms) for r in rows]


def throughput_panel(axes: Axes, results: Results, levels: Sequence[int]) -> None:
    for target, (colour, label) in STYLE.items():
        points = series(results, target)
        if points:
            axes.plot(
                [p[0] for p in points], [p[1] for p in points], "o-", color=colour, label=label
            )
    if results.throughput:
        raw = best(results.throughput, "predictor")
        axes.axhline(
            raw.sentences_per_s, color="grey", linestyle="--", label="predictor, best raw batch"
        )
    decorate(axes, "throughput (requests/s)", levels)
    axes.set_ylim(bottom=0)


def latency_panel(axes: Axes, results: Results, levels: Sequence[int]) -> None:
    for target, (colour, label) in STYLE.items():
        points = series(results, target)
        if points:
            xs = [p[0] for p in points]
            axes.plot(xs, [p[2] for p in points], "o-", color=colour, label=f"{label} p50")
            axes.plot(xs, [p[3] for p in points], "s:", color=colour, label=f"{label} p95")
    axes.set_yscale("log")
    decorate(axes, "latency (ms)", levels)


def decorate(axes: Axes, ylabel: str, levels: Sequence[int]) -> None:
    axes.set_xscale("log", base=2)
    if levels:
        axes.set_xticks(list(levels), [str(x) for x in levels])
    axes.set_xlabel("concurrent clients")
    axes.set_ylabel(ylabel)
    axes.grid(True, alpha=0.3)
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize=8)
