"""Motif pairs that act only in some arrangements (syntax): scanning, planting, the grammar set.

A truth pair with ``arrangements`` (schema in :mod:`combmotif.data.truth_schema`)
adds its interaction only when some occurrence of motifA and some occurrence of
motifB stand in one of the arrangements (an order and a gap range; several
arrangements are an OR). :func:`pair_fires` decides that for every sequence at
once from the motif hit matrices: for each start of the 5' motif, a cumulative
sum over the 3' motif's hits counts the hits whose start falls in the allowed
window, so the scan is a few array operations whatever the gaps.

Planting (:func:`draw_units`, :func:`plant_units`) treats a pair placed in one
arrangement as a single item of the random layout (5' motif, gap of random
bases, 3' motif), so it never overlaps another planted motif. A pair receives
its rule arrangements in a ``planted_co_frequency`` share of the sequences and,
in a ``control_frequency`` share, an arrangement *outside* the rule (the other
order, other gaps up to ``control_gap_max``), so the same motifs also occur
together where they carry no interaction.

:data:`GRAMMAR_SPEC` is the default grammar benchmark (``combmotif generate
grammar``): rules that only syntax can tell apart.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .planting import code_bits, motif_hits, plant
from .truth_schema import pair_arrangements

# The grammar benchmark: ten 6-mers (no ATG; mutually dissimilar: Hamming >= 3 at every offset
# with >= 5 overlapping bases, and so from the synthetic MRL set's 7-mers and Kozak; drawn by
# spec.random_motifs(np.random.default_rng(1000), 10, (6, 6), avoid=those)), baseline only (no uAUG
# or Kozak rule: the set is about syntax). All gaps fit the MRL architecture's conv4 receptive
# field (36 nt): the widest arrangement, O1 ... O2 at gap 20, spans 32 nt.
GRAMMAR_SPEC: dict[str, Any] = {
    "task": "mrl", "n": 60000, "seed": 0, "length": 50, "baseline": 5.0, "target_r2": 0.87,
    "description": "grammar benchmark: hard, soft, order-only and OR syntax beside additive controls",
    "motifs": [
        {"name": "H1", "consensus": "ATTTGA", "effect": 0.4, "planted_frequency": 0.1},
        {"name": "H2", "consensus": "TGCTCT", "effect": 0.3, "planted_frequency": 0.1},
        {"name": "S1", "consensus": "TGCATA", "effect": 0.3, "planted_frequency": 0.1},
        {"name": "S2", "consensus": "AATCCA", "effect": 0.5, "planted_frequency": 0.1},
        {"name": "O1", "consensus": "AACAGA", "effect": 0.4, "planted_frequency": 0.1},
        {"name": "O2", "consensus": "GATAGC", "effect": 0.5, "planted_frequency": 0.1},
        {"name": "X1", "consensus": "AGAATT", "effect": -0.4, "planted_frequency": 0.1},
        {"name": "X2", "consensus": "TCTTGT", "effect": -0.5, "planted_frequency": 0.1},
        {"name": "C1", "consensus": "CACGCT", "effect": -0.5, "planted_frequency": 0.1},
        {"name": "C2", "consensus": "TGTAGG", "effect": 0.4, "planted_frequency": 0.1},
    ],
    "pairs": [
        {"name": "H1+H2", "motifA": "H1", "motifB": "H2", "interaction": 0.8, "syntax": "hard",
         "arrangements": [{"order": "AB", "gap": [2, 2]}],
         "planted_co_frequency": 0.1, "control_frequency": 0.1},
        {"name": "S1+S2", "motifA": "S1", "motifB": "S2", "interaction": 0.7, "syntax": "soft",
         "arrangements": [{"order": "AB", "gap": [0, 8]}],
         "planted_co_frequency": 0.1, "control_frequency": 0.1},
        {"name": "O1+O2", "motifA": "O1", "motifB": "O2", "interaction": -0.6, "syntax": "order",
         "arrangements": [{"order": "AB", "gap": [0, 20]}],
         "planted_co_frequency": 0.1, "control_frequency": 0.1},
        {"name": "X1+X2", "motifA": "X1", "motifB": "X2", "interaction": 0.7, "syntax": "or",
         "arrangements": [{"order": "AB", "gap": [1, 1]}, {"order": "BA", "gap": [5, 5]}],
         "planted_co_frequency": 0.1, "control_frequency": 0.1},
        {"name": "C1+C2", "motifA": "C1", "motifB": "C2", "interaction": 0.0, "syntax": "hard",
         "arrangements": [{"order": "AB", "gap": [4, 4]}],
         "planted_co_frequency": 0.1, "control_frequency": 0.0},
    ],
}


def arrangement_hits(hits_a: np.ndarray, hits_b: np.ndarray, k_a: int, k_b: int, order: str,
                     gap_min: int, gap_max: int) -> np.ndarray:
    """(N,) bool: some A hit and some B hit stand in the arrangement (order, gap range).

    Parameters
    ----------
    hits_a, hits_b : numpy.ndarray
        (N, W_a) and (N, W_b) bool: the motifs' counted window starts.
    k_a, k_b : int
        The motifs' lengths.
    order : {"AB", "BA", "any"}
        AB: A 5' of B; BA: B 5' of A; any: either.
    gap_min, gap_max : int
        Inclusive range of bases between the end of the 5' motif and the start of the 3' one.

    Returns
    -------
    numpy.ndarray
        (N,) bool.
    """
    if order == "any":
        return (arrangement_hits(hits_a, hits_b, k_a, k_b, "AB", gap_min, gap_max)
                | arrangement_hits(hits_a, hits_b, k_a, k_b, "BA", gap_min, gap_max))
    first, second, k1 = (hits_a, hits_b, k_a) if order == "AB" else (hits_b, hits_a, k_b)
    n, w1 = first.shape
    w2 = second.shape[1]
    csum = np.zeros((n, w2 + 1), dtype=np.int32)
    np.cumsum(second, axis=1, out=csum[:, 1:])
    # The 3' motif must start in [p + k1 + gap_min, p + k1 + gap_max] for a 5' start p.
    p = np.arange(w1)
    lo = np.clip(p + k1 + gap_min, 0, w2)
    hi = np.clip(p + k1 + gap_max + 1, 0, w2)
    inside = (csum[:, hi] - csum[:, lo]) > 0
    return (first & inside).any(1)


def pair_fires(codes: np.ndarray, truth: Mapping[str, Any], bits: np.ndarray | None = None
               ) -> dict[str, np.ndarray]:
    """Where each pair with ``arrangements`` acts: {pair name: (N,) bool}; presence pairs are left out.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) integer codes (0..3, 4 = N or padding).
    truth : mapping
        A checked truth dict (motif rules: consensus, start window, frame).
    bits : numpy.ndarray, optional
        ``code_bits(codes)``, when already computed.

    Returns
    -------
    dict of str to numpy.ndarray
        Pair name -> (N,) bool: some arrangement of the pair holds (planted or natural occurrences).
    """
    motifs = {m["name"]: m for m in truth["motifs"]}
    out: dict[str, np.ndarray] = {}
    arranged = [p for p in truth["pairs"] if pair_arrangements(p)]
    if not arranged:
        return out
    bits = code_bits(codes) if bits is None else bits
    hits: dict[str, np.ndarray] = {}
    for p in arranged:
        for side in (p["motifA"], p["motifB"]):
            if side not in hits:
                hits[side] = motif_hits(codes, motifs[side], bits=bits)
        ka, kb = (len(motifs[s]["consensus"]) for s in (p["motifA"], p["motifB"]))
        fires = np.zeros(len(codes), dtype=bool)
        for a in pair_arrangements(p):
            fires |= arrangement_hits(hits[p["motifA"]], hits[p["motifB"]], ka, kb,
                                      a["order"], a["gap_min"], a["gap_max"])
        out[p["name"]] = fires
    return out


def unit_combos(pair: Mapping[str, Any], k_a: int, k_b: int, span: int) -> tuple[np.ndarray, np.ndarray]:
    """The (A-first, gap) placements a pair is planted in: inside its rule, and outside it (controls).

    Parameters
    ----------
    pair : mapping
        A truth pair with ``arrangements`` and optionally ``control_gap_max``.
    k_a, k_b : int
        The motifs' lengths.
    span : int
        Length of the region the pair is planted in (a placement must fit in it).

    Returns
    -------
    rule, control : numpy.ndarray
        (R, 2) and (C, 2) int arrays of rows ``(1 if A is 5' else 0, gap)``, sorted.
    """
    widest = span - k_a - k_b
    rule = set()
    for a in pair_arrangements(pair):
        for a_first in ((1, 0) if a["order"] == "any" else (int(a["order"] == "AB"),)):
            rule.update((a_first, g) for g in range(a["gap_min"], min(a["gap_max"], widest) + 1))
    top = max((g for _, g in rule), default=0)
    cmax = min(widest, int(pair.get("control_gap_max") or top + 10))
    control = {(f, g) for f in (1, 0) for g in range(0, cmax + 1)} - rule
    return (np.array(sorted(rule), dtype=np.int64).reshape(-1, 2),
            np.array(sorted(control), dtype=np.int64).reshape(-1, 2))


def draw_units(rng: np.random.Generator, n: int, pairs: Sequence[Mapping[str, Any]],
               lengths: Mapping[str, int], span: int) -> list[dict]:
    """Which sequences receive each arranged pair, in which placement: one unit per pair and kind.

    For each pair with arrangements, in order: the rule rows (``planted_co_frequency``),
    the control rows (``control_frequency``), then one uniform pick among the rule's and
    the control's placements for every row (drawn for all rows, so the draws do not depend
    on which rows were chosen).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    n : int
        Number of sequences.
    pairs : sequence of mapping
        Truth pairs; those without arrangements are skipped.
    lengths : mapping of str to int
        Motif name -> length.
    span : int
        Length of the planting region.

    Returns
    -------
    list of dict
        One unit per (pair, rule | control) with ``pair``, ``kind``, ``chosen`` (N,) bool,
        ``a_first`` (N,) bool, ``gap`` (N,) int, ``length`` (N,) int.
    """
    units = []
    for p in pairs:
        if not pair_arrangements(p):
            continue
        ka, kb = lengths[p["motifA"]], lengths[p["motifB"]]
        rule, control = unit_combos(p, ka, kb, span)
        rows_rule = rng.random(n) < float(p.get("planted_co_frequency", 0.0))
        rows_ctrl = rng.random(n) < float(p.get("control_frequency") or 0.0)
        for kind, rows, combos in (("rule", rows_rule, rule), ("control", rows_ctrl, control)):
            pick = (rng.random(n) * max(len(combos), 1)).astype(np.int64)
            if not len(combos):
                continue
            a_first, gap = combos[pick, 0].astype(bool), combos[pick, 1]
            units.append({"pair": p, "kind": kind, "chosen": rows, "a_first": a_first, "gap": gap,
                          "length": ka + kb + gap})
    return units


def plant_units(codes: np.ndarray, units: Sequence[Mapping[str, Any]], starts: np.ndarray, kept: np.ndarray,
                consensus: Mapping[str, str], rng: np.random.Generator) -> None:
    """Write the kept units into ``codes`` in place: 5' motif at the unit's start, 3' motif after the gap.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) integer codes, changed in place.
    units : sequence of mapping
        As :func:`draw_units` returns them.
    starts, kept : numpy.ndarray
        (N, U) start of each unit and whether it was placed (from ``random_layout``).
    consensus : mapping of str to str
        Motif name -> consensus.
    rng : numpy.random.Generator
        Source of the bases at degenerate positions.
    """
    for j, u in enumerate(units):
        a, b = u["pair"]["motifA"], u["pair"]["motifB"]
        for a_first in (True, False):
            rows = np.flatnonzero(kept[:, j] & (u["a_first"] == a_first))
            first, second = (a, b) if a_first else (b, a)
            s = starts[rows, j]
            plant(codes, rows, s, consensus[first], rng)
            plant(codes, rows, s + len(consensus[first]) + u["gap"][rows], consensus[second], rng)
