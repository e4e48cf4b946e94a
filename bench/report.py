"""``results.md``: the run's figures as tables, the targets first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from bench.load import LoadResult
from bench.precision import F1_TOLERANCE, Variant
from bench.results import NAIVE, SERVICE, Results
from bench.targets import MB, check_targets
from bench.throughput import best

BUSY_LOAD = 0.3
BUSY_NOTE = (
    "other people's training and test runs shared the cores during this run, so absolute "
    "figures are low and noisy. Ratios suffer too: a path with many busy threads (the naive "
    "endpoint's thread pool runs up to 40 forward passes at once) takes a larger share of a "
    "contended CPU from the other processes than one inference thread does, and two-thread "
    "torch kernels stall whenever one of their threads is descheduled"
)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def mark(passed: bool | None) -> str:
    return {True: "✅ pass", False: "❌ fail", None: "— not measured"}[passed]


def render(results: Results, plot_name: str) -> str:
    sections: list[Callable[[Results], str]] = [
        header,
        targets,
        throughput,
        beside,
        lambda r: service(r, plot_name),
        batch,
        startup,
        training,
        limit,
        faster_inference,
        failures,
        method,
    ]
    return "\n\n".join(part for part in (section(results) for section in sections) if part) + "\n"


def write_report(results: Results, path: Path, plot_name: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(results, plot_name), encoding="utf-8")


def header(r: Results) -> str:
    m = r.machine
    packages = ", ".join(f"{name} {version}" for name, version in m.packages.items())
    trained = "trained" if r.model.trained else "untrained (same architecture; speed only)"
    return "\n".join(
        [
            "# Benchmark results",
            "",
            f"Run {r.started_at} ({r.mode}, {r.seconds:.0f} s) by `python -m bench`.",
            f"- **Machine**: {m.cpu}, {m.cores} cores, {m.memory_gb:.0f} GB RAM, {m.system}; "
            f"Python {m.python}; {packages}; torch threads {m.torch_threads}.",
            f"- **Model**: `{r.model.version}` ({trained}), max length {r.model.max_length}; "
            f"predictor and service precision `{r.precision}`.",
            f"- **Texts**: {r.texts}.",
            f"- **Machine load**: {load_note(r)}",
        ]
    )


def load_note(r: Results) -> str:
    loads = ", ".join(f"{name} {value:.2f}" for name, value in r.load_by_section.items())
    busiest = max(r.load_by_section.values(), default=0.0)
    verdict = BUSY_NOTE if busiest > BUSY_LOAD else "the machine was otherwise idle"
    return (
        f"cores busy with other work at each section's start (1 s sample while the bench "
        f"was idle): {loads}; {verdict}."
    )


def targets(r: Results) -> str:
    rows = [[c.measure, c.target, c.measured or "—", mark(c.passed)] for c in check_targets(r)]
    return "## Targets\n\n" + table(["measure", "target", "measured", "result"], rows)


def throughput(r: Results) -> str:
    if not r.throughput:
        return ""
    predictor = [row for row in r.throughput if row.path.startswith("predictor")]
    pipeline = {row.batch_size: row for row in r.throughput if row.path.startswith("pipeline")}
    rows = [
        [
            p.batch_size,
            f"{p.sentences_per_s:.1f}",
            f"{pipeline[p.batch_size].sentences_per_s:.1f}",
            f"{p.sentences_per_s / pipeline[p.batch_size].sentences_per_s:.2f}×",
            f"{p.ms_per_batch:.1f}",
            f"{pipeline[p.batch_size].ms_per_batch:.1f}",
        ]
        for p in predictor
    ]
    headers = [
        "batch",
        "predictor sent/s",
        "pipeline sent/s",
        "ratio",
        "predictor ms/batch",
        "pipeline ms/batch",
    ]
    return "## 1. Model throughput (in process)\n\n" + table(headers, rows)


def beside(r: Results) -> str:
    if r.beside is None:
        return ""
    ours = {row.batch_size: row for row in r.throughput if row.path.startswith("predictor")}
    rows = [
        [
            other.batch_size,
            f"{ours[other.batch_size].ms_per_batch:.1f}" if other.batch_size in ours else "—",
            f"{other.ms_per_batch:.1f}",
            f"{ours[other.batch_size].sentences_per_s:.1f}" if other.batch_size in ours else "—",
            f"{other.sentences_per_s:.1f}",
        ]
        for other in r.beside.rows
    ]
    headers = [
        "batch",
        f"`{r.model.version}` ms/batch",
        f"`{r.beside.version}` ms/batch",
        f"`{r.model.version}` sent/s",
        f"`{r.beside.version}` sent/s",
    ]
    return (
        f"### Beside: `{r.beside.version}` ({r.beside.base_model}), same run, same texts, "
        f"predictor `{r.precision}`\n\n" + table(headers, rows)
    )


def service(r: Results, plot_name: str) -> str:
    levels = sorted({row.concurrency for row in r.load})
    if not levels:
        return ""
    rows = [service_row(r, level) for level in levels]
    headers = [
        "clients",
        "service req/s",
        "p50 / p95 / p99 ms",
        "errors",
        "naive req/s",
        "p50 / p95 / p99 ms",
        "errors",
        "service ÷ naive",
    ]
    return (
        "## 2. Service under load (single sentences, loopback)\n\n"
        + table(headers, rows)
        + f"\n\n![throughput and latency against concurrency]({plot_name})"
    )


def service_row(r: Results, level: int) -> list[object]:
    row: list[object] = [level]
    for target in (SERVICE, NAIVE):
        result = r.load_at(target, level)
        if result is None:
            row += ["—", "—", "—"]
            continue
        lat = result.latency
        row += [
            throughput_cell(result),
            f"{lat.p50_ms:.0f} / {lat.p95_ms:.0f} / {lat.p99_ms:.0f}",
            describe_errors(result.errors),
        ]
    service_result, naive_result = r.load_at(SERVICE, level), r.load_at(NAIVE, level)
    ratio = (
        f"{service_result.requests_per_s / naive_result.requests_per_s:.2f}×"
        if service_result and naive_result
        else "—"
    )
    return [*row, ratio]


def throughput_cell(result: LoadResult) -> str:
    """The reported run's req/s, and the range over all runs when there were several."""
    if len(result.passes_per_s) < 2:
        return f"{result.requests_per_s:.1f}"
    return (
        f"{result.requests_per_s:.1f} "
        f"({min(result.passes_per_s):.0f}–{max(result.passes_per_s):.0f})"
    )


def paired_rounds(r: Results) -> str:
    parts = []
    if r.lone is not None:
        parts.append(
            f"for a lone request, {r.lone.rounds} rounds of {r.lone.per_round} sentences, each "
            "classified one at a time, then sent by one client"
        )
    if r.peak is not None:
        parts.append(
            f"for {r.peak.concurrency} clients, {r.peak.rounds} rounds, each a block of "
            f"sentences classified in batches of {r.peak.batch_size}, then sent as single "
            f"requests by {r.peak.concurrency} clients"
        )
    if not parts:
        return "not run"
    return "; ".join(parts) + ". Each round gives one ratio, and the target takes their median"


def passes(r: Results) -> str:
    count = max((len(result.passes_per_s) for result in r.load), default=1)
    return "once" if count <= 1 else f"{count} times"


def describe_errors(errors: dict[str, int]) -> str:
    return ", ".join(f"{count} {kind}" for kind, count in sorted(errors.items())) or "0"


def batch(r: Results) -> str:
    if r.batch is None:
        return ""
    b = r.batch
    text = (
        f"{b.requests} sequential `POST /classify/batch` requests of {b.texts_per_request} texts: "
        f"**{b.sentences_per_s:.1f} sentences/s**, p50 {b.latency.p50_ms:.0f} ms per request."
    )
    if r.throughput:
        raw = best(r.throughput, "predictor")
        share = 100 * b.sentences_per_s / raw.sentences_per_s
        text += f" That is {share:.0f} % of the predictor's best raw throughput."
    return "## 3. Batch endpoint\n\n" + text


def startup(r: Results) -> str:
    if not r.startups:
        return ""
    rows = [
        [
            s.server,
            f"{s.ready_s:.2f}",
            f"{s.rss_ready_bytes / MB:.0f}",
            f"{s.rss_peak_bytes / MB:.0f}",
        ]
        for s in r.startups
    ]
    headers = [
        "server",
        "process start → /ready (s)",
        "peak RSS at ready (MB)",
        "peak RSS after load (MB)",
    ]
    return "## 4. Start-up and memory\n\n" + table(headers, rows)


def training(r: Results) -> str:
    if r.train is None:
        return "## 5. Training\n\n" + recorded_training(r)
    t = r.train
    f1 = f"{t.macro_f1:.3f}" if t.macro_f1 is not None else "n/a"
    status = "ok" if t.exit_code == 0 else f"exit code {t.exit_code}, see `{t.log}`"
    return (
        "## 5. Training\n\n"
        f"Default `stance-train` into a scratch store: **{t.seconds:.0f} s** wall time ({status}); "
        f"test macro-F1 {f1}."
    )


def recorded_training(r: Results) -> str:
    not_run = "Not timed in this run (`python -m bench --train` or `python -m bench.train_time`)."
    total = r.model.training_durations.get("total")
    if total is None:
        return not_run
    steps = ", ".join(
        f"{k} {v:.0f} s" for k, v in r.model.training_durations.items() if k != "total"
    )
    return (
        f"{not_run} The measured model's metadata records its own training: **{total:.0f} s** "
        f"wall time ({steps})."
    )


def limit(r: Results) -> str:
    if r.limit is None:
        return ""
    lim = r.limit
    intro = (
        f"Mean {lim.mean_tokens:.1f} tokens per sentence (max {lim.max_tokens}): "
        f"**{lim.gflops_per_sentence:.3g} GFLOP per sentence** (useful work, padding excluded). "
        f"Measured peak: **{lim.peak_gflops:.1f} GFLOP/s** (fp32 {lim.matmul_size}² matmul, "
        f"{lim.threads} threads), i.e. at most {lim.sentences_per_s_at_peak:.0f} sentences/s."
    )
    rows = [
        [
            name,
            f"{rate:.1f}",
            f"{rate * lim.gflops_per_sentence:.3g}",
            f"{100 * lim.fraction_of_peak(rate):.0f} %",
        ]
        for name, rate in path_rates(r)
    ]
    return (
        "## 6. The limit\n\n"
        + intro
        + "\n\n"
        + table(["path", "sentences/s", "GFLOP/s", "of peak"], rows)
    )


def path_rates(r: Results) -> list[tuple[str, float]]:
    rates: list[tuple[str, float]] = []
    for prefix in ("predictor", "pipeline"):
        if r.throughput:
            row = best(r.throughput, prefix)
            rates.append((f"{row.path}, batch {row.batch_size}", row.sentences_per_s))
    for target in (SERVICE, NAIVE):
        busiest = max(
            (x for x in r.load if x.target == target), key=lambda x: x.concurrency, default=None
        )
        if busiest is not None:
            rates.append((f"{target}, {busiest.concurrency} clients", busiest.requests_per_s))
    if r.batch is not None:
        rates.append(
            (f"service batch endpoint ({r.batch.texts_per_request} texts)", r.batch.sentences_per_s)
        )
    rates += [(f"{v.name} (fp32-equivalent FLOPs)", v.sentences_per_s) for v in r.precisions[1:]]
    return rates


def faster_inference(r: Results) -> str:
    if not r.precisions:
        return ""
    base = r.precisions[0]
    rows = [precision_row(v, base) for v in r.precisions]
    headers = [
        "variant",
        "prepare (s)",
        "sent/s (batched)",
        "speed-up",
        "batch-1 ms",
        "speed-up",
        "test macro-F1",
        "ΔF1",
        "agreement with fp32",
        f"within {F1_TOLERANCE}",
    ]
    caveat = (
        "" if r.model.trained else "\n\nThe model is untrained, so the F1 columns say nothing yet."
    )
    return (
        "## Faster inference\n\n" + table(headers, rows) + caveat + "\n\n" + verdict(r.precisions)
    )


def precision_row(v: Variant, base: Variant) -> list[object]:
    delta = v.macro_f1 - base.macro_f1
    return [
        v.name,
        f"{v.prepare_s:.1f}",
        f"{v.sentences_per_s:.1f}",
        f"{v.sentences_per_s / base.sentences_per_s:.2f}×",
        f"{v.single_ms:.1f}",
        f"{base.single_ms / v.single_ms:.2f}×",
        f"{v.macro_f1:.3f}",
        f"{delta:+.3f}",
        f"{100 * v.agreement:.1f} %",
        "yes" if abs(delta) <= F1_TOLERANCE else "no",
    ]


def verdict(variants: Sequence[Variant]) -> str:
    base = variants[0]
    holding = [v for v in variants[1:] if abs(v.macro_f1 - base.macro_f1) <= F1_TOLERANCE]
    if not holding:
        return "No faster variant keeps test macro-F1 within the tolerance: fp32 stays."
    fastest = max(holding, key=lambda v: v.sentences_per_s)
    return (
        f"Fastest variant within {F1_TOLERANCE} macro-F1 of fp32: **{fastest.name}**, "
        f"{fastest.sentences_per_s / base.sentences_per_s:.2f}× batched and "
        f"{base.single_ms / fastest.single_ms:.2f}× at batch 1."
    )


def failures(r: Results) -> str:
    if not r.failures:
        return ""
    rows = [[name, reason] for name, reason in r.failures.items()]
    return "## Sections that failed\n\n" + table(["section", "error"], rows)


def method(r: Results) -> str:
    return "\n".join(
        [
            "## How this was measured",
            "",
            "- Everything runs on the one machine: the load generator (aiohttp and asyncio in one "
            "process) shares the cores with the server it measures.",
            "- In-process throughput is the median of repeated passes after a warm-up; each call "
            "classifies one batch of consecutive sentences.",
            "- Each concurrency level starts with one warm-up request per client, then sends a "
            "fixed number of requests (`BenchConfig.requests_at`: 20 per client and at least 300 "
            "in the full run), each client waiting for its answer before sending the next. The "
            f"level is measured {passes(r)} and the run with the median throughput is reported "
            "(its latencies with it); the JSON keeps every run's throughput.",
            "- The two targets against the predictor are measured on their own, alternating "
            "in-process calls in the bench process with HTTP requests over the same sentences: "
            f"{paired_rounds(r)}. Sections 1 and 2 were taken minutes apart, on other "
            "sentences, and the machine's speed drifts by 10 to 20 % over minutes.",
            '- The naive endpoint (`bench/naive_server.py`) is a `pipeline("text-classification")` '
            "behind a plain FastAPI `def` route: one forward pass per request in the thread pool.",
            "- Start-up is from `Popen` to the first 200 from `/ready`; peak RSS is the kernel's "
            "high-water mark (VmHWM) of the server process.",
        ]
    )
