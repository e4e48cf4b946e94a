"""``stance-serve``: the app under uvicorn, configured by flags and ``STANCE_*`` variables."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import ValidationError

from service.config import Settings
from service.logging import configure_logging
from service.main import create_app

FLAGS = {"host": "--host", "port": "--port", "models_dir": "--models-dir"}
READY = "stance-serve: ready at"
ANY_INTERFACE = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="stance-serve",
        description="Serve the current model of a model store over HTTP: the page at /, the "
        "API documented at /docs.",
        epilog="A flag wins over its STANCE_* variable; every other setting is a STANCE_* "
        "environment variable (README.md, 'Settings').",
    )
    cli.add_argument("--host", help="interface to listen on (STANCE_HOST; default 127.0.0.1)")
    cli.add_argument("--port", type=int, help="TCP port (STANCE_PORT; default 8000)")
    cli.add_argument(
        "--models-dir", type=Path, help="model store to serve (STANCE_MODELS_DIR; default models)"
    )
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    settings = settings_from(parser().parse_args(argv))
    configure_logging(settings.log_level)
    server = AnnouncingServer(
        uvicorn.Config(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_config=None,
            log_level=settings.log_level,
            access_log=False,
            timeout_graceful_shutdown=settings.shutdown_timeout_s,
        )
    )
    server.run()


def settings_from(args: argparse.Namespace) -> Settings:
    """The service settings, the flags given winning over their ``STANCE_*`` variables; a bad
    value exits 2 with one line that names the flag or variable."""
    flags = {name: value for name in FLAGS if (value := getattr(args, name)) is not None}
    try:
        return Settings(**flags)
    except ValidationError as exc:
        sys.stderr.write(f"stance-serve: {settings_error(exc, flags)}\n")
        raise SystemExit(2) from None


class AnnouncingServer(uvicorn.Server):
    """Prints the page's address once the socket listens, so that whoever started the
    service knows where to point a browser."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            sys.stdout.write(f"{READY} {page_address(self.config)}\n")
            sys.stdout.flush()


def page_address(config: uvicorn.Config) -> str:
    host = ANY_INTERFACE.get(config.host, config.host)
    return f"http://{host}:{config.port}/"


def settings_error(exc: ValidationError, flags: dict[str, Any] | None = None) -> str:
    """One line naming the flag or ``STANCE_*`` variable at fault and what is wrong with it."""
    error = exc.errors()[0]
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:
        return f"invalid settings: {message}"
    name = str(error["loc"][0])
    if name in (flags or {}):
        return f"invalid {FLAGS[name]}: {message}"
    return f"invalid setting STANCE_{name.upper()}: {message}"
