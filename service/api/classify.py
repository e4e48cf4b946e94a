"""``/classify`` and ``/classify/batch``: decode, predict through the micro-batcher, encode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import Any, TypeVar

from fastapi import APIRouter

from service.api.deps import BatcherDep, ModelRequired, SettingsDep
from service.api.errors import (
    InputError,
    error_responses,
    field_name,
    text_too_long,
    too_many_texts,
)
from service.schemas import (
    BatchRequest,
    BatchResponse,
    ClassifyRequest,
    ClassifyResponse,
    PredictionResult,
)

router = APIRouter(tags=["classify"])
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def classify_route(path: str, summary: str) -> Callable[[Handler], Handler]:
    """A ``POST`` that needs a model in service and answers the input errors listed."""
    return router.post(
        path,
        summary=summary,
        responses=error_responses(400, 413, 422, 503),
        dependencies=[ModelRequired],
    )


@classify_route("/classify", "Classify one sentence")
async def classify(
    body: ClassifyRequest, settings: SettingsDep, batcher: BatcherDep
) -> ClassifyResponse:
    check_length(body.text, ("text",), settings.max_chars)
    outcome = await batcher.predict([body.text])
    [prediction] = outcome.predictions
    return ClassifyResponse(**asdict(prediction), model_version=outcome.model_version)


@classify_route("/classify/batch", "Classify several sentences in one request")
async def classify_batch(
    body: BatchRequest, settings: SettingsDep, batcher: BatcherDep
) -> BatchResponse:
    check_batch(body.texts, settings.max_batch, settings.max_chars)
    outcome = await batcher.predict(body.texts)
    results = [PredictionResult(**asdict(p)) for p in outcome.predictions]
    return BatchResponse(results=results, model_version=outcome.model_version)


def check_length(text: str, path: tuple[str | int, ...], max_chars: int) -> None:
    if len(text) > max_chars:
        detail = text_too_long(field_name(path), len(text), max_chars)
        raise InputError(detail, ("body", *path), "too_long")


def check_batch(texts: Sequence[str], max_batch: int, max_chars: int) -> None:
    if len(texts) > max_batch:
        detail = too_many_texts("texts", len(texts), max_batch)
        raise InputError(detail, ("body", "texts"), "too_long")
    for index, text in enumerate(texts):
        check_length(text, ("texts", index), max_chars)
