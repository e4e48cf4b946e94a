"""What route handlers get injected: the app's settings, model, batcher, metrics; admin auth.

Every dependency is ``async def``: they only read app state, and FastAPI would run a plain
``def`` one in a worker thread, a thread hop per dependency per request.

Admin routes declare ``dependencies=[AdminOnly]`` (or put it on their router).
"""

from __future__ import annotations

import hmac
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.errors import ADMIN_DISABLED, ADMIN_UNAUTHORISED, NO_MODEL
from service.batching import MicroBatcher
from service.config import Settings
from service.metrics import Metrics
from service.model_holder import ModelHolder
from stance.predictor import PredictorProtocol

_bearer = HTTPBearer(
    auto_error=False, description="The service's STANCE_ADMIN_TOKEN, as a bearer token."
)


async def app_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


async def app_metrics(request: Request) -> Metrics:
    return cast(Metrics, request.app.state.metrics)


async def model_holder(request: Request) -> ModelHolder:
    return cast(ModelHolder, request.app.state.holder)


async def micro_batcher(request: Request) -> MicroBatcher:
    return cast(MicroBatcher, request.app.state.batcher)


async def loaded_predictor(
    holder: Annotated[ModelHolder, Depends(model_holder)],
) -> PredictorProtocol:
    """The model in service; 503 with how to train one when there is none."""
    predictor = holder.predictor
    if predictor is None:
        raise HTTPException(status_code=503, detail=NO_MODEL)
    return predictor


async def require_admin(
    settings: Annotated[Settings, Depends(app_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """403 when no admin token is configured, 401 unless the bearer token matches it."""
    if settings.admin_token is None:
        raise HTTPException(status_code=403, detail=ADMIN_DISABLED)
    given = credentials.credentials.encode() if credentials else b""
    expected = settings.admin_token.get_secret_value().encode()
    if not hmac.compare_digest(given, expected):
        raise HTTPException(
            status_code=401, detail=ADMIN_UNAUTHORISED, headers={"WWW-Authenticate": "Bearer"}
        )


SettingsDep = Annotated[Settings, Depends(app_settings)]
MetricsDep = Annotated[Metrics, Depends(app_metrics)]
HolderDep = Annotated[ModelHolder, Depends(model_holder)]
BatcherDep = Annotated[MicroBatcher, Depends(micro_batcher)]
PredictorDep = Annotated[PredictorProtocol, Depends(loaded_predictor)]
ModelRequired = Depends(loaded_predictor)
AdminOnly = Depends(require_admin)
