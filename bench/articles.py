"""``python -m bench.articles``: whole articles, against sentences, in the same run.

Two ratios, each against a baseline measured in this run on the same sentences:

1. ``POST /analyze`` of a 40-sentence article against one ``POST /classify/batch`` of the
   same 40 sentences, p50 over alternating rounds on one live service (target ≤ 1.3×);
2. ``stance-analyze`` over N articles (default 1,000) in process, in sentences/s, against the
   predictor's batched throughput on the same sentences (target ≥ 0.8×);

and what splitting costs: stance macro-F1 on the held-out passages analysed whole, against
classifying their hand-split sentences (target: within 0.01).

The articles are the passages of ``labels/held_out/real_reporting.jsonl``, each joined into
one text, repeated with a numbered line so that no two are the same. It prints the figures
and exits 0; like the rest of ``bench/``, it is not part of the tests' pass/fail.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.config import REPO_ROOT, Paths
from bench.models import resolve_model
from bench.process import free_port, running_server
from bench.servers import service_command, service_env
from stance.predictor import Predictor
from stance.sentences import Sentence, split_sentences

log = logging.getLogger("bench.articles")

ARTICLE_SENTENCES = 40
ROUNDS = 30
PREDICTOR_BATCH = 64
HELD_OUT = REPO_ROOT / "labels" / "held_out" / "real_reporting.jsonl"
HEADLINE_END = re.compile(r"[.!?\"'”’)]$")


def passages(path: Path = HELD_OUT) -> list[str]:
    """Each held-out passage as one text (see :func:`join_passage`)."""
    return [join_passage([text for text, _ in rows]) for rows in labelled_passages(path)]


def labelled_passages(path: Path = HELD_OUT) -> list[list[tuple[str, str]]]:
    """The held-out passages, each a list of (sentence, label) in order."""
    by_passage: dict[object, list[tuple[int, str, str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        row = (record["position"], record["text"], record["label"])
        by_passage.setdefault(record["passage"], []).append(row)
    return [[(text, label) for _, text, label in sorted(rows)] for rows in by_passage.values()]


def join_passage(sentences: Sequence[str]) -> str:
    """The passage as an article holds it: a sentence that ends without closing punctuation (a
    headline, a crosshead) on a line of its own, the others run on in one paragraph."""
    return "".join(s + (" " if HEADLINE_END.search(s) else "\n") for s in sentences)


def long_article(texts: Sequence[str], n_sentences: int = ARTICLE_SENTENCES) -> str:
    """Passages joined as paragraphs until the article has ``n_sentences`` sentences."""
    paragraphs: list[str] = []
    for text in texts:
        paragraphs.append(text)
        sentences = split_sentences("\n\n".join(paragraphs))
        if len(sentences) >= n_sentences:
            end = sentences[n_sentences - 1].end
            return "\n\n".join(paragraphs)[:end]
    raise ValueError(f"the passages hold fewer than {n_sentences} sentences")


def archive(texts: Sequence[str], n_articles: int) -> list[str]:
    return [f"Report {i}.\n{texts[i % len(texts)]}" for i in range(n_articles)]


def alternate_p50(url: str, article: str, rounds: int) -> tuple[float, float]:
    """p50 seconds of /analyze and of /classify/batch on the same sentences, in alternation."""
    sentences = [s.text for s in split_sentences(article)]
    analyze, batch = [], []
    with httpx.Client(base_url=url, timeout=120) as client:
        for _ in range(rounds):
            analyze.append(timed_post(client, "/analyze", {"text": article}))
            batch.append(timed_post(client, "/classify/batch", {"texts": sentences}))
    return statistics.median(analyze), statistics.median(batch)


def timed_post(client: httpx.Client, path: str, body: object) -> float:
    start = time.perf_counter()
    response = client.post(path, json=body)
    elapsed = time.perf_counter() - start
    response.raise_for_status()
    return elapsed


def predictor_rate(model_path: Path, texts: Sequence[str]) -> float:
    """Sentences/s of the int8 predictor in batches of ``PREDICTOR_BATCH``."""
    sentences = [s.text for text in texts for s in split_sentences(text)]
    predictor = Predictor.load(model_path, precision="int8", batch_size=PREDICTOR_BATCH)
    start = time.perf_counter()
    predictor.predict(sentences)
    return len(sentences) / (time.perf_counter() - start)


def cli_rate(models_dir: Path, labels_dir: Path, texts: Sequence[str]) -> float:
    """Sentences/s of ``stance-analyze`` over ``texts`` as a JSON Lines archive, in process."""
    from training.analyze import main

    n_sentences = sum(len(split_sentences(text)) for text in texts)
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "archive.jsonl"
        source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), "utf-8")
        argv = [str(source), "--out", str(Path(scratch) / "out.jsonl"), "--no-progress"]
        argv += ["--models-dir", str(models_dir), "--labels-dir", str(labels_dir)]
        start = time.perf_counter()
        if main(argv) != 0:
            raise RuntimeError("stance-analyze failed")
        return n_sentences / (time.perf_counter() - start)


def splitting_cost(model_path: Path) -> tuple[float, float]:
    """Stance macro-F1 on the held-out passages: each hand-split sentence classified alone,
    against the label of the split sentence that covers most of it when the whole passage is
    analysed."""
    from training.evaluate import headline_f1

    predictor = Predictor.load(model_path, precision="int8")
    ids = {label: i for i, label in enumerate(predictor.labels)}
    truth, alone, analysed = [], [], []
    for rows in labelled_passages():
        sentences = [text for text, _ in rows]
        text = join_passage(sentences)
        split = split_sentences(text)
        split_labels = [p.label for p in predictor.predict([s.text for s in split])]
        for (_, label), span, prediction in zip(
            rows, spans(text, sentences), predictor.predict(sentences), strict=True
        ):
            truth.append(ids[label])
            alone.append(ids[prediction.label])
            analysed.append(ids[split_labels[covering(split, span)]])
    labels = predictor.labels
    return headline_f1(truth, alone, labels), headline_f1(truth, analysed, labels)


def spans(text: str, sentences: Sequence[str]) -> list[tuple[int, int]]:
    found, start = [], 0
    for sentence in sentences:
        start = text.index(sentence, start)
        found.append((start, start + len(sentence)))
        start += len(sentence)
    return found


def covering(split: Sequence[Sentence], span: tuple[int, int]) -> int:
    """Index of the split sentence that overlaps ``span`` most."""
    overlaps = [min(s.end, span[1]) - max(s.start, span[0]) for s in split]
    return max(range(len(split)), key=overlaps.__getitem__)


def archive_parser(prog: str, description: str | None, rounds: int) -> argparse.ArgumentParser:
    """The options of the benches that run an archive of held-out passages."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--models-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--labels-dir", type=Path, default=REPO_ROOT / "labels")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=rounds)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = archive_parser("python -m bench.articles", __doc__, ROUNDS).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    with tempfile.TemporaryDirectory() as scratch:
        paths = Paths(args.models_dir, args.labels_dir, Path(scratch), Path(scratch) / "r.md")
        model = resolve_model(args.models_dir, Path(scratch))
        texts = passages()
        article = long_article(texts)
        port = free_port()
        env = service_env(model, paths, "int8", port)
        env["STANCE_ACTORS_FILE"] = str(args.labels_dir.resolve() / "actors.toml")
        log.info("service: /analyze against /classify/batch, %d rounds", args.rounds)
        log_path = paths.out_dir / "service.log"
        with running_server("service", service_command(), env, port, log_path, 60) as server:
            analyze_s, batch_s = alternate_p50(server.url, article, args.rounds)
        many = archive(texts, args.articles)
        log.info("predictor and stance-analyze on %d articles", len(many))
        baseline = predictor_rate(model.path, many)
        rate = cli_rate(model.models_dir, args.labels_dir, many)
        alone_f1, analysed_f1 = splitting_cost(model.path)
    lines = [
        f"model {model.version}",
        f"/analyze of a {ARTICLE_SENTENCES}-sentence article: p50 {analyze_s * 1000:.1f} ms "
        f"against {batch_s * 1000:.1f} ms for /classify/batch of its sentences: "
        f"{analyze_s / batch_s:.2f}x (target <= 1.3x)",
        f"stance-analyze on {len(many)} articles: {rate:.0f} sentences/s against the "
        f"predictor's {baseline:.0f} at batch {PREDICTOR_BATCH}: {rate / baseline:.2f}x "
        "(target >= 0.8x)",
        f"held-out passages, stance macro-F1: {analysed_f1:.4f} analysed as articles against "
        f"{alone_f1:.4f} for the hand-split sentences: {analysed_f1 - alone_f1:+.4f} "
        "(target within 0.01)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
