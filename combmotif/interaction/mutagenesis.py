"""Pair mutagenesis: each sequence predicted original, A destroyed, B destroyed, both.

A motif is destroyed by a dinucleotide-preserving shuffle of its span, redrawn
until neither pattern of the pair matches across the span any more (at most
``max_redraws`` draws; then random bases, counted as a *fallback*), with the
one perturbation primitive (:mod:`combmotif.perturb`). Each of
``replicates`` draws destroys A and B once and the same draw is used in the
"A destroyed" and "both destroyed" variants (common random numbers), so a
model that is exactly additive gives epsilon = 0 exactly. The half-life
model's extra tracks are left as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..perturb import predict_variants
from .labels import Combination
from .sites import Plan, finder


@dataclass
class Observations:
    """Per-sequence predictions of one (neuron, pair), averaged over replicates.

    The field names are the column names of ``observations.npz``.
    """

    seq: np.ndarray
    f_orig: np.ndarray   # f(AB)
    f_scrA: np.ndarray   # A destroyed: f(B only)
    f_scrB: np.ndarray   # B destroyed: f(A only)
    f_scrAB: np.ndarray  # f(neither)
    fallbacks: int = 0
    replicates: int = 0
    n_candidates: int = 0

    @property
    def epsilon(self) -> np.ndarray:
        """Per sequence f(AB) - f(A only) - f(B only) + f(neither)."""
        return self.f_orig - self.f_scrA - self.f_scrB + self.f_scrAB

    def __len__(self) -> int:
        return len(self.seq)


# Variants of one replicate: A destroyed, B destroyed, both (the same draws).
PAIR_SUBSETS = ((0,), (1,), (0, 1))


def mutagenesis(predict, X: np.ndarray, texts: Sequence[str], plan: Plan, combo: Combination,
                replicates: int = 10, rng: np.random.Generator | None = None, max_redraws: int = 50,
                max_rows: int = 4096) -> Observations:
    """Predict every planned sequence original / A destroyed / B destroyed / both.

    Parameters
    ----------
    predict : callable
        (n, C, L) array -> (n,) predictions on the label scale.
    X : numpy.ndarray
        (N, C, L) one-hot input.
    texts : sequence of str
        The full sequences (A, C, G, T, N) of ``X``'s rows.
    plan : Plan
        The sites of A and B per sequence (:func:`~combmotif.interaction.sites.plan_sites`).
    combo : Combination
        The pair; a destroyed span may match neither of its patterns.
    replicates : int
        Destruction draws per sequence, averaged.
    rng : numpy.random.Generator, optional
        Source of the draws (default: seed 0).
    max_redraws : int
        Shuffles per draw before falling back to random bases.
    max_rows : int
        Variants of many sequences go to ``predict`` together, about this many at a time.

    Returns
    -------
    Observations
        Per sequence the four predictions, each averaged over the replicates.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    spans = [(tuple(a), tuple(b)) for a, b in zip(plan.a.tolist(), plan.b.tolist())]
    pred, fallbacks = predict_variants(predict, X, texts, plan.seq, spans, PAIR_SUBSETS, replicates, rng,
                                       avoid=finder(combo.motifA + combo.motifB), max_redraws=max_redraws,
                                       max_rows=max_rows)
    out = np.zeros((len(plan.seq), 4))
    out[:, 0] = pred[:, 0]
    for k in range(3):
        out[:, k + 1] = pred[:, 1 + k::3].mean(1)
    return Observations(seq=plan.seq.copy(), f_orig=out[:, 0], f_scrA=out[:, 1], f_scrB=out[:, 2],
                        f_scrAB=out[:, 3], fallbacks=int(fallbacks), replicates=replicates,
                        n_candidates=plan.n_candidates)
