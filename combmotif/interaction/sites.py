"""Motif sites in fragments: every match of a pattern, and the pair of sites to mutate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..pattern_scan import base_codes, finder_patterns, match_lengths
from ..sequences import pattern_regex
from .labels import Combination


def finder(patterns: Sequence[str]) -> re.Pattern:
    """One regex finding every (also overlapping) match of any pattern, via a lookahead.

    Parameters
    ----------
    patterns : sequence of str
        IUPAC patterns or regular expressions.

    Returns
    -------
    re.Pattern
        Group 1 of each match holds the matched text.
    """
    alts = "|".join(f"(?:{pattern_regex(p).pattern})" for p in patterns)
    return re.compile(f"(?=({alts}))")


def find_spans(text: str, finder: re.Pattern) -> list[tuple[int, int]]:
    """``[(start, end)]`` of every match in ``text`` (overlapping matches included).

    Parameters
    ----------
    text : str
        The sequence.
    finder : re.Pattern
        From :func:`finder`.

    Returns
    -------
    list of (int, int)
    """
    return [(m.start(), m.start() + len(m.group(1))) for m in finder.finditer(text) if m.group(1)]


def choose_pair(a_spans: Sequence[tuple[int, int]], b_spans: Sequence[tuple[int, int]],
                homotypic: bool = False) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The closest pair of non-overlapping A and B sites (ties: leftmost), or None.

    For a homotypic pair only unordered site pairs count (A left of B), so the
    two roles of one pair of sites are one observation.

    Parameters
    ----------
    a_spans, b_spans : sequence of (int, int)
        Sites of A and of B.
    homotypic : bool
        Whether A and B are the same motif.

    Returns
    -------
    ((int, int), (int, int)) or None
        The A site and the B site.
    """
    best, best_key = None, None
    for a in a_spans:
        for b in b_spans:
            if a[0] < b[1] and b[0] < a[1]:
                continue  # overlapping sites are one site, not a pair
            if homotypic and a[0] > b[0]:
                continue
            gap = max(a[0], b[0]) - min(a[1], b[1])
            key = (gap, min(a[0], b[0]), a[0])
            if best_key is None or key < best_key:
                best, best_key = (a, b), key
    return best


@dataclass
class Plan:
    """The chosen sites, one row per sequence: absolute spans in the full sequence."""

    seq: np.ndarray
    a: np.ndarray       # (n, 2) start, end
    b: np.ndarray
    n_candidates: int   # sequences with a fragment at all


def plan_sites(texts: Sequence[str], seq: np.ndarray, offset: np.ndarray, combo: Combination,
               max_sequences: int | None = None, spans: dict | None = None) -> Plan:
    """Pick, per sequence, the first fragment (in the given order) holding a pair of sites.

    ``texts`` are the fragments' sequences (``N`` outside the sequence never
    matches), ``offset`` the position of each fragment's first letter in its
    full sequence. Fragments must come grouped by sequence, strongest first.

    Parameters
    ----------
    texts : sequence of str
        The fragments' sequences.
    seq : numpy.ndarray
        Each fragment's sequence index.
    offset : numpy.ndarray
        Each fragment's start in its sequence.
    combo : Combination
        The pair.
    max_sequences : int, optional
        Stop after this many sequences.
    spans : dict, optional
        A cache shared by the calls over the same ``texts``: each motif's sites in every
        text, found once however many pairs hold the motif.

    Returns
    -------
    Plan
    """
    n_candidates = len(set(np.asarray(seq).tolist()))
    if spans is None:
        fa, fb = finder(combo.motifA), finder(combo.motifB)
        site_a = (find_spans(t, fa) for t in texts)
        site_b = (find_spans(t, fb) for t in texts)
    else:
        all_a, all_b = (_all_sites(texts, tuple(m), spans) for m in (combo.motifA, combo.motifB))
        # only texts holding both motifs can give a pair: the others are skipped unread
        both = np.flatnonzero(all_a.found & all_b.found)
        site_a, site_b = (all_a[i] for i in both), (all_b[i] for i in both)
        seq, offset = np.asarray(seq)[both], np.asarray(offset)[both]
    done: set[int] = set()
    rows = []
    for sa, sb, s, off in zip(site_a, site_b, seq.tolist(), offset.tolist()):
        if s in done:
            continue
        pair = choose_pair(sa, sb, combo.homotypic)
        if pair is None:
            continue
        done.add(s)
        (a0, a1), (b0, b1) = pair
        rows.append((s, a0 + off, a1 + off, b0 + off, b1 + off))
        if max_sequences is not None and len(rows) >= max_sequences:
            break
    arr = np.array(rows, dtype=np.int64).reshape(-1, 5)
    return Plan(seq=arr[:, 0], a=arr[:, 1:3], b=arr[:, 3:5], n_candidates=n_candidates)


class _Sites:
    """Every text's sites of one motif: ``sites[i]`` is :func:`find_spans` of text ``i``."""

    def __init__(self, texts: Sequence[str], f: re.Pattern, codes: Callable[[], np.ndarray] | None = None):
        patterns = finder_patterns(f.pattern)
        if patterns is None:
            self._lists = [find_spans(t, f) for t in texts]
            self.found = np.array([bool(x) for x in self._lists], dtype=bool)
            return
        lengths = match_lengths(codes() if codes is not None else text_codes(texts), patterns)
        rows, self._start = np.nonzero(lengths)          # row-major: by text, then start
        self._end = self._start + lengths[rows, self._start]
        self._bounds = np.searchsorted(rows, np.arange(len(texts) + 1))
        self.found = self._bounds[1:] > self._bounds[:-1]
        self._lists = None

    def __getitem__(self, i: int) -> list[tuple[int, int]]:
        if self._lists is not None:
            return self._lists[i]
        a, b = self._bounds[i], self._bounds[i + 1]
        return list(zip(self._start[a:b].tolist(), self._end[a:b].tolist()))


def text_codes(texts: Sequence[str]) -> np.ndarray:
    """Base codes of texts of any lengths, the shorter ones padded with N (never matched).

    Parameters
    ----------
    texts : sequence of str
        The sequences.

    Returns
    -------
    numpy.ndarray
        (n, longest) codes 0-4.
    """
    width = max((len(t) for t in texts), default=0)
    return base_codes("".join(t.ljust(width, "N") for t in texts)).reshape(len(texts), width)


def _all_sites(texts: Sequence[str], patterns: tuple[str, ...], cache: dict) -> _Sites:
    """Every text's sites of one motif (its patterns), from ``cache`` or found and kept there
    (the texts' codes too: every motif is scanned in the same texts)."""
    if patterns not in cache:
        def codes() -> np.ndarray:
            if _CODES not in cache:
                cache[_CODES] = text_codes(texts)
            return cache[_CODES]
        cache[patterns] = _Sites(texts, finder(patterns), codes)
    return cache[patterns]


_CODES = ("", "codes")          # the cache's key of the texts' codes (no motif has it)
