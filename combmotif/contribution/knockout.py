"""Knockout: what the model loses when a neuron's driving window is shuffled.

For up to ``sequences`` activated sequences the window that drives the neuron
(its receptive field at the maximum) is dinucleotide-shuffled with the one
perturbation primitive (:mod:`combmotif.perturb`) and predicted again; per
sequence the push is ``f(original) - mean f(shuffled)``, tested with the
Wilcoxon signed-rank test, BH over the layer's neurons.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import stats
from ..maxact import MaxAct
from ..perturb import shuffle_spans, span_variants
from ..sequences import decode, onehot_to_codes
from .association import call_signs

KNOCKOUT_COLUMNS = ["task", "layer", "neuron", "target", "contribution", "effect", "ci_low", "ci_high",
                    "dz", "p", "q", "n", "replicates", "not_deactivated", "window", "threshold", "reason"]


def knockout_windows(res: MaxAct, seqs: np.ndarray, neuron: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    """``(start, end)`` of the window driving ``neuron`` in each of ``seqs``, clipped to the sequence.

    Parameters
    ----------
    res : MaxAct
        The layer's max-activation search.
    seqs : numpy.ndarray
        Sequence indices.
    neuron : int
        0-based neuron.
    length : int
        Sequence length.

    Returns
    -------
    start, end : numpy.ndarray
    """
    raw = res.offset + res.seq_pos[seqs, neuron].astype(np.int64) * res.stride
    return np.clip(raw, 0, length), np.clip(raw + res.rf, 0, length)


def shuffle_windows(X: np.ndarray, seqs: np.ndarray, start: np.ndarray, end: np.ndarray,
                    replicates: int, rng: np.random.Generator) -> np.ndarray:
    """``replicates`` copies of ``X[seqs]`` with each window dinucleotide-shuffled.

    Returns (replicates * len(seqs), C, L), replicate-major. Only the four base
    channels change; extra tracks (codon, splice) stay as they are.

    Parameters
    ----------
    X : numpy.ndarray
        (N, C, L) one-hot input.
    seqs : numpy.ndarray
        Rows to shuffle.
    start, end : numpy.ndarray
        Each row's window.
    replicates : int
        Shuffles per window.
    rng : numpy.random.Generator
        Source of the draws (drawn sequence by sequence, replicate by replicate).

    Returns
    -------
    numpy.ndarray
        float32.
    """
    base = np.asarray(X[seqs], dtype=np.float32)
    texts = decode(onehot_to_codes(base))
    n = len(texts)
    spans = [[(a, b)] for a, b in zip(start.tolist(), end.tolist())]
    draws, _ = shuffle_spans(texts, spans, replicates, rng)
    out = span_variants(base, np.arange(n), spans, draws, [(0,)], original=False)
    # span_variants is sequence-major; the knockout's pool is replicate-major
    return np.ascontiguousarray(out.reshape(n, replicates, *base.shape[1:]).swapaxes(0, 1)).reshape(
        replicates * n, *base.shape[1:])


def knockout_table(predict, X: np.ndarray, res: MaxAct, active: np.ndarray, layer: int,
                   neurons: Sequence[int], sequences: int = 200, replicates: int = 3,
                   alpha: float = 0.05, min_abs_d: float = 0.0, threshold: float = 0.7,
                   target: int = 0, min_n: int = 10, seed: int = 0,
                   n_boot: int = 1000, neuron_max=None, draws: int = 4,
                   original: np.ndarray | None = None) -> pd.DataFrame:
    """Causal contribution: what the model loses when a neuron's driving window is shuffled.

    Parameters
    ----------
    predict : callable (n, C, L) array -> (n,) predictions on the label scale.
    active : (N, C) bool from :func:`activated`; up to ``sequences`` activated
        sequences per neuron are drawn (seeded by ``seed``, layer and neuron).
    neuron_max : callable ``(x, k) -> (n,)``, neuron ``k``'s maximum over positions.
        When given, ``draws`` x ``replicates`` shuffles are drawn per window and
        the first ``replicates`` that leave the neuron below ``threshold`` x its
        maximum are kept: a dinucleotide shuffle of an ATG-rich window often
        rebuilds ATG, which moves the motif instead of removing it. Windows
        without enough such shuffles keep their least activating ones
        (``not_deactivated`` counts them).
    original : (N,) array, optional
        ``predict(X)`` already computed (the stage caches it); predicted here otherwise.

    Returns
    -------
    pandas.DataFrame
        ``neuron_knockout.csv`` (columns :data:`KNOCKOUT_COLUMNS`).
    """
    rows = []
    for k in [int(k) for k in neurons]:
        row = {"task": f"conv{layer}_neuron{k}", "layer": layer, "neuron": k, "target": target,
               "effect": np.nan, "ci_low": np.nan, "ci_high": np.nan, "dz": np.nan, "p": np.nan,
               "n": 0, "replicates": replicates, "not_deactivated": 0, "window": res.rf,
               "threshold": threshold, "reason": ""}
        idx = np.flatnonzero(active[:, k])
        if len(idx) < min_n:
            row["reason"] = f"too few activated sequences ({len(idx)} < {min_n})"
            rows.append(row)
            continue
        rng = np.random.default_rng([seed, layer, k])
        if len(idx) > sequences:
            idx = np.sort(rng.choice(idx, sequences, replace=False))
        n = len(idx)
        mutated, row["not_deactivated"] = _silencing_shuffles(X, res, idx, k, replicates, rng, threshold,
                                                              neuron_max, draws)
        f0 = np.asarray(predict(np.asarray(X[idx], dtype=np.float32)) if original is None
                        else original[idx], dtype=np.float64)
        f1 = np.asarray(_in_windows(predict, getattr(predict, "windows", None), X, res, idx, k, mutated),
                        dtype=np.float64).reshape(replicates, n).mean(0)
        push = f0 - f1
        sd = push.std(ddof=1)
        row.update(effect=push.mean(), dz=push.mean() / sd if sd > 0 else np.nan,
                   p=stats.wilcoxon_p(push), n=len(idx))
        row["ci_low"], row["ci_high"] = stats.bootstrap_ci(push, n_boot=n_boot, seed=seed + k)
        rows.append(row)
    df = pd.DataFrame(rows, columns=[c for c in KNOCKOUT_COLUMNS if c not in ("contribution", "q")])
    if df.empty:
        return pd.DataFrame(columns=KNOCKOUT_COLUMNS)
    df["q"] = stats.bh_qvalues(df["p"].to_numpy(dtype=np.float64))
    return call_signs(df, "dz", alpha, min_abs_d)[KNOCKOUT_COLUMNS]



def _silencing_shuffles(X: np.ndarray, res: MaxAct, idx: np.ndarray, k: int, replicates: int,
                        rng: np.random.Generator, threshold: float, neuron_max, draws: int
                        ) -> tuple[np.ndarray, int]:
    """(replicates * n, C, L) shuffled variants of ``X[idx]``, replicate-major, and how many
    windows kept a shuffle that leaves neuron ``k`` active (see :func:`knockout_table`)."""
    start, end = knockout_windows(res, idx, k, int(X.shape[-1]))
    n = len(idx)
    if neuron_max is None:
        return shuffle_windows(X, idx, start, end, replicates, rng), 0
    pool = shuffle_windows(X, idx, start, end, replicates * draws, rng)
    limit = threshold * res.neuron_max[k]
    # The first `replicates` draws first: a window they all silence keeps them whatever the
    # later draws give, so only the other windows' later draws are scored (a quarter of the work
    # when most shuffles silence). Unscored draws stay NaN: not silencing, sorted last, never kept.
    act = np.full((replicates * draws, n), np.nan)
    full = lambda v: neuron_max(v, k)  # noqa: E731
    windows = getattr(neuron_max, "windows", None)
    windowed = (lambda *a: windows(*a, k)) if windows is not None else None
    act[:replicates] = np.asarray(_in_windows(full, windowed, X, res, idx, k, pool[:replicates * n]),
                                  dtype=np.float64).reshape(replicates, n)
    more = np.flatnonzero(~(act[:replicates] < limit).all(0))
    if len(more) and draws > 1:
        rows = (np.arange(replicates, replicates * draws)[:, None] * n + more[None, :]).reshape(-1)
        act[replicates:, more] = np.asarray(_in_windows(full, windowed, X, res, idx[more], k, pool[rows]),
                                            dtype=np.float64).reshape(-1, len(more))
    off = act < limit
    # per sequence: deactivating draws first (in draw order), then the least activating
    order = np.lexsort((np.where(off, 0.0, act), ~off), axis=0)[:replicates]
    pick = order * n + np.arange(n)[None, :]
    return pool[pick.reshape(-1)], int((off.sum(0) < replicates).sum())


def _in_windows(full, windows, X: np.ndarray, res: MaxAct, idx: np.ndarray, k: int,
                variants: np.ndarray) -> np.ndarray:
    """``full(variants)``, the variants being shuffles of ``X[idx]`` within neuron ``k``'s window
    (replicate-major); through ``windows(x, rows, start, window)`` when given, which recomputes
    only what each window reaches (and may return None: then ``full``)."""
    if windows is not None and len(idx):
        length = int(X.shape[-1])
        start, end = knockout_windows(res, idx, k, length)
        # One width for all (a window clipped at an end is narrower): slid back to fit.
        width = max(1, int((end - start).max()))
        start = np.minimum(start, length - width)
        reps = len(variants) // len(idx)
        rows, first = np.tile(np.arange(len(idx)), reps), np.tile(start, reps)
        cut = variants[np.arange(len(variants))[:, None], :, first[:, None] + np.arange(width)]
        out = windows(np.asarray(X[idx], dtype=np.float32), rows, first,
                      np.ascontiguousarray(cut.transpose(0, 2, 1), dtype=np.float32))
        if out is not None:
            return out
    return full(variants)
