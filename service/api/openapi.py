"""The OpenAPI schema, with the length limits that come from the settings written into it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from service.config import Settings


def document_limits(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` state ``max_chars`` and ``max_batch`` on the request bodies
    (/classify, /classify/batch and /suggest), and ``max_document_chars`` on /analyze."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate()["components"]["schemas"]
            schemas["ClassifyRequest"]["properties"]["text"]["maxLength"] = settings.max_chars
            texts = schemas["BatchRequest"]["properties"]["texts"]
            texts["maxItems"] = settings.max_batch
            texts["items"]["maxLength"] = settings.max_chars
            to_rank = schemas["SuggestRequest"]["properties"]["texts"]["anyOf"][0]
            to_rank["maxItems"] = settings.max_batch
            to_rank["items"]["maxLength"] = settings.max_chars
            article = schemas["AnalyzeRequest"]["properties"]
            article["text"]["maxLength"] = settings.max_document_chars
            article["documents"]["maxItems"] = settings.max_batch
            schemas["Document"]["properties"]["text"]["maxLength"] = settings.max_document_chars
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
