"""CombMotif: which motifs, and which motif combinations, a sequence model has learned."""

__version__ = "0.1.0"
