"""How much each motif family moves the prediction over whole sequences.

A pair can interact where no conv neuron sees both motifs: a recurrent or dense
layer above the convolutions combines motifs a whole sequence apart (a 3'UTR
motif and a 5'UTR one). The syntax rules and the co-occurrence in a neuron's
windows never propose such a pair, so the candidates also hold every pair of the
families that matter most to the output. What matters is measured, not assumed:
each family's first site in sequences that hold it is destroyed by the one
perturbation primitive (:func:`combmotif.perturb.predict_variants`, dinucleotide
shuffle that does not recreate the pattern) and the change of the prediction is
averaged per sequence (the unit of replication). Two-sided Wilcoxon signed-rank
test per family, Benjamini-Hochberg over the families, percentile bootstrap
interval of the mean change.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..perturb import predict_variants
from ..stats import bh_qvalues, bootstrap_ci, wilcoxon_p
from .sites import finder

EFFECT_COLUMNS = ["family", "name", "pattern", "n", "effect", "ci_low", "ci_high", "p", "q"]


def family_effects(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, texts: Sequence[str],
                   families: Sequence, first_sites: Sequence[np.ndarray], max_sequences: int = 200,
                   replicates: int = 3, seed: int = 0, max_redraws: int = 50,
                   n_boot: int = 2000) -> pd.DataFrame:
    """Mean change of the prediction when each family's site is destroyed.

    Parameters
    ----------
    predict : callable
        (m, C, L) array -> (m,) predictions.
    X : numpy.ndarray
        (N, C, L) one-hot sequences; ``texts`` the same rows as strings.
    texts : sequence of str
        The rows of ``X`` decoded.
    families : sequence
        Objects with ``id``, ``name`` and ``pattern`` (IUPAC).
    first_sites : sequence of numpy.ndarray
        Per family, (N,) start of its leftmost site in each row, -1 when absent
        (:func:`combmotif.interaction.candidates.pattern_sites`).
    max_sequences : int
        Sequences per family, spread evenly over the rows holding it.
    replicates : int
        Destruction draws per sequence (averaged within the sequence).
    seed : int
        Seed of the draws; family ``i`` uses ``[seed, 1, i]``.
    max_redraws : int
        Shuffles tried before random bases (:func:`combmotif.perturb.shuffle_span`).
    n_boot : int
        Bootstrap resamples of the interval.

    Returns
    -------
    pandas.DataFrame
        :data:`EFFECT_COLUMNS`: ``effect`` = mean (destroyed - original) per
        sequence, so a family that raises the prediction has a negative effect.
    """
    rows = []
    for i, (fam, first) in enumerate(zip(families, first_sites)):
        held = np.flatnonzero(np.asarray(first) >= 0)
        if len(held) > max_sequences:
            held = held[np.linspace(0, len(held) - 1, max_sequences).round().astype(np.int64)]
        d = np.zeros(0)
        if len(held):
            spans = [[(int(first[s]), int(first[s]) + len(fam.pattern))] for s in held]
            pred, _ = predict_variants(predict, X, texts, held, spans, [(0,)], replicates,
                                       np.random.default_rng([seed, 1, i]), finder([fam.pattern]),
                                       max_redraws)
            d = pred[:, 1:].mean(1) - pred[:, 0]
        lo, hi = bootstrap_ci(d, n_boot=n_boot, seed=seed + i)
        rows.append({"family": fam.id, "name": fam.name, "pattern": fam.pattern, "n": len(d),
                     "effect": float(d.mean()) if len(d) else np.nan, "ci_low": lo, "ci_high": hi,
                     "p": wilcoxon_p(d) if len(d) >= 2 else np.nan})
    df = pd.DataFrame(rows, columns=EFFECT_COLUMNS[:-1])
    p = df["p"].to_numpy(np.float64)
    q = np.full(len(df), np.nan)
    ok = np.isfinite(p)
    q[ok] = bh_qvalues(p[ok])
    return df.assign(q=q)[EFFECT_COLUMNS]


def important_pairs(effects: pd.DataFrame, top: int, alpha: float = 0.05) -> pd.DataFrame:
    """Every pair of the ``top`` families with the largest significant effects.

    Parameters
    ----------
    effects : pandas.DataFrame
        :func:`family_effects`.
    top : int
        How many families (0: none).
    alpha : float
        BH q below which a family's effect counts.

    Returns
    -------
    pandas.DataFrame
        ``familyA``, ``familyB`` (unordered pairs of distinct families).
    """
    sig = effects[(effects["q"] < alpha)]
    ids = list(sig.reindex(sig["effect"].abs().sort_values(ascending=False, kind="stable").index)
               ["family"][:top])
    pairs = [(a, b) for k, a in enumerate(ids) for b in ids[k + 1:]]
    return pd.DataFrame(pairs, columns=["familyA", "familyB"])
