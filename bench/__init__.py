"""Benchmarks: the project's predictor and service against plain transformers baselines.

``python -m bench`` (``make bench``) measures everything in one run and writes
``bench/results.md`` and ``bench/results.png``; raw figures and server logs go to ``bench/out/``.
"""
