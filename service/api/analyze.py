"""``POST /analyze``: split each article into sentences, classify them through the
micro-batcher (one batch per article), and say who holds each stance."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import cast

from fastapi import APIRouter, Request

from service.api.classify import check_length
from service.api.deps import BatcherDep, PredictorDep, SettingsDep
from service.api.errors import InputError, error_responses, too_many_texts
from service.article_schemas import (
    AnalyzeBatchResponse,
    AnalyzeRequest,
    AnalyzeResponse,
    ArticleAnalysis,
    DocumentAnalysis,
)
from service.batching import MicroBatcher
from stance.actors import Gazetteer
from stance.articles import analyze, split_sentences
from stance.predictor import PredictorProtocol

router = APIRouter(tags=["classify"])


@router.post(
    "/analyze",
    summary="Analyze whole articles: each sentence's stance and actor, and a summary",
    responses=error_responses(400, 413, 422, 503),
)
async def analyze_articles(
    body: AnalyzeRequest,
    request: Request,
    settings: SettingsDep,
    batcher: BatcherDep,
    predictor: PredictorDep,
) -> AnalyzeResponse | AnalyzeBatchResponse:
    article = Article(batcher, predictor, cast(Gazetteer, request.app.state.gazetteer))
    if body.text is not None:
        check_length(body.text, ("text",), settings.max_document_chars)
        version, analysis = await article.analyze(body.text)
        return AnalyzeResponse(**analysis.model_dump(), model_version=version)
    documents = body.documents or []
    if len(documents) > settings.max_batch:
        detail = too_many_texts("documents", len(documents), settings.max_batch)
        raise InputError(detail, ("body", "documents"), "too_long")
    for index, document in enumerate(documents):
        check_length(document.text, ("documents", index, "text"), settings.max_document_chars)
    results = await asyncio.gather(*(article.analyze(d.text) for d in documents))
    return AnalyzeBatchResponse(
        documents=[
            DocumentAnalysis(id=d.id, **analysis.model_dump())
            for d, (_, analysis) in zip(documents, results, strict=True)
        ],
        model_version=results[-1][0],
    )


class Article:
    """Analysis of one article on the model in service."""

    def __init__(
        self, batcher: MicroBatcher, predictor: PredictorProtocol, gazetteer: Gazetteer
    ) -> None:
        self.batcher = batcher
        self.predictor = predictor
        self.gazetteer = gazetteer

    async def analyze(self, text: str) -> tuple[str, ArticleAnalysis]:
        """(model version, analysis); all the article's sentences go in one micro-batch job."""
        sentences = split_sentences(text)
        if not sentences:
            empty = analyze([], [], self.predictor.labels, self.gazetteer)
            return self.predictor.version, ArticleAnalysis.model_validate(asdict(empty))
        outcome = await self.batcher.predict([s.text for s in sentences])
        labels = list(outcome.predictions[0].scores)
        analysis = analyze(sentences, outcome.predictions, labels, self.gazetteer)
        return outcome.model_version, ArticleAnalysis.model_validate(asdict(analysis))
