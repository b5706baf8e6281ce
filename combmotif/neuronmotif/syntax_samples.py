"""Gap ranges of syntax rules among a neuron's sampled sequences (a separate column).

The tree's gap range is the paper's: the union over the cluster PPMs (and pooled
neurons) of the gap in each PPM. A neuron has a few clusters, and each cluster PPM
averages aligned sequences, so a rule the model accepts over a range of gaps (soft
syntax) shows one or two gaps there, or none when the spread blurs the PPM. The
sampled sequences that drive the neuron (``neuron<k>/samples.npz``, written by the
sampling) hold the spread itself: for a rule (A 5' of B), A and B are located in the
strongly activating samples by their PPMs as position weight matrices, and the gaps
between them are counted. This is reported beside the tree's range, never instead
of it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TOP = 0.5          # samples with activation >= TOP x the neuron's maximum
MIN_FRAC = 0.8     # a site scores >= MIN_FRAC x the motif's best log-odds score
QUANTILES = (0.05, 0.95)
NONE = np.iinfo(np.int64).max   # no site


def log_odds(ppm: np.ndarray, pseudo: float = 0.01) -> np.ndarray:
    """The PPM as a position weight matrix: log2 of the probability over 1/4.

    Parameters
    ----------
    ppm : numpy.ndarray
        (w, 4).
    pseudo : float
        Added to every probability.

    Returns
    -------
    numpy.ndarray
        (w, 4).
    """
    p = np.asarray(ppm, dtype=np.float64) + pseudo
    return np.log2(p / p.sum(1, keepdims=True) / 0.25)


def motif_hits(codes: np.ndarray, ppm: np.ndarray, min_frac: float = MIN_FRAC) -> np.ndarray:
    """Where a motif occurs in integer-coded sequences.

    Parameters
    ----------
    codes : numpy.ndarray
        (n, L) bases 0-3 (A, C, G, T).
    ppm : numpy.ndarray
        (w, 4) the motif.
    min_frac : float
        A site scores at least this share of the motif's best score.

    Returns
    -------
    numpy.ndarray
        (n, L - w + 1) bool (no column when ``w > L``).
    """
    pwm = log_odds(ppm)
    codes = np.asarray(codes).clip(0, 3)
    w, n_pos = len(pwm), codes.shape[1] - len(pwm) + 1
    if n_pos <= 0:
        return np.zeros((len(codes), 0), dtype=bool)
    # One pass per motif column (w is small), never an (n, positions, w) array: deep
    # layers' samples are thousands of sequences of hundreds of bases.
    score = np.zeros((len(codes), n_pos))
    for j in range(w):
        score += pwm[j][codes[:, j:j + n_pos]]
    return score >= min_frac * pwm.max(1).sum()


def next_sites(hit_b: np.ndarray) -> np.ndarray:
    """Per sequence and position p, the first site at or after p.

    Parameters
    ----------
    hit_b : numpy.ndarray
        (n, positions) bool, as :func:`motif_hits`.

    Returns
    -------
    numpy.ndarray
        (n, positions + 1) int64; ``NONE`` where no site follows (the last column always).
    """
    n, ob = hit_b.shape
    pos = np.where(hit_b, np.arange(ob), NONE)
    return np.concatenate([np.minimum.accumulate(pos[:, ::-1], axis=1)[:, ::-1], np.full((n, 1), NONE)], axis=1)


def nearest_gaps(hit_a: np.ndarray, width_a: int, hit_b: np.ndarray | None = None,
                 next_b: np.ndarray | None = None) -> np.ndarray:
    """Per sequence, the smallest gap from an A site to a B site starting after A ends.

    Parameters
    ----------
    hit_a : numpy.ndarray
        (n, positions) bool, as :func:`motif_hits`.
    width_a : int
        A's width.
    hit_b : numpy.ndarray, optional
        (n, positions of B) bool.
    next_b : numpy.ndarray, optional
        :func:`next_sites` of ``hit_b`` (given instead of it when B recurs in many pairs).

    Returns
    -------
    numpy.ndarray
        (n,) int64 bases between them (0 = adjacent); -1 where no A site has a B 3' of it.
    """
    next_b = next_sites(hit_b) if next_b is None else next_b
    ob = next_b.shape[1] - 1
    # The nearest B 3' of the A site at i starts at next_b[:, i + width_a]: one look-up per
    # A site, never a table of all A-B position pairs.
    rows, cols = np.nonzero(hit_a)
    start = np.minimum(cols + width_a, ob)
    after = next_b[rows, start]
    gap = np.where(after < NONE, after - start, NONE)
    out = np.full(len(hit_a), NONE, dtype=np.int64)
    np.minimum.at(out, rows, gap)
    return np.where(out < NONE, out, -1)


def sample_gaps(codes: np.ndarray, act: np.ndarray, ppm_a: np.ndarray, ppm_b: np.ndarray,
                top: float = TOP, min_frac: float = MIN_FRAC,
                quantiles: tuple[float, float] = QUANTILES) -> dict:
    """Gaps between A and a B 3' of it among the strongly activating samples.

    Per sample holding both, the gap is the smallest one from an A site to a B site
    starting after A ends (bases between them, 0 = adjacent).

    Parameters
    ----------
    codes : numpy.ndarray
        (n, L) the neuron's samples, bases 0-3.
    act : numpy.ndarray
        (n,) their activations.
    ppm_a, ppm_b : numpy.ndarray
        The 5' and 3' motifs.
    top : float
        Samples with activation >= ``top`` x the maximum are used.
    min_frac : float
        As :func:`motif_hits`.
    quantiles : (float, float)
        The reported range: these quantiles of the gaps.

    Returns
    -------
    dict
        ``sample_gap_min``, ``sample_gap_max`` (None without a sample holding both),
        ``sample_share`` (samples holding A then B / samples used), ``sample_n``.
    """
    x = strong_samples(codes, act, top)
    hit_a, hit_b = motif_hits(x, ppm_a, min_frac), motif_hits(x, ppm_b, min_frac)
    return gap_summary(hit_a, len(ppm_a), next_sites(hit_b), quantiles)


def strong_samples(codes: np.ndarray, act: np.ndarray, top: float = TOP) -> np.ndarray:
    """The samples with activation >= ``top`` x the neuron's maximum.

    Parameters
    ----------
    codes : numpy.ndarray
        (n, L) bases 0-3.
    act : numpy.ndarray
        (n,) activations.
    top : float
        Share of the maximum.

    Returns
    -------
    numpy.ndarray
        (m, L).
    """
    act = np.asarray(act, dtype=np.float64)
    keep = act >= top * act.max() if len(act) and act.max() > 0 else np.zeros(len(act), dtype=bool)
    return np.asarray(codes)[keep]


def gap_summary(hit_a: np.ndarray, width_a: int, next_b: np.ndarray,
                quantiles: tuple[float, float] = QUANTILES) -> dict:
    """:func:`sample_gaps`' summary from the motifs' hits in the strong samples.

    Parameters
    ----------
    hit_a : numpy.ndarray
        (m, positions) bool, :func:`motif_hits` of the 5' motif.
    width_a : int
        The 5' motif's width.
    next_b : numpy.ndarray
        :func:`next_sites` of the 3' motif's hits.
    quantiles : (float, float)
        The reported range.

    Returns
    -------
    dict
        As :func:`sample_gaps`.
    """
    out = {"sample_gap_min": None, "sample_gap_max": None, "sample_share": 0.0, "sample_n": int(len(hit_a))}
    if not len(hit_a) or not hit_a.shape[1] or next_b.shape[1] < 2:
        return out
    nearest = nearest_gaps(hit_a, width_a, next_b=next_b)
    held = nearest >= 0
    out["sample_share"] = round(float(held.mean()), 4)
    if held.any():
        lo, hi = np.quantile(nearest[held], quantiles)
        out["sample_gap_min"], out["sample_gap_max"] = int(np.floor(lo)), int(np.ceil(hi))
    return out


def read_samples(neuron_dir: str | Path) -> tuple[np.ndarray, np.ndarray] | None:
    """``(codes, act)`` of a neuron's ``samples.npz``, or None when absent.

    Parameters
    ----------
    neuron_dir : str or Path
        ``conv<L>/neuron<k>``.

    Returns
    -------
    tuple of numpy.ndarray, or None
    """
    path = Path(neuron_dir) / "samples.npz"
    if not path.is_file():
        return None
    with np.load(path) as z:
        if not {"codes", "act"} <= set(z.files):
            return None
        return z["codes"], z["act"]
