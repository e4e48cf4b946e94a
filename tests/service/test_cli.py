"""``stance-serve``'s flags: --help, flags over ``STANCE_*`` variables, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI

from service.cli import main, page_address, parser, settings_from


def test_help_lists_the_flags_and_starts_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])

    usage = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert all(flag in usage for flag in ("--host", "--port", "--models-dir"))


def test_flags_win_over_their_stance_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STANCE_HOST", "0.0.0.0")
    monkeypatch.setenv("STANCE_PORT", "1234")
    monkeypatch.setenv("STANCE_MODELS_DIR", "/srv/env-models")

    settings = settings_from(parser().parse_args(["--port", "9000", "--models-dir", "/srv/m"]))

    assert (settings.host, settings.port, settings.models_dir) == ("0.0.0.0", 9000, Path("/srv/m"))


def test_a_bad_flag_value_exits_2_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--port", "0"])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "stance-serve: invalid --port: Input should be greater than or equal to 1\n"
    )


def test_the_address_printed_for_every_interface_is_one_a_browser_can_open() -> None:
    config = uvicorn.Config(FastAPI(), host="0.0.0.0", port=9000)

    assert page_address(config) == "http://127.0.0.1:9000/"
