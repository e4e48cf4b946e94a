"""The analysts' page at ``/``, its static files, and ``/docs`` served from local assets, on
the fake predictor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.page import STATIC_DIR

ASSET_REFERENCE = re.compile(r"""(?:src|href)=["']?([^"' >]+)""")
MODULE_IMPORT = re.compile(r"""from\s+["']\./([\w.-]+\.js)["']""")
PAGE_BUDGET_BYTES = 64 * 1024
"""README.md states what the page weighs; this keeps it small."""
EXTERNAL_URL = re.compile(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", re.IGNORECASE)


def csp_directives(header: str) -> dict[str, list[str]]:
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def local_assets(html: str) -> list[str]:
    return [url for url in ASSET_REFERENCE.findall(html) if url.startswith("/")]


def test_the_page_is_served_at_the_root(client: TestClient) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>stance</title>" in response.text


def test_the_page_forbids_inline_and_foreign_script(client: TestClient) -> None:
    directives = csp_directives(client.get("/").headers["content-security-policy"])

    assert directives["script-src"] == ["'self'"]
    assert directives["default-src"] == ["'none'"]
    assert directives["connect-src"] == ["'self'"]


def test_the_page_read_from_static_has_the_same_policy(client: TestClient) -> None:
    page = client.get("/").headers["content-security-policy"]

    assert client.get("/static/index.html").headers["content-security-policy"] == page


def test_the_page_has_no_inline_script(client: TestClient) -> None:
    html = client.get("/").text

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert not re.search(r"\son[a-z]+=", html)


def test_every_asset_the_page_names_is_served(client: TestClient) -> None:
    assets = local_assets(client.get("/").text)

    assert {"/static/app.js", "/static/app.css"} <= set(assets)
    for url in assets:
        assert client.get(url).status_code == 200, url


def test_every_module_the_scripts_import_is_served_as_javascript(client: TestClient) -> None:
    scripts = sorted(STATIC_DIR.glob("*.js"))
    imported = {name for path in scripts for name in MODULE_IMPORT.findall(path.read_text())}

    assert imported == {path.name for path in scripts} - {"app.js"}
    for name in imported:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        assert "javascript" in response.headers["content-type"]


@pytest.mark.parametrize("path", sorted(STATIC_DIR.iterdir()), ids=lambda p: p.name)
def test_no_static_file_names_another_host(path: Path) -> None:
    assert not EXTERNAL_URL.search(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(STATIC_DIR.glob("*.js")), ids=lambda p: p.name)
def test_no_script_parses_html(path: Path) -> None:
    parses_html = r"innerHTML|outerHTML|insertAdjacentHTML|document\.write"

    assert not re.search(parses_html, path.read_text())


def test_the_page_stays_small() -> None:
    assert sum(path.stat().st_size for path in STATIC_DIR.iterdir()) < PAGE_BUDGET_BYTES


def test_a_missing_static_file_is_a_404_with_a_detail(client: TestClient) -> None:
    response = client.get("/static/nothing.js")

    assert (response.status_code, response.json()["detail"]) == (
        404,
        "no route GET /static/nothing.js: see /docs for the routes",
    )


def test_the_api_docs_load_their_assets_from_the_service(client: TestClient) -> None:
    html = client.get("/docs").text
    assets = local_assets(html)

    assert not EXTERNAL_URL.search(html)
    assert any(url.endswith(".js") for url in assets)
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 1000, url


def test_the_docs_ask_no_online_validator(client: TestClient) -> None:
    assert '"validatorUrl": null' in client.get("/docs").text


def test_there_is_no_redoc_page(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404


def test_the_docs_oauth2_redirect_is_served(client: TestClient) -> None:
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_the_page_and_docs_stay_out_of_the_openapi_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert not {"/", "/docs"} & set(paths)
