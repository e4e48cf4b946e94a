"""The human-readable evidence beside a model: ``report.md`` and its confusion-matrix plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from stance.artifact import CONFUSION_FILE, REPORT_FILE, ModelMetadata
from stance.labels import NONE
from training.evaluate import confusion_text


def write_report(directory: Path, metadata: ModelMetadata) -> Path:
    """Write ``report.md`` and the confusion-matrix PNG it shows; returns the report path."""
    directory = Path(directory)
    matrix = metadata.metrics["confusion_matrix"]
    plot_confusion(matrix, metadata.labels, directory / CONFUSION_FILE)
    path = directory / REPORT_FILE
    path.write_text(render(metadata), encoding="utf-8")
    return path


def plot_confusion(matrix: Sequence[Sequence[int]], labels: Sequence[str], path: Path) -> None:
    figure = Figure(figsize=(4.8, 4.2), dpi=100, layout="tight")
    axes = figure.subplots()
    axes.imshow(matrix, cmap="Blues")
    ticks = range(len(labels))
    axes.set_xticks(ticks, labels, rotation=30, ha="right")
    axes.set_yticks(ticks, labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title("Test split confusion matrix")
    peak = max((max(row) for row in matrix), default=0)
    for i, row in enumerate(matrix):
        for j, n in enumerate(row):
            colour = "white" if peak and n > peak / 2 else "black"
            axes.text(j, i, str(n), ha="center", va="center", color=colour)
    figure.savefig(path)


def render(metadata: ModelMetadata) -> str:
    sections = [
        header(metadata),
        test_section(metadata),
        held_out_section(metadata.metrics.get("held_out"), metadata.labels),
        files_section(metadata.metrics.get("by_file"), metadata.baseline_metrics.get("by_file")),
        *model_sections(metadata),
        data_section(metadata),
        key_value_section("Config", metadata.config),
        key_value_section("Durations (s)", {k: f"{v:.1f}" for k, v in metadata.durations.items()}),
        key_value_section("Packages", metadata.packages),
    ]
    return "\n\n".join(sections) + "\n"


def model_sections(metadata: ModelMetadata) -> list[str]:
    """How the model was made: calibration, int8 and training, or an ensemble's members."""
    int8 = int8_section(
        metadata.metrics.get("int8"), metadata.serving.reason, bool(metadata.members)
    )
    if metadata.members:
        return [members_section(metadata.metrics.get("members", {})), int8]
    return [
        calibration_section(metadata.metrics),
        int8,
        training_section(metadata.metrics.get("training", {})),
    ]


def members_section(members: dict[str, dict[str, Any]]) -> str:
    """An ensemble's members, each on the same test split as the ensemble."""
    rows = [
        [
            f"`{name}`",
            f"`{member.get('base_model')}`",
            fmt(member.get("macro_f1")),
            fmt(member.get("four_label_macro_f1")),
            fmt(member.get("int8_macro_f1")),
            "yes" if member.get("int8_served") else "no",
        ]
        for name, member in members.items()
    ]
    table = table_lines(
        ["member", "base model", "macro-F1", "four-label macro-F1", "int8 macro-F1", "int8"],
        rows,
    )
    return (
        "## Members\n\n"
        "This version averages the calibrated probabilities of the models below, each a "
        "complete version under `members/` with its own report; every figure above is the "
        f"ensemble's.\n\n{table}"
    )


def header(metadata: ModelMetadata) -> str:
    promotion = metadata.promotion
    decision = "promoted to current" if promotion.get("promoted") else "not promoted"
    return (
        f"# Stance model {metadata.version}\n\n"
        f"Base model `{metadata.base_model}`, labels hash `{metadata.labels_hash}`, "
        f"seed {metadata.seed}, created {metadata.created_at}.\n\n"
        f"Promotion: **{decision}**: {promotion.get('reason', 'not decided')}."
    )


def test_section(metadata: ModelMetadata) -> str:
    model, baseline = metadata.metrics, metadata.baseline_metrics
    rows = headline_rows(metadata.labels)
    rows += [(f"{label} F1", f"{label}_f1") for label in metadata.labels]
    rows += [("ECE", "ece")]
    table = table_lines(
        ["metric", "fine-tuned", "TF-IDF + LR baseline"],
        [[name, fmt(model.get(key)), fmt(baseline.get(key))] for name, key in rows],
    )
    per_class = table_lines(
        ["label", "precision", "recall", "F1", "support"],
        [
            [label, fmt(s["precision"]), fmt(s["recall"]), fmt(s["f1"]), str(s["support"])]
            for label, s in model["per_class"].items()
        ],
    )
    matrix = confusion_text(model["confusion_matrix"], metadata.labels)
    return (
        f"## Test split ({model['n']} sentences, fixed hash split)\n\n{table}\n\n"
        f"The baseline is trained on the same training sentences (train + dev).\n\n"
        f"### Per class\n\n{per_class}\n\n"
        f"### Confusion matrix (rows: true, columns: predicted)\n\n```text\n{matrix}\n```\n\n"
        f"![confusion matrix]({CONFUSION_FILE})"
    )


def headline_rows(labels: Sequence[str]) -> list[tuple[str, str]]:
    """(name, metrics key) of the figures every version is compared on first."""
    if NONE not in labels:
        return [("macro-F1", "macro_f1"), ("accuracy", "accuracy")]
    return [
        ("stance macro-F1 (S/C/O sentences)", "macro_f1"),
        ("four-label macro-F1", "four_label_macro_f1"),
        ("accuracy", "accuracy"),
        ("none precision", "none_precision"),
        ("none recall", "none_recall"),
        ("stance sentences answered none", "stance_lost_to_none"),
    ]


def held_out_section(held_out: dict[str, dict[str, Any]] | None, labels: Sequence[str]) -> str:
    """The version on each file of ``labels/held_out/``: real reporting it never trained on."""
    if not held_out:
        return "## Held-out files\n\nNone were scored for this version."
    keys = headline_rows(labels)
    rows = [
        [f"`{name}`", str(scores["n"])]
        + [f"{fmt(scores.get(key))} / {fmt(scores['baseline'].get(key))}" for _, key in keys]
        for name, scores in held_out.items()
    ]
    table = table_lines(["file", "n", *(name for name, _ in keys)], rows)
    return (
        "## Held-out files (fine-tuned / TF-IDF baseline)\n\n"
        "Sentences from `labels/held_out/`, never trained on, drawn from pages no training label "
        f"comes from.\n\n{table}"
    )


def files_section(
    model: dict[str, dict[str, float]] | None, baseline: dict[str, dict[str, float]] | None
) -> str:
    if not model:
        return "## Test split by label file\n\nNot recorded for this version."
    baseline = baseline or {}
    rows = [
        [
            f"`{name}`",
            str(int(scores["n"])),
            fmt(scores["macro_f1"]),
            fmt(scores["accuracy"]),
            fmt(baseline.get(name, {}).get("macro_f1")),
            fmt(baseline.get(name, {}).get("accuracy")),
        ]
        for name, scores in model.items()
    ]
    table = table_lines(
        ["file", "n", "macro-F1", "accuracy", "baseline macro-F1", "baseline accuracy"], rows
    )
    return (
        "## Test split by label file\n\n"
        "Each file's share of the test split: a new round of labels that the model finds harder "
        "than the rest shows here before it moves the overall figure. Macro-F1 on a few "
        f"sentences is noisy; read it with n.\n\n{table}"
    )


def calibration_section(metrics: dict[str, Any]) -> str:
    calibration = metrics.get("calibration", {})
    verdict = "kept" if calibration.get("kept") else "not kept (it did not lower dev ECE)"
    return (
        "## Calibration\n\n"
        f"Temperature fitted on dev: {fmt(calibration.get('fitted_temperature'))}, {verdict}; "
        f"temperature used: {fmt(calibration.get('temperature'))}.\n\n"
        f"- dev ECE: {fmt(calibration.get('dev_ece_before'))} → "
        f"{fmt(calibration.get('dev_ece_after'))}\n"
        f"- test ECE: {fmt(metrics.get('ece_before_scaling'))} → {fmt(metrics.get('ece'))}"
    )


def int8_section(int8: dict[str, Any] | None, serving: str, ensemble: bool = False) -> str:
    if not int8:
        return f"## int8\n\nThe service serves fp32: {serving}."
    delta = int8.get("delta_macro_f1")
    tried = int8.get("dev_delta_by_scheme") or {}
    schemes = ", ".join(f"{name} {fmt(d)}" for name, d in tried.items())
    graph = "Each member's `onnx/model.int8.onnx`" if ensemble else "`onnx/model.int8.onnx`"
    return (
        "## int8\n\n"
        f"{graph} (ONNX Runtime, dynamic int8), which the service runs by default: "
        f"test macro-F1 {fmt(int8.get('macro_f1'))} "
        f"({'n/a' if delta is None else f'{delta:+.3f}'} against fine-tuned fp32); "
        f"quantisation scheme `{int8.get('scheme', 'all')}`"
        f"{f' (dev macro-F1 change by scheme tried: {schemes})' if schemes else ''}.\n\n"
        f"Int8 gate: {serving}."
    )


def data_section(metadata: ModelMetadata) -> str:
    rows = [
        [
            split,
            *(str(counts.get(label, 0)) for label in metadata.labels),
            str(sum(counts.values())),
        ]
        for split, counts in metadata.counts.items()
    ]
    return "## Data\n\n" + table_lines(["split", *metadata.labels, "total"], rows)


def training_section(training: dict[str, Any]) -> str:
    rows = [
        [str(r["epoch"]), str(r["steps"]), fmt(r["loss"]), fmt(r["dev_macro_f1"])]
        for r in training.get("history", [])
    ]
    return (
        f"## Training\n\nEarly stopping on dev chose epoch {training.get('best_epoch')} "
        f"({training.get('steps')} steps run).\n\n"
        + table_lines(["epoch", "steps", "train loss", "dev macro-F1"], rows)
        + refit_sentence(training.get("refit"))
    )


def refit_sentence(refit: dict[str, Any] | None) -> str:
    if not refit:
        return "\n\nThe saved model is the early-stopped one (weights of the chosen epoch)."
    losses = ", ".join(fmt(loss) for loss in refit.get("losses", []))
    return (
        f"\n\nThe saved model was then trained afresh on train + dev ({refit.get('sentences')} "
        f"sentences) for {refit.get('epochs')} epochs, {refit.get('steps')} steps "
        f"(train loss {losses}); the temperature was fitted on dev with the early-stopped "
        "model."
    )


def key_value_section(title: str, values: dict[str, Any]) -> str:
    return f"## {title}\n\n" + table_lines(
        ["name", "value"], [[key, f"`{value}`"] for key, value in values.items()]
    )


def table_lines(head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "–" if value is None else str(value)
