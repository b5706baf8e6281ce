"""Contribution calls against planted motif signs (``python -m combmotif.validation contribution``).

    combmotif validate contribution <config> --layers 1-4 [--truth truth.json]

For every planted motif with a sign, the neurons whose activating windows hold
it (:func:`motif_matches`) are compared with their contribution calls, by the
association and by the knockout (:func:`compare_with_truth`). Each measure is
also run on the planted rule itself, so a neuron whose motif's sign not even
the planted rule shows under that measure is counted as confounded.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..config import load_config
from ..contribution.association import activated, contribution_table
from ..contribution.stage import ContributionConfig, stage_knockout
from ..data.planting import scan
from ..errors import InputError
from ..interaction.fragments import Fragments, fragment_codes
from ..maxact import MaxAct
from ..stage import Stage

# what the check adds up over layers (matched neurons, then how they are counted)
TRUTH_COUNTS = ("neurons", "mixed", "confounded", "confounded_as_planted", "agree", "neutral", "opposite")


def _motif_hits(codes: np.ndarray, res: MaxAct, pos: np.ndarray, raw: np.ndarray, n: int, c: int,
                cons: str) -> np.ndarray:
    """(n, c) bool: the best window of each sequence and neuron holds ``cons`` (may stick out by half)."""
    ext = len(cons) // 2
    fr = Fragments(layer=res.layer, threshold=0.0, rf=res.rf + 2 * ext, neuron=np.tile(np.arange(c), n),
                   seq=np.repeat(np.arange(n), c), pos=pos, raw_start=raw - ext, start=raw, end=raw,
                   activation=res.seq_max[:n].reshape(-1))
    return scan(fragment_codes(codes[:n], fr), cons).any(1).reshape(n, c)


def _neuron_match(k: int, names: list[str], fractions: dict, active: np.ndarray, min_fraction: float,
                  min_enrichment: float) -> dict:
    ranked = sorted(names, key=lambda m: -fractions[m][0][k])
    best = ranked[0] if ranked else None
    on, off = (fractions[best][0][k], fractions[best][1][k]) if best else (np.nan, np.nan)
    second = fractions[ranked[1]][0][k] if len(ranked) > 1 else 0.0
    ok = (best is not None and active[:, k].any() and on >= min_fraction
          and on >= min_enrichment * off and second < min_fraction)
    return {"neuron": k, "motif": best if ok else "", "fraction": on, "background": off,
            "best": best or "", "second": second, "n_active": int(active[:, k].sum())}


def motif_matches(codes: np.ndarray, res: MaxAct, active: np.ndarray, motifs: dict[str, str],
                  min_fraction: float = 0.5, min_enrichment: float = 2.0,
                  max_sequences: int = 20000, groups: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Which planted motif a neuron detects, from the windows that activate it.

    For every neuron, the best window of each activated sequence (where its
    maximum is reached) is scanned for every motif consensus, letting a match
    stick out of the window by up to half its length (a neuron with a receptive
    field about as long as the motif often sees only most of it). ``fraction``
    is the share of those windows holding the motif, ``background`` the share
    among the best windows of non-activated sequences. A neuron *matches* a
    motif when fraction >= ``min_fraction`` and >= ``min_enrichment`` x
    background while every other motif's fraction stays below
    ``min_fraction`` (a neuron whose windows mostly hold several motifs matches
    none). Motifs with the same consensus are one entry named ``a/b``. Only the first ``max_sequences``
    sequences are scanned (memory: N x C windows). ``groups`` (name -> motif
    names, e.g. the planted motifs of each sign) adds ``on:group:<name>`` /
    ``off:group:<name>``: the share of windows holding any motif of the group.

    Parameters
    ----------
    codes : numpy.ndarray
        (N, L) codes of the scanned sequences.
    res : MaxAct
        The layer's max-activation search.
    active : numpy.ndarray
        (N, C) bool from :func:`~combmotif.contribution.association.activated`.
    motifs : dict
        Name -> consensus.
    min_fraction, min_enrichment, max_sequences, groups
        See above.

    Returns
    -------
    pandas.DataFrame
        One row per neuron: ``motif`` (empty when none), ``fraction``,
        ``background``, ``best``, ``second``, ``n_active`` and the ``on:``/``off:`` shares.
    """
    active = active[:max_sequences]
    n, c = active.shape
    pos = res.seq_pos[:n].reshape(-1).astype(np.int64)
    raw = res.offset + pos * res.stride
    merged: dict[str, list[str]] = {}
    for name, cons in motifs.items():
        merged.setdefault(cons.upper().replace("U", "T"), []).append(name)
    motifs = {"/".join(names): cons for cons, names in merged.items()}
    hits = {name: _motif_hits(codes, res, pos, raw, n, c, cons) for name, cons in motifs.items()}
    fractions = {name: _shares(hit, active) for name, hit in hits.items()}
    names = list(motifs)
    df = pd.DataFrame([_neuron_match(k, names, fractions, active, min_fraction, min_enrichment) for k in range(c)])
    for name in names:   # every motif's share, for the mixed-sign check of compare_with_truth
        df[f"on:{name}"], df[f"off:{name}"] = fractions[name]
    for g, members in (groups or {}).items():
        keys = [k for k in hits if set(k.split("/")) & set(members)]
        union = np.logical_or.reduce([hits[k] for k in keys]) if keys else np.zeros((n, c), bool)
        df[f"on:group:{g}"], df[f"off:group:{g}"] = _shares(union, active)
    return df


def _shares(hit: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per neuron: the share of activated and of non-activated sequences whose best window hits."""
    on = (hit & active).sum(0) / np.maximum(active.sum(0), 1)
    off = (hit & ~active).sum(0) / np.maximum((~active).sum(0), 1)
    return on, off


def planted_signs(truth: dict) -> dict[str, str]:
    """``{motif name: 'positive' | 'negative'}`` of a truth.json (its ``sign``, else the effect's).

    Parameters
    ----------
    truth : dict
        A loaded truth.

    Returns
    -------
    dict
    """
    return {m["name"]: m.get("sign") or ("positive" if m["effect"] > 0 else "negative")
            for m in truth["motifs"]}


def _mixed(columns, mine: pd.DataFrame, signs: dict, sign: str, min_mixed: float,
           min_enrichment: float) -> np.ndarray:
    """Which of ``mine`` also hold planted motifs of the opposite sign (see compare_with_truth)."""
    other_sign = "negative" if sign == "positive" else "positive"
    shares = [c[3:] for c in columns if c.startswith("on:") and (
        c == f"on:group:{other_sign}" or any(signs.get(n) == other_sign for n in c[3:].split("/")))]
    mixed = np.zeros(len(mine), bool)
    for key in shares:
        on, off = mine["on:" + key].to_numpy(), mine["off:" + key].to_numpy()
        mixed |= (on >= min_mixed) & (on >= min_enrichment * off)
    return mixed


def compare_with_truth(table: pd.DataFrame, matches: pd.DataFrame, truth: dict,
                       min_mixed: float = 0.25, min_enrichment: float = 2.0,
                       reference: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per planted motif with a sign: the neurons matching it and their contribution calls.

    A matching neuron whose activating windows also hold a planted motif of the
    opposite sign (>= ``min_mixed`` of them and >= ``min_enrichment`` x its
    background; needs the ``on:``/``off:`` columns of :func:`motif_matches`) is
    *mixed*: it detects a combination that pushes both ways, so its sign is not
    that of one motif. Where the table has ``on:group:<sign>`` columns (planted
    motifs grouped by sign), the opposite sign's motifs also count together: a
    neuron pairing a stabilising element with any of several destabilising ones
    is mixed even when each partner alone stays under ``min_mixed``.
    Mixed neurons are counted apart, not as agree/opposite.

    ``reference`` (``neuron``, ``contribution``) is the same measure run on the
    planted rule itself (the noise-free label, as ``check_truth.py`` runs it). A
    pure neuron whose reference call is not its motif's sign is *confounded*:
    even the planted rule, split the same way, does not show that sign (in an
    association, a co-planted partner of the opposite sign can cancel it), so
    no model could. Confounded neurons are counted apart as well;
    ``confounded_as_planted`` says how many of them got the reference's call.

    Parameters
    ----------
    table : pandas.DataFrame
        Contribution calls (association or knockout).
    matches : pandas.DataFrame
        From :func:`motif_matches`.
    truth : dict
        A loaded truth.
    min_mixed, min_enrichment : float
        The mixed-neuron rule.
    reference : pandas.DataFrame, optional
        The same measure on the planted rule.

    Returns
    -------
    pandas.DataFrame
        One row per planted motif with the counts of :data:`TRUTH_COUNTS`.
    """
    signs = planted_signs(truth)
    ref_calls = None if reference is None else reference.set_index("neuron")["contribution"]
    t = table.merge(matches, on="neuron")
    out = []
    for m in truth["motifs"]:
        sign = signs[m["name"]]
        mine = t[[m["name"] in str(name).split("/") for name in t["motif"]]]
        mixed = _mixed(t.columns, mine, signs, sign, min_mixed, min_enrichment)
        pure = mine[~mixed]
        # what the planted rule gives each pure neuron under the same measure (no reference: its sign)
        expected = (np.full(len(pure), sign, dtype=object) if reference is None else
                    pure["neuron"].map(ref_calls).to_numpy())
        out.append(_truth_row(m, sign, mine, mixed, pure, expected))
    return pd.DataFrame(out)


def _truth_row(m: dict, sign: str, mine: pd.DataFrame, mixed: np.ndarray, pure: pd.DataFrame,
               expected: np.ndarray) -> dict:
    """One planted motif's counts (:data:`TRUTH_COUNTS`) and neuron ids."""
    confounded = expected != sign
    judged = pure[~confounded]
    calls = judged["contribution"].value_counts()
    return {"motif": m["name"], "consensus": m["consensus"], "planted": sign,
            "effect": m["effect"], "neurons": len(mine), "mixed": int(mixed.sum()),
            "confounded": int(confounded.sum()),
            "confounded_as_planted": int((pure["contribution"].to_numpy() == expected)[confounded].sum()),
            "agree": int(calls.get(sign, 0)), "neutral": int(calls.get("neutral", 0)),
            "opposite": int(len(judged) - calls.get(sign, 0) - calls.get("neutral", 0)),
            "neuron_ids": " ".join(str(k) for k in judged["neuron"]),
            "mixed_ids": " ".join(str(k) for k in mine["neuron"][mixed]),
            "confounded_ids": " ".join(str(k) for k in pure["neuron"][confounded])}



def _require_results(stage: Stage, layers: list[int], config: str) -> None:
    """Every layer's results, before the first is checked."""
    for L in layers:
        for path in (stage.layer_dir(L) / "neuron_contribution.csv", stage.maxact_path(L)):
            if not path.is_file():
                raise InputError(f"{path}: not found; run combmotif contribution {config} "
                                 f"--layers {layers[0]}-{layers[-1]} first")


def _check_layer(stage: Stage, L: int, truth: dict, codes: np.ndarray, planted, planted_values
                 ) -> dict[str, pd.Series]:
    """Print one layer's comparisons; return the counts per measure."""
    cfg: ContributionConfig = stage.cfg
    motifs = {m["name"]: m["consensus"] for m in truth["motifs"]}
    by_sign: dict[str, list[str]] = {}
    for name, sign in planted_signs(truth).items():
        by_sign.setdefault(sign, []).append(name)
    table = pd.read_csv(stage.layer_dir(L) / "neuron_contribution.csv")
    res = MaxAct.load(stage.maxact_path(L))
    active = activated(res.seq_max, res.neuron_max, cfg.threshold)
    matches = motif_matches(codes, res, active, motifs, groups=by_sign)
    print(f"conv{L}: planted motif -> neurons whose activating windows hold it "
          f"(>= 50 % and >= 2x background; every other planted motif < 50 %; "
          f"mixed: also >= 25 % and >= 2x background for the motifs of the opposite sign, "
          f"each or together); confounded: the planted rule, measured the same way, "
          f"lacks the motif's sign")
    reference = (None if planted is None else
                 contribution_table(planted_values, active, L, table["neuron"], cfg.min_n,
                                    cfg.alpha, cfg.threshold, "planted", cfg.target_index,
                                    cfg.min_abs_d))
    kinds = [("activated vs not", table, reference)]
    ko_path = stage.layer_dir(L) / "neuron_knockout.csv"
    if ko_path.is_file():
        matched = matches.loc[matches["motif"] != "", "neuron"].tolist()
        kinds.append(("knockout of the driving window", pd.read_csv(ko_path),
                      None if planted is None else
                      stage_knockout(stage, res, active, matched, planted, planted_values)))
    counts = {}
    for label, tab, ref in kinds:
        cmp = compare_with_truth(tab, matches, truth, reference=ref)
        print(f"  contribution by {label}:")
        print(cmp.to_string(index=False))
        # motifs sharing a consensus (uAUG_out/uAUG_in) list the same neurons: count them once
        counts[label] = cmp.drop_duplicates("consensus")[list(TRUTH_COUNTS)].sum()
    return counts


def check_contribution(config: str | Path, layers: list[int], truth: str | Path | None = None,
                       device: str | None = None) -> int:
    """Compare contribution calls with a synthetic set's planted motif signs and print the tables.

    Each measure is also run on the planted rule itself (the noise-free label
    the generator computes), on the same activated / non-activated split and,
    for the knockout, on the same shuffled variants: a neuron whose motif's
    sign the planted rule does not show under that measure is reported as
    confounded rather than judged (see :func:`compare_with_truth`).

    Parameters
    ----------
    config : str or Path
        The contribution config whose results are checked.
    layers : list of int
        Conv layers (1-based), every one already run by ``combmotif contribution``.
    truth : str or Path, optional
        A truth file (default: ``truth.json`` next to the config's data file).
    device : str, optional
        Overrides the config's ``device``.

    Returns
    -------
    int
        0.
    """
    from ..data.truth import is_planted, load_truth, require_signs
    from ..sequences import onehot_to_codes
    from .interaction import planted_function

    cfg = load_config(config, ContributionConfig, {"device": device} if device else None)
    stage = Stage(cfg, config, "contribution")
    stage.check_layers(layers)
    _require_results(stage, layers, str(config))
    X, _, meta = stage.data
    truth = load_truth(truth or Path(meta["path"]).parent / "truth.json")
    require_signs(truth)
    codes = onehot_to_codes(X)
    # A hand-written truth has no planted rule to run as the reference: every
    # matched neuron is judged against its motif's stated sign instead.
    planted = planted_function(truth) if is_planted(truth) else None
    planted_values = planted(X) if planted is not None else None
    if planted is None:
        print("hand-written truth: no planted rule to measure, so nothing is counted as confounded")
    totals: dict[str, pd.Series] = {}
    for L in layers:
        for label, counts in _check_layer(stage, L, truth, codes, planted, planted_values).items():
            totals[label] = totals[label] + counts if label in totals else counts
    for label, c in totals.items():
        verdict = ("some neurons have the opposite sign of their planted motif" if c["opposite"]
                   else "no neuron has the opposite sign of its planted motif" if c["neutral"]
                   else "every judged neuron has the sign of its planted motif")
        print(f"{label}: " + ", ".join(f"{k} {int(c[k])}" for k in TRUTH_COUNTS) + f": {verdict}")
    return 0
