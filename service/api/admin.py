"""Admin routes, behind the admin bearer token."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from service.api.deps import AdminOnly, HolderDep
from service.api.errors import NO_CURRENT_MODEL, error_responses
from service.model_holder import ReloadResult, ReloadStatus
from service.schemas import ReloadResponse

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[AdminOnly],
    responses=error_responses(401, 403),
)


@router.post(
    "/reload",
    summary="Serve the version models/current points at now",
    responses=error_responses(409),
)
async def reload(holder: HolderDep) -> ReloadResponse:
    result = await holder.reload(retry_refused=True)
    if result.serving and result.status is ReloadStatus.LOADED:
        return ReloadResponse(status="loaded", model_version=result.serving)
    if result.serving and result.status is ReloadStatus.UNCHANGED:
        return ReloadResponse(status="unchanged", model_version=result.serving)
    raise HTTPException(status_code=409, detail=reload_failure(result))


def reload_failure(result: ReloadResult) -> str:
    serving = f"'{result.serving}' keeps serving" if result.serving else "no model is serving"
    if result.status is ReloadStatus.MISSING:
        return f"{NO_CURRENT_MODEL}; {serving}"
    return f"model '{result.target}' refused ({result.reason}); {serving}"
