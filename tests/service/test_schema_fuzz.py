"""Property-based: schemathesis sends schema-derived and malformed requests to every route.

The schema comes from the app itself, so the limits from the settings are in it. Cases are
drawn with ``schema.as_strategy`` inside the test, because schemathesis' lazy pytest loader
does not work with this pytest version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.python.asgi import shutdown_lifespans

from service.config import Settings
from service.main import create_app

from .fakes import ADMIN_TOKEN, FakeLoader, point_current

EXAMPLES_PER_MODE = 120
FUZZ_BODY_LIMIT = 1_000_000
"""Generated bodies are not capped in size; a 413 (tested elsewhere) would read as a failure.
Articles are kept to 10,000 characters so that a full batch of them fits."""


@pytest.fixture
def fuzzed_app(
    models_dir: Path, make_settings: Callable[..., Settings], loader: FakeLoader
) -> Iterator[FastAPI]:
    """An app whose lifespan schemathesis runs itself, on its own event loop."""
    point_current(models_dir, "v1")
    settings = make_settings(
        admin_token=ADMIN_TOKEN, max_body_bytes=FUZZ_BODY_LIMIT, max_document_chars=10_000
    )
    yield create_app(settings, predictor_loader=loader)
    shutdown_lifespans()


@pytest.mark.parametrize(
    "mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]
)
def test_no_server_error_and_every_response_matches_the_schema(
    fuzzed_app: FastAPI, mode: schemathesis.GenerationMode
) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)

    @given(case=schema.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate()

    check()
