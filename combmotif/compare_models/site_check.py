"""Motifs a model learned without a neuron family of its own: the site check.

Discovery sees a motif through the neurons it drives most. A model can fold a
motif into the detectors of another motif that pushes the same way (the mouse
half-life model reads its C-rich element with its let-7 neurons: their
maximally activating samples hold let-7), and then it has no family of its own
for it and the motif's group looks specific to the other model. Whether a
model uses a motif is measured directly, in each model's own data, with the
project's one whole-sequence motif measure
(:func:`combmotif.interaction.importance.family_effects`): the first site of
the pattern in up to ``sequences`` sequences is destroyed by a dinucleotide
shuffle that does not recreate it, the change of the prediction is averaged
per sequence (the unit of replication), two-sided Wilcoxon signed-rank test,
Benjamini-Hochberg over the checks of one model, percentile bootstrap interval.

A site can overlap another motif, and destroying it destroys that motif too:
an A-only motif ``TCGGTAA`` sits, in B's data, half the time on B's ``CGCTCGG``
(``CGCTCGGTAA``), and B would seem to use it. So the site destroyed in each
sequence is the first one that overlaps no match of the other groups' specific
patterns (those with ``OTHER_MIN_LETTERS`` informative letters, ``min_neurons``
neurons, and not a variant of the checked pattern: :func:`~combmotif.motifs.patterns.patterns_overlap`);
sequences whose every site overlaps one are left out and counted (``n_overlapping``).

Checked: every group that some models hold by neurons and others do not, whose
holders' families have at least ``min_neurons`` neurons (fewer is as often a
chance pattern, and each check costs predictions). The pattern is the IUPAC
pattern of the group's family with most neurons. Each model gets the same
pattern, the holders too, so the effects compare. Pushes compare in units of
each model's own spread (``push_sd`` = push / SD of the model's predictions
over its sequences), so a classifier's probability and a regressor's MRL
compare too. A model without the group *uses its sites* when its push is
significant (q < ``alpha``), at least ``min_relative`` times the largest
significant push among the holders (a model that moves the prediction a tenth
as much has not learned the motif the way the holder has, and with thousands
of sequences a negligible push is significant), and at least ``min_sd`` SD (a
smaller push counts for nothing on either side). A model holding no site of
the pattern in its data cannot be checked (the noAUG set has no ATG): it stays
without the motif, with that reason.

``push`` is f(original) - f(site destroyed), so a motif that raises the
prediction has a positive push, as a neuron's contribution sign reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

CHECK_COLUMNS = ["group", "name", "pattern", "model", "held", "n", "n_overlapping", "push", "ci_low", "ci_high",
                 "p", "q", "scale", "push_sd", "learned", "reason"]
# Other groups' patterns a destroyed site must not overlap: specific ones only (a 4-letter pattern
# matches every 256 bases and would leave no site in a 1 kb transcript).
OTHER_MIN_LETTERS = 6.0
# Rows whose predictions set a model's scale (evenly spaced over its sequences).
SCALE_ROWS = 2000


@dataclass(frozen=True)
class _Probe:
    """What :func:`family_effects` needs of a family: an id, a name, an IUPAC pattern."""

    id: str
    name: str
    pattern: str


def checked_groups(groups: pd.DataFrame, members: pd.DataFrame, labels: list[str], min_neurons: int
                   ) -> pd.DataFrame:
    """The groups to check: held by some models only, with ``min_neurons`` neurons among the holders.

    Parameters
    ----------
    groups : pandas.DataFrame
        :func:`combmotif.compare_models.groups.groups_table`.
    members : pandas.DataFrame
        :func:`combmotif.compare_models.groups.match_families`.
    labels : list of str
        The model labels.
    min_neurons : int
        Neurons the holders' families must have together.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``name``, ``pattern`` (of the group's family with most neurons), ``holders``
        (labels joined by ``;``), ``others`` (the patterns its sites must not overlap, ``;``),
        in the groups' order.
    """
    from ..motifs.patterns import pattern_letters, patterns_overlap

    rows = []
    for _, g in groups.iterrows():
        holders = [lab for lab in labels if int(g[f"{lab}_n_neurons"] or 0) > 0]
        mine = members[members["group"] == g["group"]].sort_values("n_neurons", ascending=False, kind="stable")
        rows.append({"group": g["group"], "name": g["name"],
                     "pattern": str(mine["pattern"].iloc[0] or mine["consensus"].iloc[0]),
                     "holders": ";".join(holders), "all": len(holders) == len(labels),
                     "neurons": sum(int(g[f"{lab}_n_neurons"]) for lab in holders)})
    every = pd.DataFrame(rows, columns=["group", "name", "pattern", "holders", "all", "neurons"])
    every = every[every["neurons"] >= min_neurons]
    specific = [p for p in dict.fromkeys(every["pattern"]) if pattern_letters(p) >= OTHER_MIN_LETTERS]
    todo = every[~every["all"]].drop(columns=["all", "neurons"])
    others = [";".join(o for o in specific if o != p and not patterns_overlap(o, p)) for p in todo["pattern"]]
    return todo.assign(others=others).reset_index(drop=True)


def model_checks(todo: pd.DataFrame, label: str, predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                 sequences: int = 100, replicates: int = 3, seed: int = 0, max_redraws: int = 50,
                 n_boot: int = 2000) -> pd.DataFrame:
    """One model's push of every checked pattern, measured in its own sequences.

    Parameters
    ----------
    todo : pandas.DataFrame
        :func:`checked_groups`.
    label : str
        The model's label.
    predict : callable
        (m, C, L) array -> (m,) predictions of the compared target.
    X : numpy.ndarray
        (N, C, L) one-hot sequences of the model's data.
    sequences, replicates, seed, max_redraws, n_boot
        As :func:`combmotif.interaction.importance.family_effects`.

    Returns
    -------
    pandas.DataFrame
        :data:`CHECK_COLUMNS` without ``learned`` and ``reason`` (:func:`decide` adds them);
        ``held`` is True where the model holds the group by neurons; ``scale`` is the SD of the
        model's predictions over (up to :data:`SCALE_ROWS` of) its sequences.
    """
    from ..interaction.importance import family_effects
    from ..sequences import decode, onehot_to_codes

    if not len(todo):
        return pd.DataFrame(columns=CHECK_COLUMNS[:-2])
    codes = onehot_to_codes(X)
    probes = [_Probe(g, n, p) for g, n, p in zip(todo["group"], todo["name"], todo["pattern"])]
    others = todo["others"] if "others" in todo else [""] * len(todo)
    cover: dict[str, np.ndarray] = {}   # each other pattern scanned once for all the checks
    first, overlapping = zip(*(clear_sites(codes, p.pattern, [o for o in str(other).split(";") if o], cover)
                               for p, other in zip(probes, others)))
    eff = family_effects(predict, X, decode(codes), probes, first, max_sequences=sequences,
                         replicates=replicates, seed=seed, max_redraws=max_redraws, n_boot=n_boot)
    rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), SCALE_ROWS)).round().astype(np.int64))
    scale = float(np.std(np.asarray(predict(np.asarray(X[rows], dtype=np.float32)), dtype=np.float64)))
    # family_effects reports destroyed - original; the push is its negative
    push = -eff["effect"].to_numpy(float)
    return pd.DataFrame({
        "group": todo["group"].to_numpy(), "name": todo["name"].to_numpy(), "pattern": todo["pattern"].to_numpy(),
        "model": label, "held": [label in h.split(";") for h in todo["holders"]], "n": eff["n"].to_numpy(),
        "n_overlapping": np.asarray(overlapping, np.int64),
        "push": push, "ci_low": -eff["ci_high"].to_numpy(float), "ci_high": -eff["ci_low"].to_numpy(float),
        "p": eff["p"].to_numpy(float), "q": eff["q"].to_numpy(float), "scale": scale,
        "push_sd": push / scale if scale > 0 else np.nan})


def clear_sites(codes: np.ndarray, pattern: str, others: list[str], cache: dict | None = None
                ) -> tuple[np.ndarray, int]:
    """Per row, the first match of ``pattern`` that overlaps no match of any of ``others``.

    Parameters
    ----------
    codes : numpy.ndarray
        (M, W) integer codes (0-3 = A, C, G, T).
    pattern : str
        IUPAC letters.
    others : list of str
        IUPAC patterns whose matches a chosen site must not overlap.
    cache : dict, optional
        Pattern -> (M, W) bool positions its matches cover, shared by calls over the same ``codes``.

    Returns
    -------
    first : numpy.ndarray
        (M,) int64 start of the chosen site, -1 where none.
    overlapping : int
        Rows holding a match of ``pattern`` whose every match overlaps another pattern's.
    """
    from ..pattern_scan import pattern_hits

    m, w = codes.shape
    k = len(pattern)
    hit = pattern_hits(codes, pattern)
    if not hit.shape[1]:
        return np.full(m, -1, np.int64), 0
    any_hit = hit.any(1)
    cache = {} if cache is None else cache
    depth = np.zeros((m, w), bool)                                    # position inside another's match
    for other in others:
        if other not in cache:
            edges = np.zeros((m, w + 1), np.int32)                    # +1 at a match's start, -1 past its end
            r, j = np.nonzero(pattern_hits(codes, other))
            np.add.at(edges, (r, j), 1)
            np.add.at(edges, (r, j + len(other)), -1)
            cache[other] = np.cumsum(edges[:, :w], 1) > 0
        depth |= cache[other]
    inside = np.concatenate([np.zeros((m, 1), np.int64), np.cumsum(depth, 1)], 1)
    clear = hit & (inside[:, k:] - inside[:, :w - k + 1] == 0)        # no covered position under the site
    found = clear.any(1)
    return np.where(found, clear.argmax(1), -1).astype(np.int64), int((any_hit & ~found).sum())


def decide(checks: pd.DataFrame, alpha: float = 0.05, min_relative: float = 0.5, min_n: int = 6,
           min_sd: float = 0.05) -> pd.DataFrame:
    """``learned`` and ``reason`` of every check row of a model that does not hold the group.

    Parameters
    ----------
    checks : pandas.DataFrame
        :func:`model_checks` of every model, concatenated.
    alpha : float
        BH q below which a push counts.
    min_relative : float
        A non-holder's |push_sd| must be at least this times the holders' largest significant |push_sd|.
    min_n : int
        Fewer sequences holding a site: not checked.
    min_sd : float
        Pushes below this many SD of the model's predictions are negligible, in the holders
        (nothing to compare with) and in the others.

    Returns
    -------
    pandas.DataFrame
        :data:`CHECK_COLUMNS`; holders' rows have ``learned`` empty and the reason ``neurons``.
    """
    out = checks.copy()
    out["learned"] = ""
    out["reason"] = ""
    for _, rows in out.groupby("group", sort=False):
        held = rows[rows["held"].astype(bool)]
        sig = held[(held["q"] < alpha) & (held["n"] >= min_n) & (held["push_sd"].abs() >= min_sd)]
        ref = float(sig["push_sd"].abs().max()) if len(sig) else np.nan
        for i, r in rows.iterrows():
            if r["held"]:
                out.loc[i, "reason"] = "neurons"
                continue
            if r["n"] < min_n:
                why = f"{int(r['n'])} sequences hold a site (< {min_n})"
            elif not np.isfinite(ref):
                why = f"the holders' push is not significant (q >= {alpha:g}) or under {min_sd:g} SD"
            elif not r["q"] < alpha:
                why = f"q >= {alpha:g}"
            elif not abs(r["push_sd"]) >= min_sd:
                why = f"|push| < {min_sd:g} SD (negligible)"
            elif not abs(r["push_sd"]) >= min_relative * ref:
                why = f"|push| < {min_relative:g} x the holders' ({abs(r['push_sd']):.3g} vs {ref:.3g} SD)"
            else:
                out.loc[i, ["learned", "reason"]] = ["sites", "significant push, comparable to the holders'"]
                continue
            out.loc[i, ["learned", "reason"]] = ["no", why]
    return out[CHECK_COLUMNS]


def apply_checks(groups: pd.DataFrame, checks: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """The groups with each model's evidence: ``<label>_learned`` and the class over both.

    Parameters
    ----------
    groups : pandas.DataFrame
        :func:`combmotif.compare_models.groups.groups_table`.
    checks : pandas.DataFrame
        :func:`decide`.
    labels : list of str
        The model labels.

    Returns
    -------
    pandas.DataFrame
        ``groups`` with ``class_neurons`` (the class by neuron families alone), ``class``
        (models holding the group by neurons or by sites), and per model ``<label>_learned``:
        ``neurons``, ``sites``, ``no`` (checked, not used) or empty (not checked), and
        ``<label>_push`` (the site check's push, NaN when not checked).
    """
    from .groups import group_class

    out = groups.copy()
    out.insert(out.columns.get_loc("class") + 1, "class_neurons", out["class"])
    by = checks.set_index(["group", "model"]) if len(checks) else None
    classes = []
    for i, g in out.iterrows():
        have = []
        for lab in labels:
            row = by.loc[(g["group"], lab)] if by is not None and (g["group"], lab) in by.index else None
            if int(g[f"{lab}_n_neurons"] or 0) > 0:
                how = "neurons"
            else:
                how = "" if row is None else str(row["learned"])
            out.loc[i, f"{lab}_learned"] = how
            out.loc[i, f"{lab}_push"] = np.nan if row is None else float(row["push"])
            if how in ("neurons", "sites"):
                have.append(lab)
        classes.append(group_class(have, labels))
    out["class"] = classes
    return out
