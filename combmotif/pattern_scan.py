"""Where a motif finder matches, on arrays of base codes: all rows at once.

A finder (:func:`combmotif.interaction.sites.finder`) is one regular expression
``(?=((?:P1)|(?:P2)|...))`` whose alternatives come from IUPAC patterns: at each
start, group 1 holds the first alternative that matches there. Running it with
:mod:`re` costs a Python call per sequence; here the same answer comes from
boolean arrays: per alternative, the starts where every column allows the base,
then at each start the length of the first alternative that matched. Finders
built from other regular expressions are not handled (:func:`finder_patterns`
returns None, and callers use :mod:`re`).
"""

from __future__ import annotations

import functools
import re

import numpy as np

from .sequences import IUPAC, IUPAC_OF_BASES

_WHOLE = re.compile(r"\(\?=\(((?:\(\?:(?:[ACGT]|\[[ACGT]+\])+\)\|?)+)\)\)")
_TOKEN = re.compile(r"\[([ACGT]+)\]|([ACGT])")


# Letter -> base channel; anything else (N, padding) -> 4, an all-zero column.
_CODE = np.full(256, 4, np.int64)
for _i, _c in enumerate("ACGT"):
    _CODE[ord(_c)] = _i
_ALLOWED = {c: np.array([b in IUPAC[c] for b in "ACGT"] + [False]) for c in IUPAC}


def pattern_hits(codes: np.ndarray, pattern: str) -> np.ndarray:
    """Where an IUPAC pattern starts in each row of codes.

    Parameters
    ----------
    codes : numpy.ndarray
        (M, W) integer codes, 0-3 = A, C, G, T; anything else (4: outside) never matches.
    pattern : str
        IUPAC letters.

    Returns
    -------
    numpy.ndarray
        (M, max(0, W - len(pattern) + 1)) bool: True where a match starts.
    """
    codes = np.where((codes >= 0) & (codes < 4), codes, 4).astype(np.int64)
    m, w = codes.shape
    k = len(pattern)
    hit = np.ones((m, max(0, w - k + 1)), dtype=bool)
    for j, letter in enumerate(pattern.upper()):
        hit &= _ALLOWED[letter][codes[:, j:j + w - k + 1]]
    return hit


def base_codes(text: str) -> np.ndarray:
    """The codes of a text's letters: A, C, G, T = 0..3, anything else 4.

    Parameters
    ----------
    text : str
        ASCII letters.

    Returns
    -------
    numpy.ndarray
        (len(text),) int64.
    """
    return _CODE[np.frombuffer(text.encode(), dtype=np.uint8)]


@functools.lru_cache(maxsize=1024)
def finder_patterns(source: str) -> tuple[str, ...] | None:
    """The alternatives of a finder's pattern as IUPAC patterns, in order.

    Parameters
    ----------
    source : str
        ``finder.pattern``.

    Returns
    -------
    tuple of str or None
        One IUPAC pattern per alternative; None when the pattern is not an IUPAC finder.
    """
    whole = _WHOLE.fullmatch(source)
    if whole is None:
        return None
    out = []
    for alt in whole.group(1).split("|"):
        body = alt[3:-1]                                   # "(?:" ... ")"
        tokens = [a or b for a, b in _TOKEN.findall(body)]
        if "".join(f"[{t}]" if len(t) > 1 else t for t in tokens) != body \
                or any(frozenset(t) not in IUPAC_OF_BASES for t in tokens):
            return None
        out.append("".join(IUPAC_OF_BASES[frozenset(t)] for t in tokens))
    return tuple(out)


def match_lengths(codes: np.ndarray, patterns: tuple[str, ...]) -> np.ndarray:
    """Length of the match a finder reports at each start of each row (0: none).

    Parameters
    ----------
    codes : numpy.ndarray
        (n, T) integer codes, A, C, G, T = 0..3 and 4 for anything else.
    patterns : tuple of str
        :func:`finder_patterns`.

    Returns
    -------
    numpy.ndarray
        (n, T) int64: at each start, the length of the first alternative matching there.
    """
    out = np.zeros(np.shape(codes), dtype=np.int64)
    for pattern in patterns:
        hit = pattern_hits(codes, pattern)
        head = out[:, :hit.shape[1]]
        head[hit & (head == 0)] = len(pattern)
    return out
