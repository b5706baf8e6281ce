"""Sliding motifs along PPMs: the column similarity of every offset (PPM-vs-PPM scans).

The column similarity is Tomtom's Euclidean one, ``1 - |p - q| / sqrt(2)`` (1: identical
columns, 0: two different certain bases), or the Pearson correlation of the two columns;
a motif's score at an offset is the similarity averaged over its columns, weighted by
their information. :mod:`combmotif.neuronmotif.syntax_annotate` reads PPMs with these
scores.

Every motif column is compared with every PPM row once, then the columns are summed
along the diagonals, in chunks of motifs that keep each temporary near the cache's size
(faster than larger chunks): deep layers scan hundreds of pool motifs along many 288-row
cluster PPMs per neuron, and the whole (motifs, PPMs, offsets, columns, bases) array
would be gigabytes. Each score is
computed with the same operations in the same order as that array would give, so the
scores are the same to the bit.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..motifs.formats import information_content

_SQRT2 = float(np.sqrt(2.0))
_CHUNK = 1 << 16     # elements of a chunk's column-similarity array: 512 kB, cache-sized


def scan_ppm(ppm: np.ndarray, motifs: np.ndarray, metric: str = "euclid") -> np.ndarray:
    """Similarity of motifs of one width to every window of a PPM.

    Parameters
    ----------
    ppm : numpy.ndarray
        (L, 4) the scanned PPM.
    motifs : numpy.ndarray
        (n, w, 4) motifs of width ``w`` (or one (w, 4) motif).
    metric : str
        "euclid": Tomtom's column similarity ``1 - |p - q| / sqrt(2)`` (strength and
        shape); "pearson": the correlation of the two columns (shape only, so a weakly
        informative column of the right base scores as a strong one).

    Returns
    -------
    numpy.ndarray
        (n, L - w + 1) scores (<= 1; empty when ``w > L``): per offset, the column
        similarity averaged over the motif's columns, weighted by their information.
    """
    motifs = np.asarray(motifs, dtype=np.float64)
    if motifs.ndim == 2:
        motifs = motifs[None]
    weight = np.stack([information_content(q) for q in motifs]) + 1e-9             # (n, w)
    return scan_many(np.asarray(ppm, dtype=np.float64)[None], motifs, weight, metric)[:, 0]


def scan_many(ppms: np.ndarray, motifs: np.ndarray, weight: np.ndarray, metric: str) -> np.ndarray:
    """:func:`scan_ppm` of several PPMs of one length, with the motifs' column weights given.

    Parameters
    ----------
    ppms : numpy.ndarray
        (c, L, 4) float64.
    motifs : numpy.ndarray
        (n, w, 4) float64.
    weight : numpy.ndarray
        (n, w) the columns' weights (their information).
    metric : str
        As :func:`scan_ppm`.

    Returns
    -------
    numpy.ndarray
        (n, c, L - w + 1) scores.
    """
    n, w = motifs.shape[:2]
    c, length = ppms.shape[:2]
    if w > length:
        return np.zeros((n, c, 0))
    out = np.empty((n, c, length - w + 1))
    step = max(1, _CHUNK // (w * c * length))
    for s in range(0, n, step):
        sim = _column_similarity(ppms, motifs[s:s + step], metric)                  # (m, w, c, L)
        m, sm, sw, sc, sl = len(sim), *sim.strides
        # score[i, k, o] sums sim[i, j, k, o + j] over j: a strided view, no copy.
        diag = np.lib.stride_tricks.as_strided(sim, (m, c, length - w + 1, w), (sm, sc, sl, sw + sl),
                                               writeable=False)
        part = weight[s:s + step, None, None]
        out[s:s + step] = np.multiply(diag, part, order="C").sum(-1) / part.sum(-1)
    return out


def _column_similarity(ppms: np.ndarray, motifs: np.ndarray, metric: str) -> np.ndarray:
    """(m, w, c, L): every motif column against every PPM row, the 4 bases summed in order."""
    if metric == "pearson":
        x, y = ppms[None, None] - 0.25, motifs[:, :, None, None] - 0.25
        dot, xx = np.zeros(np.broadcast_shapes(x.shape, y.shape)[:-1]), np.zeros(x.shape[:-1])
        for k in range(4):
            dot += x[..., k] * y[..., k]
            xx += x[..., k] * x[..., k]
        return dot / np.sqrt(xx * (y * y).sum(-1) + 1e-12)
    d2 = np.zeros((len(motifs), motifs.shape[1], *ppms.shape[:2]))
    for k in range(4):
        d2 += (ppms[None, None, :, :, k] - motifs[:, :, None, None, k]) ** 2
    return 1.0 - np.sqrt(d2) / _SQRT2


def motif_bank(motifs: Sequence[np.ndarray]) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
    """Motifs grouped by width for scanning: ``(width, indices, stacked PPMs, column weights)``.

    A neuron's cluster PPMs are all scanned with the same dictionary and pool, so the
    grouping and the columns' information are computed once, not once per PPM.

    Parameters
    ----------
    motifs : sequence of numpy.ndarray
        (w_i, 4) each.

    Returns
    -------
    list of tuple
    """
    widths = np.array([len(m) for m in motifs])
    bank = []
    for w in np.unique(widths):
        idx = np.flatnonzero(widths == w)
        stack = np.stack([np.asarray(motifs[i], dtype=np.float64) for i in idx])
        bank.append((int(w), idx, stack, np.stack([information_content(q) for q in stack]) + 1e-9))
    return bank


def bank_hits(ppms: np.ndarray, bank: list, min_score: float, metric: str) -> list[np.ndarray]:
    """Every hit above ``min_score`` of a :func:`motif_bank` in each of several PPMs of one length.

    Parameters
    ----------
    ppms : numpy.ndarray
        (c, L, 4) float64.
    bank : list
        :func:`motif_bank`.
    min_score : float
        Lowest score of a hit.
    metric : str
        As :func:`scan_ppm`.

    Returns
    -------
    list of numpy.ndarray
        Per PPM, ``(score, -width, motif index, offset)`` rows, one scan per motif width.
    """
    c, length = ppms.shape[:2]
    rows: list[list[np.ndarray]] = [[np.zeros((0, 4))] for _ in range(c)]
    for w, idx, stack, weight in bank:
        if w > length:
            continue
        score = scan_many(ppms, stack, weight, metric)                               # (n, c, o)
        k, cl, o = np.nonzero(score >= min_score)
        got = np.column_stack([score[k, cl, o], -np.full(len(k), w), idx[k], o])
        for i in range(c):
            rows[i].append(got[cl == i])
    return [np.concatenate(r) for r in rows]
