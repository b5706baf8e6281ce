"""Association of a neuron's activation with the prediction (activated vs not activated).

A sequence *activates* neuron ``k`` of conv layer ``L`` when the neuron's
maximum over its windows reaches ``threshold`` x the neuron's maximum over the
set; the predictions of activated and other sequences are compared with
Cohen's d, Welch's t-test and the Mann-Whitney U test, BH over the layer.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import stats
from ..errors import InputError

CLASS_COLOURS = {"positive": "#c0392b", "negative": "#2471a3", "neutral": "#9e9e9e"}
CSV_COLUMNS = ["task", "layer", "neuron", "target", "contribution", "effect", "d", "t", "p", "q",
               "mw_p", "mw_q", "n_active", "n_inactive", "mean_active", "mean_inactive",
               "threshold", "values", "reason"]


def activated(seq_max: np.ndarray, neuron_max: np.ndarray, threshold: float = 0.7) -> np.ndarray:
    """(N, C) bool: sequence i activates neuron k (its max >= threshold x the neuron's max).

    A neuron whose maximum is not positive activates nothing.

    Parameters
    ----------
    seq_max : numpy.ndarray
        (N, C) each sequence's maximum per neuron.
    neuron_max : numpy.ndarray
        (C,) each neuron's maximum over the set.
    threshold : float
        Fraction of the neuron's maximum.

    Returns
    -------
    numpy.ndarray
    """
    neuron_max = np.asarray(neuron_max, dtype=np.float64)
    return (np.asarray(seq_max) >= threshold * neuron_max[None, :]) & (neuron_max[None, :] > 0)


def contribution_table(values: np.ndarray, active: np.ndarray, layer: int,
                       neurons: Sequence[int] | None = None, min_n: int = 10, alpha: float = 0.05,
                       threshold: float = 0.7, value_kind: str = "prediction",
                       target: int = 0, min_abs_d: float = 0.0) -> pd.DataFrame:
    """Per-neuron contribution statistics; BH over the neurons that were tested.

    A neuron is ``positive``/``negative`` when q < ``alpha`` and |d| >=
    ``min_abs_d`` (with tens of thousands of sequences a negligible difference
    is already significant; ``min_abs_d`` keeps such neurons ``neutral``).

    Parameters
    ----------
    values : (N,) predictions or labels of the sequences.
    active : (N, C) bool from :func:`activated`.
    neurons : which columns to report (default all); the q-values are computed
        over these only.

    Returns
    -------
    pandas.DataFrame
        ``neuron_contribution.csv`` (columns :data:`CSV_COLUMNS`).
    """
    values = np.asarray(values, dtype=np.float64)
    active = np.asarray(active, dtype=bool)
    if values.ndim != 1 or len(values) != len(active):
        raise InputError(f"contribution: {len(values)} values for {len(active)} sequences")
    cols = list(range(active.shape[1])) if neurons is None else [int(k) for k in neurons]
    rows = []
    for k in cols:
        on = values[active[:, k]]
        off = values[~active[:, k]]
        row = {"task": f"conv{layer}_neuron{k}", "layer": layer, "neuron": k, "target": target,
               "n_active": len(on), "n_inactive": len(off), "threshold": threshold,
               "values": value_kind, "effect": np.nan, "d": np.nan, "t": np.nan, "p": np.nan,
               "mw_p": np.nan, "mean_active": on.mean() if len(on) else np.nan,
               "mean_inactive": off.mean() if len(off) else np.nan, "reason": ""}
        if min(len(on), len(off)) < max(min_n, 2):
            row["reason"] = (f"too few activated sequences ({len(on)} < {min_n})" if len(on) < min_n
                             else f"too few non-activated sequences ({len(off)} < {min_n})")
        else:
            row["effect"] = on.mean() - off.mean()
            row["d"] = stats.cohens_d(on, off)
            row["t"], row["p"] = stats.welch_p(on, off)
            row["mw_p"] = stats.mannwhitney_p(on, off)
        rows.append(row)
    df = pd.DataFrame(rows)
    if df.empty:
        return pd.DataFrame(columns=CSV_COLUMNS)
    df["q"] = stats.bh_qvalues(df["p"].to_numpy())
    df["mw_q"] = stats.bh_qvalues(df["mw_p"].to_numpy())
    return call_signs(df, "d", alpha, min_abs_d)[CSV_COLUMNS]


def call_signs(df: pd.DataFrame, size: str, alpha: float, min_abs_d: float) -> pd.DataFrame:
    """``contribution`` from ``q``, ``effect`` and the standardised effect column ``size``;
    the ``reason`` of a neutral call (q >= alpha, or a negligible effect).

    Parameters
    ----------
    df : pandas.DataFrame
        Rows with ``q``, ``effect``, ``size`` and ``reason``.
    size : str
        The standardised effect column (``d`` or ``dz``).
    alpha : float
        BH q threshold.
    min_abs_d : float
        Smallest |size| called.

    Returns
    -------
    pandas.DataFrame
        ``df`` with ``contribution`` (changed in place).
    """
    sig = (df["q"] < alpha).to_numpy()
    small = sig & (df[size].abs() < min_abs_d).to_numpy()
    call = sig & ~small
    df["contribution"] = np.where(call & (df["effect"] > 0), "positive",
                                  np.where(call & (df["effect"] < 0), "negative", "neutral"))
    df.loc[(df["reason"] == "") & ~sig, "reason"] = f"q >= {alpha:g}"
    df.loc[small, "reason"] = f"|{size}| < {min_abs_d:g} (negligible)"
    return df
