"""Liveness, readiness, the model in service, and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from service.api.deps import MetricsDep, PredictorDep
from service.api.errors import error_responses
from service.schemas import HealthResponse, ModelInfo, ReadyResponse

router = APIRouter(tags=["status"])


@router.get("/health", summary="200 while the process runs")
async def health() -> HealthResponse:
    return HealthResponse()


@router.get(
    "/ready", summary="200 once a model is loaded, else 503", responses=error_responses(503)
)
async def ready(predictor: PredictorDep) -> ReadyResponse:
    return ReadyResponse(model_version=predictor.version)


@router.get("/model", summary="The model in service", responses=error_responses(503))
async def model(predictor: PredictorDep) -> ModelInfo:
    metadata = predictor.metadata
    return ModelInfo(
        version=predictor.version,
        base_model=metadata.base_model,
        labels=list(predictor.labels),
        trained_at=metadata.created_at,
        labels_hash=metadata.labels_hash,
        max_length=metadata.max_length,
        precision=predictor.precision,
        precision_reason=predictor.precision_reason,
        test_metrics=metadata.metrics,
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)
