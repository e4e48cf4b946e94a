"""``GET /admin/versions`` and ``POST /admin/rollback``: see the model store, serve an older
version again (like ``stance-models use VERSION``, without the promotion gate); a version's
confusion-matrix plot from its report."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from service.api.deps import AdminOnly, HolderDep, SettingsDep
from service.api.errors import error_responses
from service.jobs import scalar_metrics
from service.loop_schemas import RollbackRequest, RollbackResponse, VersionSummary
from service.model_holder import ModelHolder
from stance.artifact import CONFUSION_FILE, ArtifactError
from stance.registry import ModelStore, VersionInfo

VERSIONS_NAMED = 5

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[AdminOnly],
    responses=error_responses(401, 403),
)


def no_such_version(version: str, known: list[str]) -> str:
    if not known:
        return f"no version '{version}': the model store is empty"
    listed = ", ".join(known[-VERSIONS_NAMED:])
    more = " (GET /admin/versions lists them all)" if len(known) > VERSIONS_NAMED else ""
    return f"no version '{version}': the latest versions are {listed}{more}"


def unusable_version(version: str, reason: str) -> str:
    return f"version '{version}' cannot be served: {reason}; current is unchanged"


def refused_version(version: str, reason: str | None, previous: str | None, serving: str) -> str:
    current = f"current is back on '{previous}'" if previous else "current still points at it"
    return f"version '{version}' refused ({reason}); {current} and {serving} keeps serving"


def no_confusion_matrix(version: str) -> str:
    return f"version '{version}' has no {CONFUSION_FILE}: its report was not written"


@router.get("/versions", summary="The versions in the model store, newest last")
async def versions(settings: SettingsDep, holder: HolderDep) -> list[VersionSummary]:
    infos = await asyncio.to_thread(ModelStore(settings.models_dir).describe)
    return [summary(info, holder.serving) for info in infos]


@router.get(
    "/versions/{version}/confusion-matrix",
    summary="The confusion-matrix plot of a version's report (PNG)",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}, **error_responses(404)},
)
async def confusion_matrix(version: str, settings: SettingsDep) -> FileResponse:
    store = ModelStore(settings.models_dir)
    known = await asyncio.to_thread(store.versions)
    if version not in known:
        raise HTTPException(status_code=404, detail=no_such_version(version, known))
    plot = store.path(version) / CONFUSION_FILE
    if not plot.is_file():
        raise HTTPException(status_code=404, detail=no_confusion_matrix(version))
    return FileResponse(plot, media_type="image/png")


@router.post(
    "/rollback",
    summary="Make an existing version current and serve it now",
    responses=error_responses(400, 404, 409, 413, 422),
)
async def rollback(
    body: RollbackRequest, settings: SettingsDep, holder: HolderDep
) -> RollbackResponse:
    store = ModelStore(settings.models_dir)
    known = await asyncio.to_thread(store.versions)
    if body.version not in known:
        raise HTTPException(status_code=404, detail=no_such_version(body.version, known))
    previous = store.current_version()
    try:
        await asyncio.to_thread(store.set_current, body.version)
    except ArtifactError as exc:
        detail = unusable_version(body.version, str(exc))
        raise HTTPException(status_code=409, detail=detail) from None
    await serve_or_restore(store, holder, body.version, previous)
    return RollbackResponse(model_version=body.version, previous_version=previous)


async def serve_or_restore(
    store: ModelStore, holder: ModelHolder, version: str, previous: str | None
) -> None:
    """Serve ``version`` now; if the service refuses it, point current back where it was."""
    result = await holder.reload(retry_refused=True)
    if holder.serving == version:
        return
    if previous is not None:
        await asyncio.to_thread(store.set_current, previous)
    serving = f"'{holder.serving}'" if holder.serving else "no model"
    detail = refused_version(version, result.reason, previous, serving)
    raise HTTPException(status_code=409, detail=detail)


def summary(info: VersionInfo, serving: str | None) -> VersionSummary:
    metadata = info.metadata
    return VersionSummary(
        version=info.version,
        current=info.is_current,
        serving=info.version == serving,
        created_at=metadata.created_at if metadata else None,
        labels_hash=metadata.labels_hash if metadata else None,
        test_macro_f1=metadata.macro_f1 if metadata else None,
        test_metrics=scalar_metrics(metadata.metrics) if metadata else {},
        error=info.error,
    )
