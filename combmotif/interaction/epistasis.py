"""Epistasis of a motif pair: statistics per (neuron, pair), the classes, summaries.

Per sequence, with f(AB) = original, f(A only) = B destroyed, f(B only) = A
destroyed, f(neither) = both destroyed::

    epsilon = f(AB) - f(A only) - f(B only) + f(neither)

tested against 0 with the Wilcoxon signed-rank test; Benjamini-Hochberg over
every pair tested in the layer (:func:`classify`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import stats
from .mutagenesis import Observations

CLASSES = ("synergistic", "antagonistic", "additive", "untested", "unclassified")
CLASS_COLOURS = {"synergistic": "#c0392b", "antagonistic": "#2471a3", "additive": "#bdbdbd",
                 "unclassified": "#f0b27a", "untested": "#ffffff"}
REFERENCE_COLUMNS = ["task", "motifA", "motifB", "a-o", "b-o", "ab-a", "ab-b", "ab-o",
                     "interaction-p", "interaction"]
EXTRA_COLUMNS = ["q", "epsilon", "ci_low", "ci_high", "n", "effect_A", "effect_A_low", "effect_A_high",
                 "effect_B", "effect_B_low", "effect_B_high", "joint", "direction", "layer", "neuron",
                 "combination", "motifA_name", "motifB_name", "n_candidates", "fallbacks", "replicates",
                 "reason", "fallback_share"]
STATS_COLUMNS = REFERENCE_COLUMNS + EXTRA_COLUMNS


def fallback_share(obs: Observations) -> float:
    """Share of the destroyed spans that fell back to random bases.

    Each replicate destroys A and B once per sequence: ``2 x replicates x n`` spans.

    Parameters
    ----------
    obs : Observations
        One (neuron, pair)'s mutagenesis.

    Returns
    -------
    float
        ``fallbacks / (2 x replicates x n)``; 0 when nothing was destroyed.
    """
    spans = 2 * obs.replicates * len(obs)
    return float(obs.fallbacks) / spans if spans else 0.0


def destruction_note(obs: Observations) -> str:
    """The plain words for a pair whose shuffles fell back to random bases ("" when none did).

    Parameters
    ----------
    obs : Observations
        One (neuron, pair)'s mutagenesis.

    Returns
    -------
    str
        "dinucleotide shuffle could not destroy the motif in N of M spans; random bases used" or "".
    """
    if not obs.fallbacks:
        return ""
    spans = 2 * obs.replicates * len(obs)
    return (f"dinucleotide shuffle could not destroy the motif in {obs.fallbacks} of {spans} spans; "
            "random bases used")


def join_reasons(*parts: str) -> str:
    """The non-empty parts joined by "; ".

    Parameters
    ----------
    *parts : str
        Reasons, some possibly empty.

    Returns
    -------
    str
        One reason text.
    """
    return "; ".join(p for p in parts if p)


def pair_statistics(obs: Observations, min_n: int = 6, n_boot: int = 2000, seed: int = 0) -> dict:
    """Raw statistics of one (neuron, pair) before multiple-testing correction.

    The seeds' columns ``a-o``, ``b-o``, ``ab-a``, ``ab-b``, ``ab-o`` are
    signed Wilcoxon p-values of the paired comparisons ("scr a" vs original,
    ...): negative when the first mean is the larger (see
    :func:`combmotif.stats.signed_p`). ``interaction-p`` is the Wilcoxon
    signed-rank p of epsilon against 0.

    Parameters
    ----------
    obs : Observations
        One (neuron, pair)'s per-sequence predictions.
    min_n : int
        Fewer sequences: untested.
    n_boot : int
        Bootstrap resamples of the intervals.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict
        One row of ``pairs.csv`` (without ``q``, ``interaction``, ``direction``).
    """
    n = len(obs)
    row = {"n": n, "n_candidates": obs.n_candidates, "fallbacks": obs.fallbacks,
           "replicates": obs.replicates, "reason": "", "fallback_share": fallback_share(obs)}
    names = ["a-o", "b-o", "ab-a", "ab-b", "ab-o", "interaction-p", "epsilon", "ci_low", "ci_high",
             "effect_A", "effect_A_low", "effect_A_high", "effect_B", "effect_B_low", "effect_B_high",
             "joint"]
    row.update({k: np.nan for k in names})
    if n == 0:
        row["reason"] = "no sequence holds both motifs"
        return row
    row["reason"] = destruction_note(obs)
    o, a, b, ab = obs.f_orig, obs.f_scrA, obs.f_scrB, obs.f_scrAB
    eps = obs.epsilon
    eA, eB = b - ab, a - ab
    rng = np.random.default_rng(seed)
    row["epsilon"] = float(eps.mean())
    row["effect_A"], row["effect_B"] = float(eA.mean()), float(eB.mean())
    row["joint"] = float((o - ab).mean())
    if n < min_n:
        row["reason"] = join_reasons(f"only {n} sequences hold both motifs (< {min_n})", row["reason"])
        return row
    for key, x, y in (("a-o", a, o), ("b-o", b, o), ("ab-a", ab, a), ("ab-b", ab, b), ("ab-o", ab, o)):
        row[key] = stats.signed_p(stats.wilcoxon_p(x - y), x, y)
    # Differences at float32 rounding level are no evidence: the rank test is
    # scale-free and would find "interactions" in an exactly additive model.
    tol = 1e-5 * max(float(np.abs(o).mean()), 1e-3)
    row["interaction-p"] = stats.wilcoxon_p(np.where(np.abs(eps) <= tol, 0.0, eps))
    row["ci_low"], row["ci_high"] = stats.bootstrap_ci(eps, n_boot=n_boot, seed=rng)
    row["effect_A_low"], row["effect_A_high"] = stats.bootstrap_ci(eA, n_boot=n_boot, seed=rng)
    row["effect_B_low"], row["effect_B_high"] = stats.bootstrap_ci(eB, n_boot=n_boot, seed=rng)
    return row


def classify(df: pd.DataFrame, alpha: float = 0.05, min_relative: float = 0.0) -> pd.DataFrame:
    """Add BH ``q`` (over every tested row), ``interaction`` and ``direction``.

    ``min_relative`` > 0 also calls a significant pair additive when
    |epsilon| < min_relative x (|e_A| + |e_B|): with hundreds of sequences a
    trained model's slight non-additivity is significant however small; this
    floor asks for an interaction that matters next to the motifs' own
    effects. The ``reason`` column says when it applied.

    Parameters
    ----------
    df : pandas.DataFrame
        Rows of :func:`pair_statistics`.
    alpha : float
        BH q threshold.
    min_relative : float
        The floor on |epsilon| relative to |e_A| + |e_B|.

    Returns
    -------
    pandas.DataFrame
        A copy with ``q``, ``interaction``, ``direction`` (and ``reason`` updated).
    """
    df = df.copy()
    spans = 2 * pd.to_numeric(df["replicates"], errors="coerce") * pd.to_numeric(df["n"], errors="coerce")
    fell = pd.to_numeric(df["fallbacks"], errors="coerce")
    df["fallback_share"] = np.where(spans > 0, fell / spans.where(spans > 0, 1), 0.0).astype(float)
    p = pd.to_numeric(df["interaction-p"], errors="coerce").to_numpy()
    df["q"] = stats.bh_qvalues(p)
    eps = df["epsilon"].to_numpy(dtype=float)
    total = df["effect_A"].to_numpy(dtype=float) + df["effect_B"].to_numpy(dtype=float)
    s = np.sign(total)
    tested = np.isfinite(p)
    sig = tested & (df["q"].to_numpy() < alpha)
    scale = np.abs(df["effect_A"].to_numpy(dtype=float)) + np.abs(df["effect_B"].to_numpy(dtype=float))
    small = sig & (np.abs(eps) < min_relative * scale)
    cls = np.where(~tested, "untested",
                   np.where(~sig | small, "additive",
                            np.where(s * eps > 0, "synergistic",
                                     np.where(s * eps < 0, "antagonistic", "unclassified"))))
    df["interaction"] = cls
    reason = np.array(["" if pd.isna(r) else str(r) for r in df["reason"]], dtype=object)
    note = f"|epsilon| < {min_relative:g} x (|e_A| + |e_B|)"
    reason[small] = [join_reasons(note, r) for r in reason[small]]
    df["reason"] = reason
    eA, eB = df["effect_A"].to_numpy(dtype=float), df["effect_B"].to_numpy(dtype=float)
    df["direction"] = np.where((eA > 0) & (eB > 0), "positive",
                               np.where((eA < 0) & (eB < 0), "negative", "mixed"))
    return df



def fallback_line(df: pd.DataFrame, where: str) -> str:
    """One line naming how many pairs fell back to random bases ("" when none did).

    Parameters
    ----------
    df : pandas.DataFrame
        Classified rows (:func:`classify`).
    where : str
        What the table covers, e.g. "conv4".

    Returns
    -------
    str
    """
    share = pd.to_numeric(df["fallback_share"], errors="coerce").fillna(0) if len(df) else pd.Series([])
    fell = int((share > 0).sum())
    if not fell:
        return ""
    return (f"{where}: {fell} of {len(df)} pairs: the dinucleotide shuffle could not destroy a motif "
            f"in some spans; random bases used (up to {share.max():.0%} of spans; see fallback_share)")


def pair_summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per unordered motif pair (by name) over all neurons that tested it.

    ``interaction`` is the most common class among the tested rows (ties: the
    class with more sequences behind it), ``epsilon`` the sequence-weighted mean
    of their epsilons, ``rows``/``tested`` how many neurons' rows there are.

    Parameters
    ----------
    df : pandas.DataFrame
        Classified rows (:func:`classify`).

    Returns
    -------
    pandas.DataFrame
        ``motifA_name``, ``motifB_name``, ``interaction``, ``epsilon``, ``n``,
        ``rows``, ``tested``, ``agreeing``.
    """
    out = []
    if not len(df):
        return pd.DataFrame(columns=["motifA_name", "motifB_name", "interaction", "epsilon", "n",
                                     "rows", "tested", "agreeing"])
    keys = [tuple(sorted((str(a), str(b)))) for a, b in zip(df["motifA_name"], df["motifB_name"])]
    for key, grp in df.groupby(pd.Series(keys, index=df.index), sort=True):
        tested = grp[grp["interaction"] != "untested"]
        row = {"motifA_name": key[0], "motifB_name": key[1], "interaction": "untested",
               "epsilon": np.nan, "n": 0, "rows": len(grp), "tested": len(tested), "agreeing": 0}
        if len(tested):
            votes = tested.groupby("interaction")["n"].agg(["size", "sum"])
            cls = votes.sort_values(["size", "sum"], ascending=False, kind="stable").index[0]
            w = tested["n"].to_numpy(dtype=float)
            row.update(interaction=cls, n=int(w.sum()), agreeing=int((tested["interaction"] == cls).sum()),
                       epsilon=float(np.average(tested["epsilon"].to_numpy(dtype=float), weights=w)))
        out.append(row)
    return pd.DataFrame(out)
