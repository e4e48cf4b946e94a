"""``POST /labels``: labelled sentences into the corpus, checked like training checks them.

Each example gets its own answer (added, duplicate, conflict, invalid) and the request is a 200
as long as one example was valid. When every example is invalid nothing could be done, so the
answer is a 422 listing each example's problem, like any other malformed request.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import get_args

from fastapi import APIRouter, HTTPException
from filelock import Timeout
from pydantic import JsonValue

from service.api.deps import AdminOnly, SettingsDep
from service.api.errors import InputError, error_responses
from service.config import Settings
from service.loop_schemas import (
    MAX_LABELS_PER_REQUEST,
    LabelCounts,
    LabelResult,
    LabelsRequest,
    LabelsResponse,
    LabelStatus,
)
from stance.intake import Outcome, add_examples, label_counts
from stance.labels import LABELS

LOCK_TIMEOUT_S = 20.0

router = APIRouter(tags=["labels"])


def no_examples() -> str:
    return "'examples' is empty: send at least one labelled example"


def too_many_examples(count: int) -> str:
    return (
        f"'examples' has {count} examples, more than the limit of {MAX_LABELS_PER_REQUEST}: "
        "send them in several requests"
    )


def labels_locked(settings: Settings) -> str:
    return f"{settings.incoming_labels} is locked by another writer: retry in a moment"


def labels_unwritable(settings: Settings, exc: OSError) -> str:
    return f"cannot write {settings.incoming_labels}: {exc.strerror or exc}"


def labels_unreadable(settings: Settings, exc: OSError) -> str:
    return f"cannot read the labels in {settings.labels_dir}: {exc.strerror or exc}"


@router.post(
    "/labels",
    summary="Add labelled sentences to the corpus",
    dependencies=[AdminOnly],
    responses=error_responses(400, 401, 403, 413, 422, 503),
)
async def add_labels(body: LabelsRequest, settings: SettingsDep) -> LabelsResponse:
    check_count(body.examples)
    outcomes = await append(body.examples, settings)
    if all(outcome.status == "invalid" for outcome in outcomes):
        raise all_invalid(outcomes)
    counts = Counter(outcome.status for outcome in outcomes)
    return LabelsResponse(
        results=[result_of(outcome) for outcome in outcomes],
        counts={status: counts[status] for status in get_args(LabelStatus)},
    )


@router.get(
    "/labels/counts",
    summary="How many examples the corpus holds per label",
    responses=error_responses(503),
)
async def count_labels(settings: SettingsDep) -> LabelCounts:
    try:
        found = await asyncio.to_thread(label_counts, settings.labels_dir, settings.incoming_labels)
    except OSError as exc:
        raise HTTPException(status_code=503, detail=labels_unreadable(settings, exc)) from None
    names = [*LABELS, *sorted(set(found) - set(LABELS))]
    return LabelCounts(counts={name: found[name] for name in names}, total=found.total())


def check_count(examples: list[JsonValue]) -> None:
    if not examples:
        raise InputError(no_examples(), ("body", "examples"), "too_short")
    if len(examples) > MAX_LABELS_PER_REQUEST:
        raise InputError(too_many_examples(len(examples)), ("body", "examples"), "too_long")


async def append(examples: list[JsonValue], settings: Settings) -> list[Outcome]:
    records: list[object] = list(examples)
    try:
        return await asyncio.to_thread(
            add_examples, records, settings.labels_dir, settings.incoming_labels, LOCK_TIMEOUT_S
        )
    except Timeout:
        raise HTTPException(status_code=503, detail=labels_locked(settings)) from None
    except OSError as exc:
        raise HTTPException(status_code=503, detail=labels_unwritable(settings, exc)) from None


def all_invalid(outcomes: list[Outcome]) -> InputError:
    detail = f"'examples[0]': {outcomes[0].message}"
    if len(outcomes) > 1:
        detail = f"none of the {len(outcomes)} examples is valid; {detail} (see 'errors')"
    error = InputError(detail, ("body", "examples", 0), "invalid_example")
    error.errors = [
        {"loc": ["body", "examples", index], "type": "invalid_example", "msg": outcome.message}
        for index, outcome in enumerate(outcomes)
    ]
    return error


def result_of(outcome: Outcome) -> LabelResult:
    return LabelResult(
        status=outcome.status,
        message=outcome.message,
        existing_label=outcome.existing_label,
        existing_text=outcome.existing_text,
    )
