"""PWM sites on integer-coded DNA: exact log-odds scores, thresholds, both-strand scans, sampled sites.

Scores are integers in 1/``SCALE`` bits (pseudocount 0.01 against a uniform
background), so the distribution of a window's score is computed exactly
(:func:`score_tail`), a threshold is a background p-value (:func:`site_threshold`)
and a scan (:func:`best_scores`) gives the same integers on every machine. Used by
the synthetic DNA set (:mod:`combmotif.data.synthetic_dna`) to sample sites from a
JASPAR PPM and to decide where a motif is present.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..motifs.formats import Motif, information_content

SCALE = 100           # integer score units per bit
PSEUDOCOUNT = 0.01    # added to each PPM entry before the log-odds
P_SITE = 1e-4         # background probability of one window (one strand) reaching the threshold
_N_SCORE = -100_000   # the score of N (or padding) in a window: never reaches a threshold


# ----------------------------------------------------------------------------- scores

def log_odds(ppm: np.ndarray, pseudocount: float = PSEUDOCOUNT) -> np.ndarray:
    """(k, 4) integer log-odds scores against a uniform background, in 1/SCALE bits.

    Parameters
    ----------
    ppm : numpy.ndarray
        (k, 4) probabilities over A, C, G, T.
    pseudocount : float
        Added to every entry before renormalising (a JASPAR zero is not impossible).

    Returns
    -------
    numpy.ndarray
        (k, 4) int64.
    """
    p = (np.asarray(ppm, dtype=np.float64) + pseudocount) / (1.0 + 4.0 * pseudocount)
    return np.rint(SCALE * np.log2(p / 0.25)).astype(np.int64)


def score_tail(scores: np.ndarray, probs: np.ndarray) -> tuple[int, np.ndarray]:
    """Exact distribution of a window's total score when column j's base is drawn from ``probs[j]``.

    Parameters
    ----------
    scores : numpy.ndarray
        (k, 4) integer scores (:func:`log_odds`).
    probs : numpy.ndarray
        (k, 4) base probabilities per column (uniform: the background; the PPM: a site).

    Returns
    -------
    base : int
        The lowest possible score.
    tail : numpy.ndarray
        ``tail[i]`` = P(score >= base + i).
    """
    dist, base = np.ones(1), 0
    for row, p in zip(np.asarray(scores), np.asarray(probs, dtype=np.float64)):
        lo = int(row.min())
        new = np.zeros(dist.size + int(row.max()) - lo)
        for s, q in zip(row, p):
            new[s - lo:s - lo + dist.size] += q * dist
        dist, base = new, base + lo
    return base, np.cumsum(dist[::-1])[::-1]


def site_threshold(scores: np.ndarray, p_value: float = P_SITE) -> int:
    """The lowest score a uniform-background window reaches with probability <= ``p_value``.

    Parameters
    ----------
    scores : numpy.ndarray
        (k, 4) integer scores.
    p_value : float
        Background probability per window and strand.

    Returns
    -------
    int
        The threshold (above the best score when even the best word is more likely).
    """
    base, tail = score_tail(scores, np.full(np.shape(scores), 0.25))
    ok = np.flatnonzero(tail <= p_value)
    return base + int(ok[0]) if ok.size else base + tail.size


def site_power(scores: np.ndarray, ppm: np.ndarray, threshold: int) -> float:
    """The share of sites sampled from ``ppm`` whose score reaches ``threshold``.

    Parameters
    ----------
    scores : numpy.ndarray
        (k, 4) integer scores.
    ppm : numpy.ndarray
        (k, 4) the motif.
    threshold : int
        As :func:`site_threshold`.

    Returns
    -------
    float
    """
    base, tail = score_tail(scores, ppm)
    i = threshold - base
    return 1.0 if i <= 0 else float(tail[i]) if i < tail.size else 0.0


def best_scores(codes: np.ndarray, scores: Sequence[np.ndarray], chunk: int = 8192) -> np.ndarray:
    """(N, K) the best window score of each motif in each sequence, over both strands.

    One 1-d convolution of the one-hot sequences with all motifs and their reverse
    complements; every product and sum is an integer well inside float32's exact
    range, so the result is exact. Windows holding N or running past the end score
    about ``-1e5``.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) integer codes (4 = N).
    scores : sequence of numpy.ndarray
        K (k_i, 4) integer score matrices.
    chunk : int
        Sequences per convolution.

    Returns
    -------
    numpy.ndarray
        (N, K) int64.
    """
    import torch

    codes = np.asarray(codes)
    n, length = codes.shape
    kmax = max(len(s) for s in scores)
    w = np.zeros((2 * len(scores), 5, kmax), dtype=np.float32)
    for i, s in enumerate(scores):
        w[i, :4, :len(s)] = s.T
        w[len(scores) + i, :4, :len(s)] = s[::-1, ::-1].T
        w[[i, len(scores) + i], 4, :len(s)] = _N_SCORE
    weight = torch.from_numpy(w)
    padded = np.pad(codes, ((0, 0), (0, kmax - 1)), constant_values=4)
    out = np.empty((n, len(scores)), dtype=np.int64)
    for a in range(0, n, chunk):
        x = torch.from_numpy(np.eye(5, dtype=np.float32)[padded[a:a + chunk]].transpose(0, 2, 1).copy())
        y = torch.nn.functional.conv1d(x, weight).amax(-1).numpy()
        out[a:a + chunk] = np.rint(np.maximum(y[:, :len(scores)], y[:, len(scores):]))
    return out


# ----------------------------------------------------------------------------- motifs and sampled sites

def motif_tables(database: Sequence[Motif], length: int, min_ic: float = 10.0, min_power: float = 0.5,
                 p_site: float = P_SITE) -> tuple[np.ndarray, list[dict | None]]:
    """Which database motifs can be planted in ``length``-bp sequences, and their scan tables.

    Usable: 8 to ``min(20, length // 2)`` positions (two sites fit with room), at least
    ``min_ic`` bits in all, and at least ``min_power`` of the sites sampled from the
    PPM reach the threshold (so the kept sites are not a narrow slice of the motif).

    Parameters
    ----------
    database : sequence of Motif
        JASPAR motifs.
    length : int
        Sequence length.
    min_ic, min_power, p_site : float
        The filters above; ``p_site`` sets each motif's threshold (:func:`site_threshold`).

    Returns
    -------
    usable : numpy.ndarray
        (len(database),) bool.
    tables : list of dict or None
        Per motif (None when its length or information rules it out): ``ppm``
        (rounded to 6 decimals, as written), ``scores``, ``threshold``, ``power``, ``ic``.
    """
    usable = np.zeros(len(database), dtype=bool)
    tables: list[dict | None] = []
    for i, m in enumerate(database):
        ppm = np.round(m.ppm, 6)
        ic = float(information_content(ppm).sum())
        if not 8 <= len(ppm) <= min(20, length // 2) or ic < min_ic:
            tables.append(None)
            continue
        scores = log_odds(ppm)
        thr = site_threshold(scores, p_site)
        power = site_power(scores, ppm, thr)
        tables.append({"ppm": ppm, "scores": scores, "threshold": thr, "power": power, "ic": ic})
        usable[i] = power >= min_power
    return usable, tables


def sample_sites(rng: np.random.Generator, table: Mapping[str, Any], n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` sites drawn from a motif's PPM, each column independently, kept when they reach the threshold.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    table : mapping
        A :func:`motif_tables` entry (``ppm``, ``scores``, ``threshold``).
    n : int
        Sites wanted.

    Returns
    -------
    sites : numpy.ndarray
        (n, k) int8 codes, on the motif's own strand.
    scores : numpy.ndarray
        (n,) int64 their scores.
    """
    ppm, scores, thr = table["ppm"], table["scores"], table["threshold"]
    k = len(ppm)
    cum = np.cumsum(ppm, axis=1)[:, :3]
    sites, got = [np.zeros((0, k), dtype=np.int64)], 0
    while got < n:
        drawn = (rng.random((2 * (n - got) + 16, k))[:, :, None] >= cum[None]).sum(-1)
        drawn = drawn[scores[np.arange(k), drawn].sum(1) >= thr]
        sites.append(drawn)
        got += len(drawn)
    out = np.concatenate(sites)[:n].astype(np.int8)
    return out, scores[np.arange(k), out].sum(1)
