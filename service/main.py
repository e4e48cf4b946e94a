"""Building the app: routes, error handlers, middleware, and the lifespan that loads the model."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path

from fastapi import FastAPI

from service.api import ROUTERS
from service.api.docs import mount_docs_assets
from service.api.errors import NO_MODEL, install_error_handlers
from service.api.openapi import document_limits
from service.api.page import mount_static
from service.batching import MicroBatcher
from service.config import Settings, get_settings
from service.jobs import retrain_jobs
from service.metrics import Metrics
from service.middleware import BodySizeLimitMiddleware, RequestContextMiddleware
from service.model_holder import ModelHolder, PredictorLoader, ReloadStatus
from stance.actors import Gazetteer, GazetteerError
from stance.predictor import PredictorProtocol
from stance.registry import ModelStore

DESCRIPTION = (
    "Stance of a news sentence toward recognising the Taliban government. "
    "Every response carries the scores of all the model's labels and the model version."
)
logger = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, predictor_loader: PredictorLoader | None = None
) -> FastAPI:
    """The service app; the model is loaded when it starts (its lifespan), not here."""
    settings = settings or get_settings()
    loader = predictor_loader or model_loader(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with serving_models(app, settings, loader), retrain_jobs(app, settings):
            yield

    app = FastAPI(
        title="stance",
        version=version("stance"),
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    for router in ROUTERS:
        app.include_router(router)
    mount_static(app)
    mount_docs_assets(app)
    install_error_handlers(app)
    document_limits(app, settings)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app


def model_loader(settings: Settings) -> PredictorLoader:
    def load(directory: Path) -> PredictorProtocol:
        from stance.predictor import Predictor

        return Predictor.load(
            directory,
            precision=settings.precision,
            batch_size=settings.max_micro_batch,
            threads=settings.threads,
        )

    return load


def load_gazetteer(path: Path) -> Gazetteer:
    """The actor gazetteer; without one, /analyze still answers, with no actors."""
    try:
        return Gazetteer.load(path)
    except GazetteerError as exc:
        logger.warning("no actor gazetteer: /analyze gives no actors", extra={"reason": str(exc)})
        return Gazetteer({})


@asynccontextmanager
async def serving_models(
    app: FastAPI, settings: Settings, loader: PredictorLoader
) -> AsyncIterator[None]:
    """Load the current model, run the micro-batcher and the reload poller; stop them after."""
    app.state.gazetteer = load_gazetteer(settings.actors_path)
    holder = ModelHolder(
        ModelStore(settings.models_dir), loader, app.state.metrics, settings.probe_tolerance
    )
    batcher = MicroBatcher(
        holder, app.state.metrics, settings.max_micro_batch, settings.batch_wait_ms / 1000
    )
    app.state.holder, app.state.batcher = holder, batcher
    if (await holder.reload()).status is ReloadStatus.MISSING:
        logger.warning(NO_MODEL, extra={"models_dir": str(settings.models_dir)})
    batcher.start()
    poller = None
    if settings.reload_interval_s > 0:
        poller = asyncio.create_task(holder.watch(settings.reload_interval_s), name="stance-poller")
    try:
        yield
    finally:
        if poller is not None:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
        await batcher.stop()
