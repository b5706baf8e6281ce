"""Planted motifs on integer-coded sequences: scanning, planting and ``planted.meme``.

Everything here works on integer-coded sequences ``(N, L)`` int8 (A,C,G,T =
0..3, 4 = N or padding): matching a motif is one boolean lookup per motif
column over all sequences and windows at once. The truth file these motifs
come from is read and checked by :mod:`combmotif.data.truth`.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..io import write_text
from ..motifs.formats import Motif
from ..motifs.meme_writer import format_meme
from ..sequences import DNA, IUPAC, encode_indices, onehot_to_codes

# ----------------------------------------------------------------------------- motif scanning

def iupac_mask(consensus: str, source: str = "consensus") -> np.ndarray:
    """IUPAC consensus -> (k, 5) bool: which code (A,C,G,T,N) each position accepts.

    N in a *sequence* (code 4) never matches, so a motif is never called on
    unknown bases or padding.

    Parameters
    ----------
    consensus : str
        IUPAC letters (U read as T).
    source : str
        Where the consensus comes from, for the error message.

    Returns
    -------
    numpy.ndarray
        (k, 5) bool; the N column is always False.
    """
    cons = str(consensus).upper().replace("U", "T")
    if not cons:
        raise InputError(f"{source}: empty consensus")
    mask = np.zeros((len(cons), 5), dtype=bool)
    for j, c in enumerate(cons):
        if c not in IUPAC:
            raise InputError(f"{source}: {c!r} in {consensus!r} is not an IUPAC code")
        for b in IUPAC[c]:
            mask[j, DNA.index(b)] = True
    return mask


def code_bits(codes: np.ndarray) -> np.ndarray:
    """(N, L) codes -> (N, L) uint8 bit per base (A=1, C=2, G=4, T=8; N/padding = 16).

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) integer codes 0..4.

    Returns
    -------
    numpy.ndarray
        (N, L) uint8 bits.
    """
    return np.left_shift(np.uint8(1), np.asarray(codes).astype(np.uint8))


def scan(codes: np.ndarray, consensus: str, bits: np.ndarray | None = None) -> np.ndarray:
    """Where ``consensus`` matches: (N, L-k+1) bool, True at every window start that matches.

    One vectorised bitwise test per motif column (k is at most a dozen), never a
    loop over sequences or positions. ``bits`` (from :func:`code_bits`) may be
    passed to share that conversion between motifs.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) integer codes.
    consensus : str
        IUPAC letters.
    bits : numpy.ndarray, optional
        ``code_bits(codes)``, when already computed.

    Returns
    -------
    numpy.ndarray
        (N, L-k+1) bool (no column when the motif is longer than the sequences).
    """
    if bits is None:
        bits = code_bits(codes)
    allowed = (iupac_mask(consensus)[:, :4] * np.array([1, 2, 4, 8])).sum(1).astype(np.uint8)
    k = len(allowed)
    n, length = bits.shape
    width = length - k + 1
    if width <= 0:
        return np.zeros((n, 0), dtype=bool)
    hit = (bits[:, :width] & allowed[0]) != 0
    for j in range(1, k):
        hit &= (bits[:, j:j + width] & allowed[j]) != 0
    return hit


def window_mask(width: int, lo: np.ndarray | int, hi: np.ndarray | int,
                frame: str | None = None, cds_start: int | None = None) -> np.ndarray:
    """(N, width) or (1, width) bool of allowed window starts ``lo <= p <= hi`` (per sequence).

    ``frame='in'`` keeps starts with ``(cds_start - p) % 3 == 0`` (in frame with a
    CDS beginning at ``cds_start``); ``frame='out'`` keeps the others.

    Parameters
    ----------
    width : int
        Number of window starts.
    lo, hi : int or numpy.ndarray
        Inclusive bounds, scalars or one per sequence.
    frame : {"in", "out"}, optional
        Reading-frame rule relative to ``cds_start``.
    cds_start : int or numpy.ndarray, optional
        CDS start, needed with ``frame``.

    Returns
    -------
    numpy.ndarray
        Bool mask of allowed starts.
    """
    p = np.arange(width)[None, :]
    lo = np.atleast_1d(np.asarray(lo))[:, None]
    hi = np.atleast_1d(np.asarray(hi))[:, None]
    ok = (p >= lo) & (p <= hi)
    if frame is not None:
        cds = np.atleast_1d(np.asarray(cds_start))[:, None]
        inframe = (cds - p) % 3 == 0
        if frame == "in":
            ok &= inframe
        elif frame == "out":
            ok &= ~inframe
        else:
            raise InputError(f"frame must be 'in', 'out' or null, got {frame!r}")
    return ok


def motif_hits(codes: np.ndarray, motif: Mapping[str, Any], lo: np.ndarray | int | None = None,
               hi: np.ndarray | int | None = None, cds_start: np.ndarray | int | None = None,
               bits: np.ndarray | None = None) -> np.ndarray:
    """(N, W) bool of the matches of a truth.json motif that count under its rule.

    ``lo``/``hi`` (inclusive window starts, scalars or per-sequence arrays)
    default to the motif's ``start_min``/``start_max``; ``cds_start`` to its
    ``cds_start``; ``bits`` as in :func:`scan`.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) integer codes.
    motif : mapping
        A truth.json motif entry.
    lo, hi : int or numpy.ndarray, optional
        Window-start bounds replacing the motif's.
    cds_start : int or numpy.ndarray, optional
        CDS start replacing the motif's.
    bits : numpy.ndarray, optional
        ``code_bits(codes)``, when already computed.

    Returns
    -------
    numpy.ndarray
        (N, W) bool.
    """
    hit = scan(codes, motif["consensus"], bits)
    width = hit.shape[1]
    lo = motif.get("start_min", 0) if lo is None else lo
    hi = motif.get("start_max", width - 1) if hi is None else hi
    lo = 0 if lo is None else lo
    hi = width - 1 if hi is None else hi
    frame = motif.get("frame")
    cds = motif.get("cds_start") if cds_start is None else cds_start
    return hit & window_mask(width, lo, hi, frame, cds)


def additive_label(present: Mapping[str, np.ndarray], truth: Mapping[str, Any],
                   pair_present: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """baseline + sum of motif effects where present + pair interactions where the pair's rule holds.

    Parameters
    ----------
    present : mapping of str to numpy.ndarray
        Motif name -> (N,) bool: the motif counts in that sequence.
    truth : mapping
        The truth (``baseline``, ``motifs`` with ``effect``, ``pairs`` with ``interaction``).
    pair_present : mapping of str to numpy.ndarray, optional
        Pair name -> (N,) bool where the pair's rule holds (pairs with arrangements,
        :func:`combmotif.data.grammar.pair_fires`); a pair not in it acts when both
        motifs are present.

    Returns
    -------
    numpy.ndarray
        (N,) float64 noise-free labels.
    """
    n = len(next(iter(present.values()))) if present else 0
    y = np.full(n, float(truth["baseline"]), dtype=np.float64)
    for m in truth["motifs"]:
        y += float(m["effect"]) * present[m["name"]]
    pair_present = pair_present or {}
    for p in truth["pairs"]:
        fires = pair_present.get(p["name"])
        if fires is None:
            fires = present[p["motifA"]] & present[p["motifB"]]
        y += float(p["interaction"]) * fires
    return y


def to_codes(x: Any, length: int | None = None, source: str = "input") -> np.ndarray:
    """Strings, (N, 4, L) one-hot or (N, L) codes -> (N, L) int8 codes (4 = N or padding).

    Parameters
    ----------
    x : str, sequence of str or array
        The sequences.
    length : int, optional
        Cut (or, for strings, pad) to this width.
    source : str
        Where they come from, for the error message.

    Returns
    -------
    numpy.ndarray
        (N, L) int8 codes.
    """
    if isinstance(x, np.ndarray) or hasattr(x, "numpy"):
        arr = np.asarray(x)
        if arr.ndim == 3:
            if arr.shape[1] < 4:
                raise InputError(f"{source}: one-hot array needs >= 4 channels, got shape {arr.shape}")
            codes = onehot_to_codes(arr[:, :4, :])
        elif arr.ndim == 2 and np.issubdtype(arr.dtype, np.integer):
            codes = arr.astype(np.int8)
        elif arr.ndim == 1:
            return to_codes([str(s) for s in arr], length, source)
        else:
            raise InputError(f"{source}: expected strings, (N,4,L) one-hot or (N,L) codes, got shape {arr.shape}")
        if length is not None:
            codes = codes[:, :length]
        return codes
    if isinstance(x, str):
        x = [x]
    return encode_indices(list(x), length, source)


# ----------------------------------------------------------------------------- planting

def choose_planted(rng: np.random.Generator, n: int, motifs: Sequence[dict],
                   pairs: Sequence[dict]) -> np.ndarray:
    """(n, len(motifs)) bool: which sequences receive which motif.

    Each motif is drawn at its ``planted_frequency``; each pair is then forced
    into a further ``planted_co_frequency`` of sequences (both members at once)
    so that pair effects can be estimated.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    n : int
        Number of sequences.
    motifs : sequence of dict
        Truth motifs with ``name`` and ``planted_frequency``.
    pairs : sequence of dict
        Truth pairs with ``motifA``, ``motifB`` and ``planted_co_frequency``.

    Returns
    -------
    numpy.ndarray
        (n, len(motifs)) bool.
    """
    names = [m["name"] for m in motifs]
    chosen = rng.random((n, len(motifs))) < np.array([m["planted_frequency"] for m in motifs])
    for p in pairs:
        both = rng.random(n) < p["planted_co_frequency"]
        chosen[:, names.index(p["motifA"])] |= both
        chosen[:, names.index(p["motifB"])] |= both
    return chosen


def random_layout(rng: np.random.Generator, chosen: np.ndarray, lengths: Sequence[int],
                  span: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping random start positions for the chosen motifs of every sequence.

    ``chosen`` is (N, M) bool (motif m is planted in sequence i), ``lengths`` the
    M motif lengths, ``span`` the region length (scalar or per sequence). Motifs
    go in a random order with random gaps between them (cut points drawn
    uniformly from the free space), so positions are spread over the whole
    region and never overlap. Where the chosen motifs do not fit, the last ones
    in the random order are dropped.

    Returns ``(starts, kept)``: (N, M) int offsets from the region start and the
    (N, M) bool of motifs actually placed.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    chosen : numpy.ndarray
        (N, M) bool.
    lengths : sequence of int or numpy.ndarray
        The M motif lengths, or (N, M) lengths per sequence.
    span : int or numpy.ndarray
        Region length, scalar or per sequence.

    Returns
    -------
    tuple of numpy.ndarray
        ``(starts, kept)`` as described above.
    """
    chosen = np.asarray(chosen, dtype=bool)
    n, m = chosen.shape
    # (M,) lengths, or (N, M) when an item's length differs between sequences (a motif pair
    # with a drawn gap between its members is one item).
    lens = np.broadcast_to(np.asarray(lengths, dtype=np.int64), (n, m))
    span = np.broadcast_to(np.asarray(span, dtype=np.int64), (n,))
    order = np.argsort(rng.random((n, m)), axis=1)            # random order per sequence
    rows = np.arange(n)[:, None]
    ch = chosen[rows, order]
    ln = np.where(ch, lens[rows, order], 0)
    # Drop the tail of the order while the chosen motifs overflow the region.
    fits = np.cumsum(ln, axis=1) <= span[:, None]
    ch &= fits
    ln = np.where(ch, ln, 0)
    free = span - ln.sum(1)
    cuts = np.sort((rng.random((n, m)) * (free[:, None] + 1)).astype(np.int64), axis=1)
    before = np.cumsum(ln, axis=1) - ln                        # length of motifs placed earlier
    starts_ordered = cuts + before
    starts = np.empty_like(starts_ordered)
    kept = np.empty_like(ch)
    starts[rows, order] = starts_ordered
    kept[rows, order] = ch
    return starts, kept


def plant(codes: np.ndarray, rows: np.ndarray, starts: np.ndarray, consensus: str,
          rng: np.random.Generator) -> None:
    """Write one instance of ``consensus`` into ``codes[rows, starts:starts+k]`` in place.

    Degenerate IUPAC positions are filled with a base drawn uniformly from the
    allowed ones, independently per instance.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) integer codes, changed in place.
    rows : numpy.ndarray
        Sequences that receive the motif.
    starts : numpy.ndarray
        Start position in each of them.
    consensus : str
        IUPAC letters.
    rng : numpy.random.Generator
        Source of the degenerate bases.
    """
    mask = iupac_mask(consensus)[:, :4]
    k = len(mask)
    rows = np.asarray(rows)
    if rows.size == 0:
        return
    # For each motif column: pick uniformly among allowed bases.
    counts = mask.sum(1)
    pick = (rng.random((rows.size, k)) * counts[None, :]).astype(np.int64)
    allowed = [np.flatnonzero(mask[j]) for j in range(k)]
    lut = np.full((k, 4), -1, dtype=np.int8)
    for j in range(k):
        lut[j, :len(allowed[j])] = allowed[j]
    bases = lut[np.arange(k)[None, :], pick]
    cols = np.asarray(starts)[:, None] + np.arange(k)[None, :]
    codes[rows[:, None], cols] = bases


# ----------------------------------------------------------------------------- MEME output

def consensus_ppm(consensus: str, pseudocount: float = 1e-3) -> np.ndarray:
    """(k, 4) letter-probability matrix: uniform over each IUPAC code's bases, plus a tiny pseudocount.

    Parameters
    ----------
    consensus : str
        IUPAC letters.
    pseudocount : float
        Added to each probability before renormalising.

    Returns
    -------
    numpy.ndarray
        (k, 4) PPM.
    """
    mask = iupac_mask(consensus)[:, :4].astype(np.float64)
    ppm = mask / mask.sum(1, keepdims=True) + pseudocount
    return ppm / ppm.sum(1, keepdims=True)


def meme_text(motifs: Sequence[Mapping[str, Any]], pseudocount: float = 1e-3, nsites: int = 20) -> str:
    """MEME (version 4, minimal) text with one letter-probability matrix per planted motif.

    Parameters
    ----------
    motifs : sequence of mapping
        Truth entries with ``name`` and IUPAC ``consensus`` (the alternative name written);
        an entry with a ``ppm`` (sites sampled from a matrix: the DNA set) is written with
        that matrix and its ``altname`` instead.
    pseudocount : float
        Added to each letter's probability before renormalising (see :func:`consensus_ppm`).
    nsites : int
        The ``nsites`` written for every motif.

    Returns
    -------
    str
        The text of ``planted.meme``.
    """
    return format_meme([_planted_motif(m, pseudocount, nsites) for m in motifs], compact=True)


def _planted_motif(m: Mapping[str, Any], pseudocount: float, nsites: int) -> Motif:
    """A truth entry as a MEME motif: its planted ``ppm`` and ``altname`` when it has them
    (the DNA set), else its IUPAC consensus as a PPM, named by the consensus."""
    if "ppm" in m:
        return Motif(str(m["name"]), np.asarray(m["ppm"], dtype=np.float64),
                     altname=str(m.get("altname") or m["consensus"]), nsites=nsites)
    return Motif(str(m["name"]), consensus_ppm(m["consensus"], pseudocount),
                 altname=str(m["consensus"]).upper(), nsites=nsites)


def write_meme(path: str | os.PathLike, motifs: Sequence[Mapping[str, Any]], pseudocount: float = 1e-3) -> None:
    """Write ``planted.meme`` atomically (see :func:`meme_text`).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    motifs : sequence of mapping
        Truth motif entries.
    pseudocount : float
        As :func:`meme_text`.
    """
    write_text(path, meme_text(motifs, pseudocount))
