"""The obvious alternative: a transformers pipeline (one per member of an ensemble) behind a
bare FastAPI route.

One forward pass per request, no batching. ``def`` routes run in FastAPI's thread pool, which
is how such an endpoint is usually written. Run as
``python -m bench.naive_server --model-dir DIR --port N``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from bench.naive import naive_classifier


class TextIn(BaseModel):
    text: str


def create_app(model_dir: Path) -> FastAPI:
    classifier = naive_classifier(model_dir)
    app = FastAPI()

    @app.get("/ready")
    def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/classify")
    def classify(request: TextIn) -> Any:
        return classifier([request.text])[0]

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    uvicorn.run(create_app(args.model_dir), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
