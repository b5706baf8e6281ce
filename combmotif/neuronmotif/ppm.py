"""Position probability matrices of sampled clusters, information content, motif segments.

A cluster's PPM weights its sequences by activation bin (NeuronMotif): the
cluster's activations are cut into ``bins`` equal-width bins of (0, max]; each
non-empty bin gives a base-frequency matrix, and the PPM is their average
weighted by the bins' mean activations, so the few strongest sequences count
as much as the many weak ones. Then Laplace smoothing, information content
(bits), a 3-position moving average of it, and motif *segments*: runs of at
least ``min_len`` positions whose smoothed IC exceeds ``ic_threshold``, each
widened by ``flank`` positions. Unlike the reference implementation, the
moving average uses the available neighbours at the ends (instead of zero)
and a PPM no longer than ``min_len + 2 * flank`` (a layer-1 neuron with RF 5)
without such a run becomes one whole segment when its mean IC reaches
``short_ic_threshold`` (0.5 bits: a layer-1 PPM averages every positive
5-mer of a linear filter, so its IC is rarely above 1 everywhere), so short
receptive fields still yield segments.

``ic_threshold`` is 0.8 bits. A deep neuron's cluster PPM mixes the strongest
sequences with weaker ones, so the outer positions of a learned 7-mer often
sit at 0.8-0.9 bits; at 1.0 the cut kept only a core (conv4 of the synthetic
MRL model: segment GTCGA for the planted CGGTCGA, Tomtom q 0.09; at 0.8,
CGGTCGAT, q 0.0009), while the half-life model's matches were unchanged
(bench/recovery_table.py --tomtom on both, see the README).

MEME files are written and read by :mod:`combmotif.motifs.formats` (format:
https://meme-suite.org/meme/doc/meme-format.html, DNA alphabet, + strand).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from ..motifs.formats import Motif
from ..motifs.meme_writer import format_meme as _format_meme

__all__ = ["PPMConfig", "Segment", "consensus_codes", "find_segments", "format_meme", "laplace", "smooth",
           "weighted_ppm"]


@dataclass
class PPMConfig:
    """PPM and segment settings (the ``ppm:`` section of a discovery config)."""

    bins: int = 20
    pseudocount: float = 1.0
    ic_threshold: float = 0.8
    short_ic_threshold: float = 0.5
    smooth_window: int = 3
    min_len: int = 3
    flank: int = 1

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if self.bins < 1 or self.min_len < 1 or self.flank < 0 or self.smooth_window < 1:
            raise ValueError("ppm.bins, ppm.min_len, ppm.smooth_window must be >= 1 and ppm.flank >= 0")
        if self.pseudocount < 0:
            raise ValueError("ppm.pseudocount must be >= 0")


@dataclass
class Segment:
    """A motif segment of a PPM: a run of informative positions (see :func:`find_segments`)."""

    start: int          # 0-based, inclusive
    end: int            # exclusive
    ic_mean: float      # mean IC (bits) inside
    contrast: float     # mean IC inside minus mean IC outside the PPM's segments
    quality: float = 0.0

    def as_dict(self) -> dict:
        """The fields, floats rounded to 4 digits (the form the unit files hold).

        Returns
        -------
        dict
        """
        return {"start": self.start, "end": self.end, "ic_mean": round(self.ic_mean, 4),
                "contrast": round(self.contrast, 4), "quality": round(self.quality, 4)}


def weighted_ppm(codes: np.ndarray, act: np.ndarray, bins: int = 20) -> np.ndarray:
    """Activation-bin-weighted base frequencies (W, 4) of (n, W) codes (see module doc).

    Parameters
    ----------
    codes : numpy.ndarray
        (n, W) integer codes 0..3 of the samples.
    act : numpy.ndarray
        (n,) their activations.
    bins : int
        Equal activation bins over [0, max].

    Returns
    -------
    numpy.ndarray
        (W, 4) PPM (uniform when there is no sample).
    """
    codes = np.asarray(codes, dtype=np.int64)
    act = np.asarray(act, dtype=np.float64)
    n, w = codes.shape
    if n == 0:
        return np.full((w, 4), 0.25)
    mx = act.max()
    b = np.clip(np.ceil(act / mx * bins).astype(np.int64) - 1, 0, bins - 1) if mx > 0 \
        else np.zeros(n, dtype=np.int64)
    flat = (b[:, None] * w + np.arange(w)[None, :]) * 4 + codes
    counts = np.bincount(flat.ravel(), minlength=bins * w * 4).reshape(bins, w, 4).astype(np.float64)
    size = np.bincount(b, minlength=bins)
    mean = np.bincount(b, weights=act, minlength=bins) / np.maximum(size, 1)
    used = size > 0
    freq = counts[used] / size[used][:, None, None]
    weight = np.where(mean[used] > 0, mean[used], 1.0)
    ppm = (freq * weight[:, None, None]).sum(0)
    return ppm / ppm.sum(1, keepdims=True)


def laplace(ppm: np.ndarray, n: int, pseudocount: float = 1.0) -> np.ndarray:
    """Laplace smoothing as if the PPM were counts of ``n`` sequences.

    Parameters
    ----------
    ppm : numpy.ndarray
        (W, 4) probabilities.
    n : int
        Number of sequences the PPM stands for.
    pseudocount : float
        Added to each base count.

    Returns
    -------
    numpy.ndarray
        (W, 4) smoothed PPM.
    """
    return (np.asarray(ppm, dtype=np.float64) * n + pseudocount) / (n + 4 * pseudocount)


def smooth(values: np.ndarray, window: int = 3) -> np.ndarray:
    """Centred moving average; at the ends, the mean of the neighbours that exist.

    Parameters
    ----------
    values : numpy.ndarray
        (W,) values.
    window : int
        Width of the average (1: no smoothing).

    Returns
    -------
    numpy.ndarray
        (W,) smoothed values.
    """
    v = np.asarray(values, dtype=np.float64)
    if window <= 1 or len(v) == 0:
        return v.copy()
    half = window // 2
    c = np.r_[0.0, np.cumsum(v)]
    idx = np.arange(len(v))
    lo = np.clip(idx - half, 0, len(v))
    hi = np.clip(idx + half + 1, 0, len(v))
    return (c[hi] - c[lo]) / (hi - lo)


def find_segments(ic: np.ndarray, cfg: PPMConfig) -> list[Segment]:
    """Motif segments of a PPM given its per-position IC (see module doc).

    Parameters
    ----------
    ic : numpy.ndarray
        (W,) information content in bits.
    cfg : PPMConfig
        Thresholds, minimum length and flank.

    Returns
    -------
    list of Segment
        In position order; ``quality`` is left at 0 for the caller to rank.
    """
    ic = np.asarray(ic, dtype=np.float64)
    w = len(ic)
    if w == 0:
        return []
    sm = smooth(ic, cfg.smooth_window)
    mask = np.r_[False, sm > cfg.ic_threshold, False].astype(np.int8)
    edges = np.diff(mask)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    ok = ends - starts >= cfg.min_len
    starts, ends = starts[ok] - cfg.flank, ends[ok] + cfg.flank
    starts, ends = np.clip(starts, 0, w), np.clip(ends, 0, w)
    if len(starts) == 0 and w <= cfg.min_len + 2 * cfg.flank and ic.mean() >= cfg.short_ic_threshold:
        starts, ends = np.array([0]), np.array([w])
    if len(starts) == 0:
        return []
    # Merge runs that touch after widening.
    new = np.flatnonzero(np.r_[True, starts[1:] > np.maximum.accumulate(ends)[:-1]])
    s = np.minimum.reduceat(starts, new)
    e = np.maximum.reduceat(ends, new)
    inside = np.zeros(w, dtype=bool)
    for a, b in zip(s, e):  # a handful of segments per PPM
        inside[a:b] = True
    outside = ic[~inside].mean() if (~inside).any() else 0.0
    segs = []
    for a, b in zip(s, e):
        m = float(ic[a:b].mean())
        segs.append(Segment(int(a), int(b), m, m - float(outside)))
    return segs


def consensus_codes(ppm: np.ndarray) -> np.ndarray:
    """Argmax base code per row of a PPM (ties to the first of ACGT).

    Parameters
    ----------
    ppm : numpy.ndarray
        (W, 4) probabilities.

    Returns
    -------
    numpy.ndarray
        (W,) int8 codes 0..3.
    """
    return np.asarray(ppm).argmax(1).astype(np.int8)


# --------------------------------------------------------------------------- MEME format


def format_meme(motifs: Iterable[tuple[str, str, np.ndarray, int]]) -> str:
    """MEME minimal-format text for (id, alt name, PPM (W, 4), nsites) tuples.

    Parameters
    ----------
    motifs : iterable of (str, str, numpy.ndarray, int)
        Each motif's id, alternative name, (W, 4) PPM and number of sites.

    Returns
    -------
    str
        The text of :func:`combmotif.motifs.meme_writer.format_meme` in its compact layout.
    """
    return _format_meme([Motif(mid, ppm, altname=alt, nsites=nsites) for mid, alt, ppm, nsites in motifs],
                        compact=True)
