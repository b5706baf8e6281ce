"""The one definition of a *recovered* planted motif.

A planted motif (IUPAC consensus) is recovered by a motif segment when

- the segment's consensus has at least ``min_identity`` (80 %) identity to it
  (best ungapped alignment, on the given strand for an RNA model: mRNA motifs are
  strand-specific; on both strands for a DNA model, ``both_strands=True``, where a
  segment equal to the motif's reverse complement is the same binding site;
  motif positions overhanging the segment count as mismatches;
  :func:`motif_identity`), or
- Tomtom matches the segment to it (or to a database motif merged with it) at
  q < ``recovery_q`` (0.05), where a Tomtom run exists.

:func:`evidence` applies this rule; the discovery check
(:mod:`combmotif.validation.discovery`) and the method comparison both call it.
The discovery check additionally reports an IUPAC match of the motif inside a
cluster consensus (:func:`find_in`) as a weaker kind of hit.
"""

from __future__ import annotations

import math
import re

import numpy as np

from ..errors import InputError
from ..sequences import IUPAC, iupac_to_regex, reverse_complement

MIN_IDENTITY = 0.8
RECOVERY_Q = 0.05
_BASES = "ACGT"


def _membership(motif: str) -> np.ndarray:
    """(W, 4) bool: which bases each IUPAC letter allows."""
    m = motif.upper().replace("U", "T")
    bad = [c for c in m if c not in IUPAC]
    if bad:
        raise InputError(f"motif {motif!r}: {bad[0]!r} is not an IUPAC code")
    return np.array([[b in IUPAC[c] for b in _BASES] for c in m], dtype=bool)


def motif_identity(motif: str, seq: str, both_strands: bool = False) -> tuple[float, int]:
    """Best fraction of motif positions matched by ``seq`` over ungapped offsets.

    Parameters
    ----------
    motif : str
        IUPAC consensus of the planted motif (U reads as T).
    seq : str
        A consensus (A/C/G/T/U; other letters never match).
    both_strands : bool, default False
        Also align the motif to ``seq``'s reverse complement (DNA).

    Returns
    -------
    tuple of (float, int)
        (identity, offset of the motif start in ``seq``, or in its reverse complement
        when that strand matched better: :func:`stranded_identity`); offsets may be
        negative or run past the end (overhanging positions are mismatches).
    """
    ident, offset, _ = stranded_identity(motif, seq, both_strands)
    return ident, offset


def stranded_identity(motif: str, seq: str, both_strands: bool = True) -> tuple[float, int, str]:
    """:func:`motif_identity` with the strand it was found on.

    Parameters
    ----------
    motif : str
        IUPAC consensus of the planted motif (U reads as T).
    seq : str
        A consensus.
    both_strands : bool, default True
        Also align the motif to ``seq``'s reverse complement.

    Returns
    -------
    tuple of (float, int, str)
        (identity, offset, orientation): orientation ``+`` when the motif aligns to
        ``seq`` as given (offset on ``seq``), ``-`` when it aligns to ``seq``'s reverse
        complement (offset on that strand); ties go to ``+``.
    """
    ident, offset = _identity(motif, seq)
    if both_strands:
        ident_rc, offset_rc = _identity(motif, reverse_complement(seq))
        if ident_rc > ident:
            return ident_rc, offset_rc, "-"
    return ident, offset, "+"


def _identity(motif: str, seq: str) -> tuple[float, int]:
    allowed = _membership(motif)
    w, n = len(allowed), len(seq)
    if n == 0 or w == 0:
        return 0.0, 0
    codes = np.array([_BASES.find(c) for c in seq.upper().replace("U", "T")])
    offsets = np.arange(-(w - 1), n)
    pos = offsets[:, None] + np.arange(w)[None, :]
    inside = (pos >= 0) & (pos < n)
    base = codes[np.clip(pos, 0, n - 1)]
    ok = inside & (base >= 0) & allowed[np.arange(w)[None, :], np.clip(base, 0, 3)]
    score = ok.sum(1)
    best = int(np.argmax(score))
    return float(score[best] / w), int(offsets[best])


def find_in(motif: str, seq: str, both_strands: bool = False) -> int:
    """Start of the first IUPAC match of ``motif`` in ``seq``.

    Parameters
    ----------
    motif : str
        IUPAC consensus (U reads as T).
    seq : str
        The sequence searched.
    both_strands : bool, default False
        Also look for the motif on the reverse strand (DNA) when the given strand has none.

    Returns
    -------
    int
        The start in ``seq`` of the first match (a reverse-strand match: where its
        reverse complement starts in ``seq``), or -1.
    """
    rx = iupac_to_regex(motif.upper().replace("U", "T"))
    seq = seq.upper().replace("U", "T")
    m = re.search(rx, seq)
    if m:
        return m.start()
    if both_strands:
        m = re.search(rx, reverse_complement(seq))
        if m:
            return len(seq) - m.end()
    return -1


def evidence(identity: float, q: float = math.nan, min_identity: float = MIN_IDENTITY,
             recovery_q: float = RECOVERY_Q) -> list[str]:
    """Which kinds of evidence recover a planted motif.

    Parameters
    ----------
    identity : float
        Best :func:`motif_identity` of the motif to a segment consensus.
    q : float, optional
        Best Tomtom q of a segment against the motif (NaN: no match or no run).
    min_identity : float
        Identity at or above which a segment recovers the motif.
    recovery_q : float
        q below which a Tomtom match recovers the motif.

    Returns
    -------
    list of str
        ``"tomtom"`` and/or ``"identity"``, in that order; empty when not recovered.
    """
    by_q = bool(np.isfinite(q) and q < recovery_q)
    return [w for w, ok in (("tomtom", by_q), ("identity", identity >= min_identity)) if ok]
