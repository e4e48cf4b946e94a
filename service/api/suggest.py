"""``POST /suggest``: the unlabelled sentences the model is least sure about, to label next."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException

from service.api.classify import check_batch
from service.api.deps import BatcherDep, PredictorDep, SettingsDep
from service.api.errors import error_responses
from service.config import Settings
from service.loop_schemas import Suggestion, SuggestRequest, SuggestResponse
from stance.suggest import Pool, labelled_texts, rank, read_pool, unlabelled

router = APIRouter(tags=["labels"])


def no_default_pool(settings: Settings, reason: str) -> str:
    return (
        f"no 'texts' were sent and the default pool {settings.suggest_pool} cannot be read "
        f"({reason}): send the texts to rank"
    )


@router.post(
    "/suggest",
    summary="Rank unlabelled sentences by how unsure the model is",
    responses=error_responses(400, 404, 413, 422, 503),
)
async def suggest(
    body: SuggestRequest, settings: SettingsDep, batcher: BatcherDep, predictor: PredictorDep
) -> SuggestResponse:
    if body.texts is not None:
        check_batch(body.texts, settings.max_batch, settings.max_chars)
    pool = await asyncio.to_thread(unlabelled_pool, body.texts, settings)
    suggestions: list[Suggestion] = []
    version = predictor.version
    if pool.texts:
        outcome = await batcher.predict(pool.texts)
        ranked = rank(pool.texts, outcome.predictions, body.k, body.include_none)
        suggestions = [Suggestion(**vars(s)) for s in ranked]
        version = outcome.model_version
    return SuggestResponse(
        suggestions=suggestions,
        model_version=version,
        ranked=len(pool.texts),
        skipped_labelled=pool.labelled,
        skipped_repeated=pool.repeated,
    )


def unlabelled_pool(texts: list[str] | None, settings: Settings) -> Pool:
    if texts is None:
        texts = default_pool(settings)
    return unlabelled(texts, labelled_texts(settings.labels_dir, settings.incoming_labels))


def default_pool(settings: Settings) -> list[str]:
    try:
        return read_pool(settings.suggest_pool)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise HTTPException(status_code=404, detail=no_default_pool(settings, reason)) from None
