"""The training commands. Each ``*_main(argv)`` returns an exit code; bad input gives one line
on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stance.artifact import ArtifactError, Serving
from stance.labels import LabelFileError, load_examples, split
from stance.registry import ModelStore
from training.config import (
    DEFAULT_RECIPE,
    PipelineSettings,
    TrainConfig,
    config_fields,
    get_settings,
    member_configs,
    recipe_config,
    recipe_names,
)
from training.data import count_labels, present_labels
from training.errors import TrainingError

USAGE_ERROR = 2
INTERRUPTED = 130
BROKEN_PIPE = 141

Main = Callable[[Sequence[str] | None], int]


def echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return USAGE_ERROR


def command(main: Callable[[argparse.Namespace], int], parser: Callable[[], Any]) -> Main:
    """Parse argv with ``parser()`` and run ``main``, turning known errors into exit code 2."""

    @functools.wraps(main)
    def run(argv: Sequence[str] | None = None) -> int:
        try:
            code = main(parser().parse_args(argv))
            sys.stdout.flush()
            return code
        except BrokenPipeError:
            silence_stdout()
            return BROKEN_PIPE
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else USAGE_ERROR
        except LabelFileError as exc:
            return fail(describe_problems(exc))
        except (TrainingError, ArtifactError) as exc:
            return fail(str(exc))
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            return fail(f"invalid setting {where}: {error['msg']}")
        except KeyboardInterrupt:
            sys.stderr.write("interrupted: no model version was written, current is unchanged\n")
            return INTERRUPTED

    return run


def silence_stdout() -> None:
    """The reader of stdout has gone (``stance-models list | head -1``). Point stdout at
    /dev/null so that the interpreter's own flush at exit does not fail a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def describe_problems(error: LabelFileError) -> str:
    if len(error.problems) == 1:
        return str(error.problems[0])
    listed = "\n".join(f"  {problem}" for problem in error.problems)
    return f"{len(error.problems)} problems in the labels; fix them and retry:\n{listed}"


def store_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--labels-dir", type=Path, help="labels directory (STANCE_LABELS_DIR)")
    parser.add_argument("--models-dir", type=Path, help="model store (STANCE_MODELS_DIR)")
    return parser


def settings_from(args: argparse.Namespace) -> PipelineSettings:
    overrides = {
        name: getattr(args, name)
        for name in ("labels_dir", "models_dir")
        if getattr(args, name, None) is not None
    }
    return get_settings().model_copy(update=overrides)


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """``--recipe``, then one flag per TrainConfig field, with the field's help and the default
    recipe's value; a flag that is given overrides the recipe's value."""
    group = parser.add_argument_group("training config")
    group.add_argument(
        "--recipe",
        choices=recipe_names(),
        default="default",
        help=f"named starting point: default ({DEFAULT_RECIPE}), mpnet (all-mpnet-base-v2), "
        "minilm (all-MiniLM-L6-v2, refit), fast (all-MiniLM-L6-v2, no refit, 2 epochs), pair "
        "(fast and mpnet, serving the mean of their probabilities); the flags below override "
        "it, for every member of a pair",
    )
    for name, kind, default, help_text in config_fields():
        flag = "--" + name.replace("_", "-")
        described = f"{help_text} (default: {default})"
        if kind is bool:
            group.add_argument(
                flag,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=described,
            )
        else:
            group.add_argument(flag, type=kind, default=argparse.SUPPRESS, help=described)


def config_from(args: argparse.Namespace) -> TrainConfig:
    return recipe_config(args.recipe, **given_flags(args))


def members_from(args: argparse.Namespace) -> list[tuple[str, TrainConfig]]:
    return member_configs(args.recipe, **given_flags(args))


def given_flags(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name, *_ in config_fields() if hasattr(args, name)}


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)


def validate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance-validate", description="Check the label files and count the examples."
    )
    parser.add_argument("--labels-dir", type=Path, help="labels directory (STANCE_LABELS_DIR)")
    return parser


def validate(args: argparse.Namespace) -> int:
    labels_dir = settings_from(args).labels_dir
    examples = load_examples(labels_dir)
    labels = present_labels(examples)
    train, test = split(examples)
    by_split = {"train": count_labels(train, labels), "test": count_labels(test, labels)}
    echo(f"{labels_dir}: {len(examples)} valid examples")
    echo(f"{'label':<12}{'train':>8}{'test':>8}{'total':>8}")
    for label in labels:
        train_n, test_n = by_split["train"][label], by_split["test"][label]
        echo(f"{label:<12}{train_n:>8}{test_n:>8}{train_n + test_n:>8}")
    echo(f"{'total':<12}{len(train):>8}{len(test):>8}{len(examples):>8}")
    return 0


def train_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance-train",
        description="Fine-tune, evaluate and save a model version; promote it if it is not worse.",
    )
    store_options(parser)
    parser.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    parser.add_argument(
        "--cv",
        type=int,
        metavar="K",
        help="only run stratified K-fold cross-validation over train+dev (no version is saved)",
    )
    parser.add_argument("--result-json", type=Path, metavar="PATH", help="write the outcome here")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_config_flags(parser)
    return parser


def train(args: argparse.Namespace) -> int:
    from training.pipeline import run_cross_validation

    settings = settings_from(args)
    configure_logging()
    if args.cv is not None:
        result = run_cross_validation(config_from(args), settings, args.cv, not args.no_progress)
        echo(describe_cv(result))
        write_result(args.result_json, {"cv": result})
        return 0
    outcome = train_members(members_from(args), settings, args.force, not args.no_progress)
    echo(f"version {outcome.version} written to {outcome.path}")
    echo(describe_metrics(outcome.metrics))
    echo(describe_serving(outcome.metrics, outcome.serving))
    verdict = "promoted to current" if outcome.decision.promoted else "NOT promoted"
    echo(f"{verdict}: {outcome.decision.reason}")
    write_result(args.result_json, outcome.summary())
    return 0


def train_members(
    members: list[tuple[str, TrainConfig]], settings: PipelineSettings, force: bool, progress: bool
) -> Any:
    """One version of one model, or an ensemble version of several."""
    from training.ensemble import train_ensemble
    from training.pipeline import train_version

    if len(members) == 1:
        return train_version(members[0][1], settings, force=force, progress=progress)
    return train_ensemble(members, settings, force=force, progress=progress)


def describe_cv(result: dict[str, Any]) -> str:
    tuned, baseline = result["fine_tuned"], result["baseline"]
    return (
        f"{result['k']}-fold macro-F1: fine-tuned {tuned['mean']:.4f} ± {tuned['sd']:.4f}, "
        f"TF-IDF baseline {baseline['mean']:.4f} ± {baseline['sd']:.4f} "
        f"({result['seconds']} s)"
    )


def describe_metrics(metrics: dict[str, Any], sentences: str = "test") -> str:
    per_class = ", ".join(f"{label} {s['f1']:.4f}" for label, s in metrics["per_class"].items())
    return (
        f"{sentences} {headline_name(metrics)} {figure(metrics['macro_f1'])}, "
        f"accuracy {metrics['accuracy']:.4f}, ECE {metrics['ece']:.4f} (n={metrics['n']}); "
        f"per-class F1: {per_class}{none_figures(metrics)}"
    )


def headline_name(metrics: dict[str, Any]) -> str:
    return "stance macro-F1" if "none_recall" in metrics else "macro-F1"


def none_figures(metrics: dict[str, Any]) -> str:
    """The figures of a model with a ``none`` label, after the headline (empty without one)."""
    if "none_recall" not in metrics:
        return ""
    return (
        f"; four-label macro-F1 {figure(metrics['four_label_macro_f1'])}, none precision "
        f"{figure(metrics['none_precision'])}, recall {figure(metrics['none_recall'])}, stance "
        f"sentences answered none {figure(metrics['stance_lost_to_none'])}"
    )


def signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.4f}"


def figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def describe_serving(metrics: dict[str, Any], serving: Serving) -> str:
    """One line: the precision the service will run this version at, with that graph's figures."""
    if serving.int8:
        return (
            f"served as int8: test macro-F1 {metrics['int8']['macro_f1']:.4f} "
            f"({metrics['int8']['delta_macro_f1']:+.4f} against fp32); {serving.reason}"
        )
    return f"served as fp32: test macro-F1 {metrics['macro_f1']:.4f}; {serving.reason}"


def write_result(path: Path | None, payload: dict[str, Any]) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def evaluate_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance-evaluate", description="Re-evaluate a saved version on today's test split."
    )
    parser.add_argument("version", help="a version name from `stance-models list`")
    parser.add_argument(
        "--on",
        type=Path,
        metavar="FILE",
        help="score on this JSON Lines file of labelled sentences kept out of labels/ "
        "(beside the TF-IDF baseline) instead of the test split",
    )
    store_options(parser)
    return parser


def evaluate(args: argparse.Namespace) -> int:
    if args.on is not None:
        return evaluate_held_out(args)
    from training.pipeline import evaluate_version

    metrics = evaluate_version(args.version, settings_from(args))
    echo(f"{args.version}: {describe_metrics(metrics)}")
    for name, scores in metrics.get("by_file", {}).items():
        echo(
            f"  {name}: n={scores['n']}, macro-F1 {scores['macro_f1']:.4f}, "
            f"accuracy {scores['accuracy']:.4f}"
        )
    echo_skipped(metrics["skipped_unknown_labels"], "of a label the version lacks")
    return 0


def evaluate_held_out(args: argparse.Namespace) -> int:
    from training import pipeline

    metrics = pipeline.evaluate_held_out(args.version, args.on, settings_from(args))
    baseline = metrics["baseline"]
    echo(f"{args.version} on {args.on}: {describe_metrics(metrics, 'held-out')}")
    if "int8" in metrics:
        echo(
            f"int8 graph (what the service runs by default): {headline_name(metrics)} "
            f"{figure(metrics['int8']['macro_f1'])} ({signed(metrics['int8']['delta_macro_f1'])})"
        )
    echo(
        f"TF-IDF baseline on the same sentences: {headline_name(baseline)} "
        f"{figure(baseline['macro_f1'])}, accuracy {baseline['accuracy']:.4f}"
        + none_figures(baseline)
    )
    echo_skipped(metrics["skipped_in_labels"], "already in the labels, or within two words of one")
    echo_skipped(metrics["skipped_unknown_labels"], "of a label the version lacks")
    return 0


def echo_skipped(count: int, what: str) -> None:
    if count:
        echo(f"skipped {count} of the sentences: {what}")


def promote_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stance-promote", description="Move current to a version if the gate allows it."
    )
    parser.add_argument("version", help="a version name from `stance-models list`")
    parser.add_argument("--force", action="store_true", help="promote even if the gate refuses")
    store_options(parser)
    return parser


def promote(args: argparse.Namespace) -> int:
    from training.pipeline import promote_version

    decision = promote_version(args.version, settings_from(args), args.force)
    verdict = "promoted to current" if decision.promoted else "NOT promoted"
    echo(f"{args.version} {verdict}: {decision.reason}")
    return 0 if decision.promoted else 1


def models_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stance-models", description="List or switch versions.")
    store_options(parser)
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="versions with their test metrics")
    use = actions.add_parser("use", help="point current at VERSION (rollback, no gate)")
    use.add_argument("version")
    return parser


def models(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.action == "use":
        from training.pipeline import use_version

        previous = use_version(args.version, settings)
        echo(f"current -> {args.version} (was {previous or 'none'})")
        return 0
    for line in version_lines(ModelStore(settings.models_dir)):
        echo(line)
    return 0


def version_lines(store: ModelStore) -> list[str]:
    infos = store.describe()
    if not infos:
        return [f"no versions in {store.root}"]
    lines = [f"  {'version':<28}{'macro-F1':>9}{'cautious':>9}{'baseline':>9}  labels"]
    for info in infos:
        mark = "*" if info.is_current else " "
        if info.metadata is None:
            lines.append(f"{mark} {info.version:<28}  unreadable: {info.error}")
            continue
        metrics, baseline = info.metadata.metrics, info.metadata.baseline_metrics
        lines.append(
            f"{mark} {info.version:<28}{fmt(metrics.get('macro_f1')):>9}"
            f"{fmt(metrics.get('cautious_f1')):>9}{fmt(baseline.get('macro_f1')):>9}  "
            f"{info.metadata.labels_hash}"
        )
    return lines


def fmt(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) else "-"


validate_main = command(validate, validate_parser)
train_main = command(train, train_parser)
evaluate_main = command(evaluate, evaluate_parser)
promote_main = command(promote, promote_parser)
models_main = command(models, models_parser)
