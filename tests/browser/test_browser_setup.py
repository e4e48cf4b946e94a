"""A machine without chromium fails the browser tests with the command to run; no skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import require_browser


def test_a_missing_browser_fails_naming_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as failure:
        require_browser(tmp_path / "chromium", tmp_path / "chromedriver")

    assert str(failure.value) == (
        f"{tmp_path / 'chromium'} and {tmp_path / 'chromedriver'} not found: install them "
        "with `apt-get install -y chromium chromium-driver` as root"
    )


def test_an_installed_browser_passes(tmp_path: Path) -> None:
    (tmp_path / "chromium").touch()

    require_browser(tmp_path / "chromium")
