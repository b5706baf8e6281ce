"""IUPAC patterns of motifs: how informative, and whether two are one motif.

The families (:mod:`combmotif.motifs.families`) and the pair candidates
(:mod:`combmotif.interaction.candidates`) speak of motifs through these patterns.
"""

from __future__ import annotations

import functools

import numpy as np

from ..sequences import IUPAC


@functools.lru_cache(maxsize=65536)
def pattern_letters(pattern: str) -> float:
    """Informative letters of an IUPAC pattern: a base is 1, a two-base code 1/2, N 0.

    Parameters
    ----------
    pattern : str
        IUPAC letters.

    Returns
    -------
    float
        Bits of the pattern / 2.
    """
    return float(sum(np.log2(4 / len(IUPAC[c])) for c in pattern.upper()) / 2)


@functools.lru_cache(maxsize=262144)
def patterns_overlap(p: str, q: str, min_overlap: int = 5, min_letters: float = 4.0) -> bool:
    """Whether two IUPAC patterns are one motif cut at other places.

    True when, at some shift, they overlap by at least ``min_overlap`` positions
    (or the whole shorter pattern), every overlapping position is compatible
    (the codes share a base) and the overlap of each holds ``min_letters``
    informative letters (:func:`pattern_letters`): ``ACTTCC`` and ``STTCCG``
    (the same ``ACTTCCG``), not ``ATGNA`` and ``NNATG``.

    Parameters
    ----------
    p, q : str
        IUPAC patterns.
    min_overlap : int
        Fewest overlapping positions.
    min_letters : float
        Information each side of the overlap needs.

    Returns
    -------
    bool
    """
    p, q = p.upper(), q.upper()
    need = min(min_overlap, len(p), len(q))
    for shift in range(-(len(q) - need), len(p) - need + 1):
        lo, hi = max(0, shift), min(len(p), shift + len(q))
        a, b = p[lo:hi], q[lo - shift:hi - shift]
        if (len(a) >= need and all(set(IUPAC[x]) & set(IUPAC[y]) for x, y in zip(a, b))
                and min(pattern_letters(a), pattern_letters(b)) >= min_letters):
            return True
    return False
