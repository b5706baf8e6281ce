"""Motif files, motif databases, Tomtom matching and the collected tables."""

from .databases import resolve_motif_db
from .formats import Motif, information_content, iupac_to_ppm, read_motifs
from .match import MatchConfig, load_neuron, match_layer
from .meme_writer import write_meme
from .tomtom import read_tomtom_tsv, tomtom, write_tomtom_tsv

__all__ = ["Motif", "MatchConfig", "information_content", "iupac_to_ppm", "load_neuron",
           "match_layer", "read_motifs", "read_tomtom_tsv", "resolve_motif_db", "tomtom",
           "write_meme", "write_tomtom_tsv"]
