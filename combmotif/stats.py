"""Small statistics used by the contribution and interaction stages.

Every function is pure and vectorised over its inputs; tests and benches call
them directly. Conventions:

- p-values that could not be computed (too few observations) are ``NaN`` and
  are left out of the multiple-testing family rather than counted as p = 1.
- Benjamini-Hochberg is scipy's :func:`scipy.stats.false_discovery_control`
  (``method='bh'``), applied to the finite p-values only.
- Bootstrap intervals are percentile intervals from a seeded generator, so the
  same seed gives the same interval.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy import stats as sps


def bh_qvalues(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); ``NaN`` stays ``NaN``.

    The family is the finite entries of ``p``: an untested unit (``NaN``) neither
    gets a q-value nor inflates the others.

    Parameters
    ----------
    p : numpy.ndarray
        p-values, ``NaN`` for untested units.

    Returns
    -------
    numpy.ndarray
        q-values, same shape as ``p``.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        q[ok] = sps.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return q


def cohens_d(x: np.ndarray, y: np.ndarray) -> float:
    """Cohen's d of ``mean(x) - mean(y)`` with the pooled standard deviation.

    ``NaN`` when either group has fewer than two values or both are constant.

    Parameters
    ----------
    x, y : numpy.ndarray
        The two groups.

    Returns
    -------
    float
        The effect size, or ``NaN``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    nx, ny = len(x), len(y)
    if nx < 2 or ny < 2:
        return float("nan")
    pooled = ((nx - 1) * x.var(ddof=1) + (ny - 1) * y.var(ddof=1)) / (nx + ny - 2)
    if pooled <= 0:
        return float("nan")
    return float((x.mean() - y.mean()) / np.sqrt(pooled))


def welch_p(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Welch's unequal-variance t-test: ``(t, two-sided p)``; NaN if a group has < 2 values.

    Parameters
    ----------
    x, y : numpy.ndarray
        The two groups.

    Returns
    -------
    tuple of float
        The t statistic and the two-sided p-value.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 2 or len(y) < 2:
        return float("nan"), float("nan")
    if x.var() == 0 and y.var() == 0:
        # Two constant groups: identical means are no evidence, different ones are certain.
        return (0.0, 1.0) if x[0] == y[0] else (float(np.sign(x[0] - y[0]) * np.inf), 0.0)
    res = sps.ttest_ind(x, y, equal_var=False)
    return float(res.statistic), float(res.pvalue)


def mannwhitney_p(x: np.ndarray, y: np.ndarray) -> float:
    """Two-sided Mann-Whitney U p-value (asymptotic with tie correction for large groups).

    Parameters
    ----------
    x, y : numpy.ndarray
        The two groups.

    Returns
    -------
    float
        The p-value (1 when every value is equal, ``NaN`` for an empty group).
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if len(x) < 1 or len(y) < 1:
        return float("nan")
    if np.ptp(np.concatenate([x, y])) == 0:
        return 1.0
    return float(sps.mannwhitneyu(x, y, alternative="two-sided").pvalue)


def wilcoxon_p(d: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of ``d`` against 0.

    Zero differences are dropped (Wilcoxon's convention); all-zero input is no
    evidence at all (p = 1). ``NaN`` for an empty input.

    Parameters
    ----------
    d : numpy.ndarray
        Paired differences.

    Returns
    -------
    float
        The p-value.
    """
    d = np.asarray(d, dtype=np.float64)
    if d.size == 0:
        return float("nan")
    if not np.any(d != 0):
        return 1.0
    return float(sps.wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def bootstrap_ci(x: np.ndarray, stat: Callable[[np.ndarray], np.ndarray] | None = None,
                 n_boot: int = 2000, level: float = 0.95,
                 seed: int | np.random.Generator = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of a statistic of one sample.

    ``stat`` maps a ``(B, n)`` array of resamples to ``(B,)`` values (default:
    the mean along axis 1), so all resamples are evaluated in one call.

    Parameters
    ----------
    x : numpy.ndarray
        The sample.
    stat : callable, optional
        Statistic over the rows of a ``(B, n)`` array.
    n_boot : int
        Resamples.
    level : float
        Coverage of the interval.
    seed : int or numpy.random.Generator
        Seed or generator of the resampling.

    Returns
    -------
    tuple of float
        Lower and upper bound (``NaN`` for an empty sample).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return float("nan"), float("nan")
    if x.size == 1:
        return float(x[0]), float(x[0])
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    values = (stat or (lambda a: a.mean(axis=1)))(x[idx])
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def signed_p(p: float, x: np.ndarray, y: np.ndarray) -> float:
    """The seeds' signed p-value: ``p`` made negative when ``mean(x) > mean(y)``.

    The reference's ``a-o`` column is ``signed_p(p, scr_a, original)``: negative
    when destroying motif A raises the prediction (A lowers it).

    Parameters
    ----------
    p : float
        The p-value.
    x, y : numpy.ndarray
        The two groups whose means give the sign.

    Returns
    -------
    float
        ``p`` or ``-p``.
    """
    if not np.isfinite(p):
        return p
    return -p if float(np.mean(x)) > float(np.mean(y)) else p
