"""``/docs`` renders in a browser from the service's own files."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver import Chrome

from .conftest import Site
from .page import Page

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser: Chrome, site: Site, screenshots: Path) -> Page:
    return Page(browser, site.url, screenshots)


def test_swagger_ui_lists_the_operations_with_no_network(page: Page, site: Site) -> None:
    page.open(path="/docs")

    operations = page.wait(lambda: page.find_all(".opblock-summary-path"))
    requested = page.requests()

    assert "/analyze" in {operation.text for operation in operations}
    assert [url for url in requested if not url.startswith((site.url, "data:"))] == []
    page.screenshot("docs")
