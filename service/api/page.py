"""``GET /``: the analysts' page, static files from ``service/static`` with no build step.

The page's Content-Security-Policy allows scripts, styles, images and requests from this
service only, so no inline script runs and nothing reaches another host. Images may also be
``blob:`` URLs: the page fetches a version's confusion matrix with the admin token and shows
it from memory.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
STATIC_PATH = "/static"
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter()


@router.get("/", include_in_schema=False)
async def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)


class PageFiles(StaticFiles):
    """The page's files, each sent with the page's headers (``/static/index.html`` too)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(PAGE_HEADERS)
        return response


def mount_static(app: FastAPI) -> None:
    """The page's scripts and styles under ``/static``, with the page's own policy."""
    app.mount(STATIC_PATH, PageFiles(directory=STATIC_DIR), name="static")
