"""Splitting an article into sentences with their character offsets in the input.

syntok does the splitting: on this project's real-reporting passages it keeps 99.0 % of the
sentences whole (381 of 385) and every labelled sentence of the seed articles (with the rules
below), against 98.2 % and all for blingfire, 96.9 % and 116 of 123 for pysbd, and 72.7 % and
121 of 123 for spaCy's rule sentencizer; it also keeps "U.S.", "Mr.", "Dr." and "a.m." inside a
sentence (README.md, "Whole articles"; the tests measure the first two). Around it, three
rules for what real article text holds:

- a line break ends a sentence (a headline, a byline, a caption) unless the next line
  continues it: the line before has no closing punctuation and the next starts in lower case
  or with punctuation, as in text copied from a web page where links break lines;
- a sentence never ends on a semicolon, and a dateline ("BEIJING, July 4. /TASS/.") is the
  start of the sentence that follows it, not a sentence of its own;
- HTML tags count as spaces, so offsets still point into the text as it was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from syntok import segmenter

TAG = re.compile(r"<[^>\n]*>")
CLOSED = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
CONTINUES = re.compile(r"^\s*(?:[a-z(,.;:!?)\]”’%-]|\.\.\.)")
LEADING_PUNCTUATION = re.compile(r"^\s*[.,;:!?)\]]")
DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .'-]+,(?: [A-Z][a-z]+\.?)? \d{1,2}\.?"  # BEIJING, July 4.
    r"|/?\(?[A-Z]{2,}\)?/?\.?"  # /TASS/.
    r"|[A-Z][A-Z .'-]+ —)$"  # KABUL —
)


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` in order; ``text[s.start:s.end] == s.text`` for each."""
    masked = TAG.sub(lambda match: " " * len(match.group()), text)
    spans: list[tuple[int, int]] = []
    for start, end in blocks(masked):
        spans += syntok_spans(masked, start, end)
    return [Sentence(start, end, text[start:end]) for start, end in merged(masked, spans)]


def blocks(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of runs of lines that belong together (see the module docstring)."""
    block: tuple[int, int] | None = None
    position = 0
    for line in text.splitlines(keepends=True):
        line_start, position = position, position + len(line)
        stripped = line.strip()
        finishes = line_start + len(line.rstrip())
        if block is not None and stripped and joins(text[block[0] : block[1]], stripped):
            block = (block[0], finishes)
            continue
        if block is not None:
            yield block
        block = (line_start + len(line) - len(line.lstrip()), finishes) if stripped else None
    if block is not None:
        yield block


def joins(previous: str, line: str) -> bool:
    if LEADING_PUNCTUATION.match(line):
        return True
    return not CLOSED.search(previous) and bool(CONTINUES.match(line))


def syntok_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    for paragraph in segmenter.analyze(text[start:end]):
        for sentence in paragraph:
            tokens = [token for token in sentence if token.value]
            if tokens:
                first, last = tokens[0], tokens[-1]
                spans.append((start + first.offset, start + last.offset + len(last.value)))
    return spans


def merged(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a span that ends on a semicolon, or is a dateline, to the span after it."""
    out: list[tuple[int, int]] = []
    carry: int | None = None
    for start, end in spans:
        begin = start if carry is None else carry
        piece = text[start:end]
        if piece.endswith(";") or DATELINE.match(piece):
            carry = begin
            continue
        out.append((begin, end))
        carry = None
    if carry is not None:
        out.append((carry, spans[-1][1]))
    return out
