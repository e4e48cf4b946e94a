"""The stance HTTP service: FastAPI routes over a hot-reloadable, micro-batched predictor.

``service.main.create_app`` builds the app; ``stance-serve`` runs it under uvicorn.
"""
