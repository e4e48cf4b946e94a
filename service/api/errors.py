"""Every error answer of the API: JSON with a one-line ``detail`` that says what to fix.

Tests assert these strings word for word; change them knowingly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.batching import NoModelError
from service.schemas import ErrorResponse, ValidationErrorResponse

NO_MODEL = "no model loaded: run `make train` (or stance-train) to create models/current"
NO_CURRENT_MODEL = "models/current does not exist: run `make train` (or stance-train) to create it"
ADMIN_DISABLED = (
    "admin routes are disabled: the admin token is not configured (set STANCE_ADMIN_TOKEN)"
)
ADMIN_UNAUTHORISED = (
    "missing or wrong admin token: send the header 'Authorization: Bearer <STANCE_ADMIN_TOKEN>'"
)
BODY_MISSING = "the request body is missing: send a JSON object with Content-Type: application/json"
BODY_NOT_OBJECT = "the request body must be a JSON object sent with Content-Type: application/json"
BODY_UNPARSABLE = "the request body could not be parsed as JSON"
_FRAMEWORK_PARSE_FAILURE = "There was an error parsing the body"

_BODY_LOCATIONS = ("body", "query", "path", "header", "cookie")
_FIELD_MESSAGES = {
    "missing": "field '{field}' is required",
    "string_type": "'{field}' must be a string",
    "list_type": "'{field}' must be a list of strings",
    "too_short": "'{field}' is empty: send at least one text",
    "blank_text": "'{field}' is empty or only whitespace: send the text to classify",
    "invalid_unicode": "'{field}' is not valid Unicode: {msg}",
}


class InputError(Exception):
    """A request that parsed but breaks a limit set in the settings."""

    def __init__(self, detail: str, loc: Sequence[str | int], kind: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = [{"loc": list(loc), "type": kind, "msg": detail}]


def malformed_json(reason: str, position: object) -> str:
    return f"the request body is not valid JSON: {reason} at character {position}"


def body_too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes: send fewer or shorter texts"


def text_too_long(field: str, length: int, limit: int) -> str:
    return f"'{field}' has {length} characters, more than the limit of {limit}: shorten it"


def too_many_texts(field: str, count: int, limit: int) -> str:
    return f"'{field}' has {count} texts, more than the limit of {limit}: send smaller batches"


def not_found(method: str, path: str) -> str:
    return f"no route {method} {path}: see /docs for the routes"


def method_not_allowed(method: str, path: str, allowed: str) -> str:
    return f"method {method} is not allowed on {path}: use {allowed}"


def internal_error(request_id: str) -> str:
    return f"internal error (request id {request_id}); it was logged, please report it"


def field_name(path: Sequence[str | int]) -> str:
    """``("texts", 2)`` becomes ``texts[2]``."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def describe_validation_error(error: dict[str, Any]) -> tuple[int, str]:
    """The status and one-line detail for the first problem pydantic found."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "json_invalid":
        return 400, malformed_json(error.get("ctx", {}).get("error", "JSON error"), loc[-1])
    path = loc[1:] if loc and loc[0] in _BODY_LOCATIONS else loc
    if not path:
        if kind == "value_error":
            return 422, str(error["msg"]).removeprefix("Value error, ")
        return 422, BODY_MISSING if kind == "missing" else BODY_NOT_OBJECT
    field = field_name(path)
    if kind == "list_type" and path == ("documents",):
        return 422, "'documents' must be a list of objects with 'id' and 'text'"
    template = _FIELD_MESSAGES.get(kind, "'{field}': {msg}")
    return 422, template.format(field=field, msg=error["msg"])


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer with."""
    return {
        code: {"model": ValidationErrorResponse if code == 422 else ErrorResponse} for code in codes
    }


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": list(e.get("loc", ())), "type": e.get("type", ""), "msg": e.get("msg", "")}
        for e in exc.errors()
    ]
    status, detail = describe_validation_error(dict(exc.errors()[0]))
    return JSONResponse({"detail": detail, "errors": errors}, status_code=status)


async def _input_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InputError)
    return JSONResponse({"detail": exc.detail, "errors": exc.errors}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(
        {"detail": _http_detail(request, exc)}, status_code=exc.status_code, headers=exc.headers
    )


def _http_detail(request: Request, exc: StarletteHTTPException) -> str:
    if exc.status_code == 404 and exc.detail == "Not Found":
        return not_found(request.method, request.url.path)
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "another method")
        return method_not_allowed(request.method, request.url.path, allowed)
    if exc.status_code == 400 and exc.detail == _FRAMEWORK_PARSE_FAILURE:
        return BODY_UNPARSABLE
    return str(exc.detail)


async def _no_model(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=503)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InputError, _input_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(NoModelError, _no_model)
