"""Shared core of the stance service and its training pipeline.

Labels and their validator, the fixed split, the model artifact format, the model store and
the predictor live here, so that ``service`` and ``training`` never import each other.
"""
