"""The stance HTTP service: FastAPI routes over a hot-reloadable, micro-batched predictor.

``service.main.create_app`` builds the app; ``stance-serve`` (``service.cli``) runs it under
uvicorn.
"""
