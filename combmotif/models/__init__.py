"""Sequence models: the Saluki-style predictor, the Keras importer, and model anatomy."""

from .saluki import SalukiModel, build_model

__all__ = ["SalukiModel", "build_model"]
