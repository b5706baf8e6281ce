"""Pair candidates of a layer, spoken of as motif families, and their test over whole sequences.

Candidates (``interaction/conv<L>/candidates.csv``, :data:`CANDIDATE_COLUMNS`) come from

* **syntax**: the layer's syntax rules (``discovery/conv<L>/syntax_rules.csv``), whose
  motifs' member segments are mapped to model-wide families
  (:func:`combmotif.motifs.families.family_of`);
* **co-occurrence**: for each neuron of the layer, the windows that drive it
  (``fragments.npz``) are scanned for every usable family's IUPAC pattern; a pair of
  families whose non-overlapping sites share at least ``min_cooccurrence`` of one
  neuron's fragment sequences is a candidate (also a family with itself, two sites);
  so is a pair held together by at least ``min_cooccurrence`` of the whole sequences
  that drive one neuron, more often than independence predicts
  (:func:`sequence_cooccurrence`: motifs that act or occur together anywhere in a
  sequence longer than the neuron's window);
* **importance**: every pair of the ``importance_top`` families whose destruction
  moves the prediction most over whole sequences (significant at BH q < ``alpha``;
  :mod:`combmotif.interaction.importance`, ``conv<L>/family_effects.csv``). Layers
  above the convolutions (a GRU, a dense head) combine motifs that no conv neuron
  sees together, and only this source proposes such pairs. The families ranked
  there include the attribution families (:mod:`combmotif.interaction.attribution`):
  TF-MoDISco patterns of the output that no usable family stands for, such as a
  motif the neurons learned only fused into a composite with a neighbour.

A candidate is an unordered family pair, never two members of one family.
``n_sequences_both`` counts the scanned sequences holding both patterns at
non-overlapping sites, so an untested pair says how rare it is.
:func:`run_layer_sequences` tests every candidate (and any hand-written or
template pair of the neurons) over whole sequences
(:func:`~combmotif.interaction.scope.run_sequence_scope`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .. import layout
from ..io import atomic_path
from ..motifs.families import Family, family_of, pattern_letters, patterns_overlap
from ..pattern_scan import pattern_hits
from ..perturb import target_predictor
from ..sequences import decode, onehot_to_codes
from ..stage import Stage
from .attribution import attribution_enabled, stage_attribution_families
from .fragments import Fragments
from .importance import EFFECT_COLUMNS, family_effects, important_pairs
from .labels import Combination, dedupe, same_motif
from .scope import run_sequence_scope
from .stage import discovery_dir, resolve_labels, run_fragment_location, stage_families

SOURCES = ("syntax", "cooccurrence", "importance")
CANDIDATE_COLUMNS = ["familyA", "familyB", "nameA", "nameB", "patternA", "patternB", "source",
                     "neurons", "n_windows", "n_fragment_sequences", "n_sequences_both"]


def pattern_sites(codes: np.ndarray, pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """First and last start of an IUPAC pattern in each row of codes (-1 when absent).

    Parameters
    ----------
    codes : numpy.ndarray
        (M, W) integer codes, 0-3 = A, C, G, T; anything else (4: outside) never matches.
    pattern : str
        IUPAC letters.

    Returns
    -------
    first, last : numpy.ndarray
        (M,) int64 starts of the leftmost and rightmost match.
    """
    m, w = np.shape(codes)
    k = len(pattern)
    if k == 0 or k > w:
        return np.full(m, -1, np.int64), np.full(m, -1, np.int64)
    hit = pattern_hits(codes, pattern)
    found = hit.any(1)
    first = np.where(found, hit.argmax(1), -1)
    last = np.where(found, w - k - hit[:, ::-1].argmax(1), -1)
    return first.astype(np.int64), last.astype(np.int64)


def pair_present(sites_a, sites_b, width_a: int, width_b: int, same: bool = False) -> np.ndarray:
    """Whether a row holds an A site and a B site that do not overlap.

    The leftmost A and the rightmost B (or the reverse) decide it: any
    non-overlapping pair with A first implies that one.

    Parameters
    ----------
    sites_a, sites_b : tuple of numpy.ndarray
        :func:`pattern_sites` of A and of B.
    width_a, width_b : int
        Pattern lengths.
    same : bool
        A and B are one family: two sites are needed.

    Returns
    -------
    numpy.ndarray
        (M,) bool.
    """
    (fa, la), (fb, lb) = sites_a, sites_b
    ok = (fa >= 0) & (fb >= 0)
    if same:
        return ok & (fa + width_a <= la)
    return ok & ((fa + width_a <= lb) | (fb + width_b <= la))


def cooccurrence(codes: np.ndarray, neuron: np.ndarray, seq: np.ndarray,
                 families: Sequence[Family], min_count: int) -> pd.DataFrame:
    """Family pairs whose sites co-occur in the windows driving one neuron.

    Parameters
    ----------
    codes : numpy.ndarray
        (M, rf) window codes (``fragments.npz``), 4 outside the sequence.
    neuron, seq : numpy.ndarray
        (M,) each window's neuron and sequence.
    families : sequence of Family
        Usable families (their ``pattern`` is scanned).
    min_count : int
        Fewest distinct sequences of one neuron's windows holding the pair.

    Returns
    -------
    pandas.DataFrame
        ``familyA``, ``familyB``, ``neuron``, ``n_windows``, ``n_fragment_sequences``.
    """
    sites = [pattern_sites(codes, f.pattern) for f in families]
    widths = [len(f.pattern) for f in families]
    present = np.stack([s[0] >= 0 for s in sites]) if sites else np.zeros((0, len(seq)), bool)
    rows = []
    for k in np.unique(neuron):
        idx = np.flatnonzero(neuron == k)
        # Only families seen in at least min_count of this neuron's sequences can pass.
        seen = [i for i in range(len(families))
                if len(np.unique(seq[idx][present[i, idx]])) >= min_count]
        for a_pos, a in enumerate(seen):
            for b in seen[a_pos:]:
                both = pair_present(tuple(s[idx] for s in sites[a]), tuple(s[idx] for s in sites[b]),
                                    widths[a], widths[b], same=a == b)
                n_seq = len(np.unique(seq[idx][both]))
                if n_seq >= min_count:
                    rows.append((families[a].id, families[b].id, int(k), int(both.sum()), n_seq))
    return pd.DataFrame(rows, columns=["familyA", "familyB", "neuron", "n_windows",
                                       "n_fragment_sequences"])


def sequence_cooccurrence(present: np.ndarray, neuron: np.ndarray, seq: np.ndarray,
                          families: Sequence[Family], min_count: int, q_max: float = 0.01) -> pd.DataFrame:
    """Family pairs enriched together in the whole sequences that drive one neuron.

    A neuron's windows are shorter than its sequences, so two motifs that act
    together anywhere in a long sequence (or that the data plant together) need
    not share a window. Among the distinct sequences holding a neuron's fragments,
    a pair counts when at least ``min_count`` hold both families and they do so
    more often than independence predicts: one-sided hypergeometric test per
    (neuron, pair), Benjamini-Hochberg over all of them, q < ``q_max``. Chance
    co-occurrence of common patterns in long sequences is not enriched, so it
    does not flood the candidates.

    Parameters
    ----------
    present : numpy.ndarray
        (F, S) bool: family f's pattern occurs in scanned sequence s.
    neuron, seq : numpy.ndarray
        (M,) each fragment's neuron and sequence.
    families : sequence of Family
        The F families of ``present``, in its row order.
    min_count : int
        Fewest driving sequences holding both.
    q_max : float
        BH q-value of the enrichment.

    Returns
    -------
    pandas.DataFrame
        ``familyA``, ``familyB``, ``neuron``, ``n_windows`` (0), ``n_fragment_sequences``
        (driving sequences holding both).
    """
    from scipy.stats import hypergeom

    from ..stats import bh_qvalues

    cols = ["familyA", "familyB", "neuron", "n_windows", "n_fragment_sequences"]
    hits = []
    upper = np.triu_indices(len(families), 1)
    for k in np.unique(neuron):
        sub = present[:, np.unique(seq[neuron == k])].astype(np.int64)
        n_seq, n_fam = sub.shape[1], sub.sum(1)
        both = (sub @ sub.T)[upper]
        na, nb = n_fam[upper[0]], n_fam[upper[1]]
        p = hypergeom.sf(both - 1, n_seq, na, nb)
        hits.append((np.full(len(both), k), both, p))
    if not hits:
        return pd.DataFrame(columns=cols)
    ks, both, p = (np.concatenate(x) for x in zip(*hits))
    pairs = np.tile(np.stack(upper, 1), (len(hits), 1))
    keep = (both >= min_count) & (bh_qvalues(p) < q_max)
    return pd.DataFrame({"familyA": [families[i].id for i in pairs[keep, 0]],
                         "familyB": [families[j].id for j in pairs[keep, 1]],
                         "neuron": ks[keep].astype(int), "n_windows": 0,
                         "n_fragment_sequences": both[keep].astype(int)}, columns=cols)


def syntax_pairs(rules_csv: str | Path, seg_family: dict[str, str],
                 families: Sequence[Family]) -> pd.DataFrame:
    """Family pairs of a layer's syntax rules (each motif: the family most of its members are in).

    Parameters
    ----------
    rules_csv : str or Path
        ``discovery/conv<L>/syntax_rules.csv``; absent: no rows.
    seg_family : dict of str to str
        Segment motif_id -> family id (:func:`~combmotif.motifs.families.family_of`).
    families : sequence of Family
        Usable families (a rule naming another one is dropped).

    Returns
    -------
    pandas.DataFrame
        ``familyA``, ``familyB``, ``neuron`` (one row per neuron of each rule).
    """
    cols = ["familyA", "familyB", "neuron"]
    if not Path(rules_csv).is_file():
        return pd.DataFrame(columns=cols)
    rules = pd.read_csv(rules_csv, dtype=str, keep_default_na=False)
    usable = {f.id for f in families}
    rows = []
    for r in rules.itertuples():
        fa = _majority(r.membersA, seg_family) or _by_pattern(getattr(r, "patternA", ""), families)
        fb = _majority(r.membersB, seg_family) or _by_pattern(getattr(r, "patternB", ""), families)
        if fa in usable and fb in usable:
            rows += [(fa, fb, int(k)) for k in str(r.neurons).split(";") if k.strip().isdigit()]
    return pd.DataFrame(rows, columns=cols)


def _majority(members: str, seg_family: dict[str, str]) -> str:
    """The family most members are in ("" when none is in one)."""
    fams = [seg_family[m] for m in str(members).split(";") if m in seg_family]
    return max(sorted(set(fams), key=lambda f: int(f[1:])), key=fams.count) if fams else ""


def _by_pattern(pattern: str, families: Sequence[Family]) -> str:
    """The largest family whose pattern is the same motif as ``pattern`` ("" when none).

    A rule's motif may be the core of a segment that holds two motifs (member id
    ``<segment>:<k>``), which no family holds: its pattern decides."""
    if pattern_letters(str(pattern)) < 4:
        return ""
    return next((f.id for f in families if patterns_overlap(pattern, f.pattern)), "")


def layer_candidates(stage: Stage, layer: int, frags: Fragments,
                     families: Sequence[Family]) -> pd.DataFrame:
    """The layer's candidate family pairs -> ``conv<L>/candidates.csv``.

    Parameters
    ----------
    stage : Stage
        The interaction stage (model, data, config, results folder).
    layer : int
        1-based conv layer.
    frags : Fragments
        The layer's fragments (with ``fragments.npz`` beside them).
    families : sequence of Family
        The model's families; only usable ones are scanned.

    Returns
    -------
    pandas.DataFrame
        :data:`CANDIDATE_COLUMNS`, syntax pairs first, then by co-occurrence.
    """
    cfg = stage.cfg
    # Motifs the layer can see (a member at this layer or below) that more than one
    # neuron learned: a single segment's pattern is as often a chance pattern, and
    # short chance patterns co-occur with everything.
    usable = [f for f in families if f.usable and min(f.layers) <= layer
              and len(f.neurons) >= cfg.family_min_neurons]
    # Motifs the output uses that no usable family stands for: only the importance source sees them.
    extra = stage_attribution_families(stage, usable) if attribution_enabled(cfg) else []
    by_id = {f.id: f for f in usable + extra}
    with np.load(stage.layer_dir(layer) / "fragments.npz") as z:
        codes = z["codes"]
    co = cooccurrence(codes, frags.neuron, frags.seq, usable, cfg.min_cooccurrence)
    whole = onehot_to_codes(stage.data[0])
    # One scan of the data per family pattern, for the enrichment and for n_sequences_both.
    sites = {f.pattern: pattern_sites(whole, f.pattern) for f in usable + extra}
    present = np.stack([sites[f.pattern][0] >= 0 for f in usable]) if usable else \
        np.zeros((0, len(whole)), bool)
    co = pd.concat([c for c in (co, sequence_cooccurrence(present, frags.neuron, frags.seq, usable,
                                                          cfg.min_cooccurrence)) if len(c)]
                   or [co], ignore_index=True)
    disc = discovery_dir(stage)
    syn = syntax_pairs(layout.layer_dir(disc, layer) / "syntax_rules.csv", family_of(disc.parent), usable)
    imp = important_pairs(_layer_effects(stage, layer, usable + extra, sites, whole), cfg.importance_top,
                          cfg.alpha)
    rows = []
    for key, grp in _by_pair(co, syn, imp).items():
        fa, fb = by_id[key[0]], by_id[key[1]]
        src = set(grp["source"])
        rows.append({"familyA": fa.id, "familyB": fb.id, "nameA": fa.name, "nameB": fb.name,
                     "patternA": fa.pattern, "patternB": fb.pattern,
                     "source": ";".join(s for s in SOURCES if s in src),
                     "neurons": ";".join(str(k) for k in sorted(set(grp["neuron"])) if k >= 0),
                     "n_windows": int(grp["n_windows"].sum()),
                     "n_fragment_sequences": int(grp["n_fragment_sequences"].sum())})
    df = pd.DataFrame(rows, columns=CANDIDATE_COLUMNS[:-1])
    df["n_sequences_both"] = _sequences_both(sites, df)
    if len(df):
        # Pairs named by more sources first, then syntax before co-occurrence before importance.
        rank = df["source"].map(lambda s: (-s.count(";"), SOURCES.index(s.split(";")[0])))
        df = df.assign(_s=rank).sort_values(["_s", "n_fragment_sequences"], ascending=[True, False],
                                            kind="stable").drop(columns="_s")
    return df.reset_index(drop=True)[CANDIDATE_COLUMNS]


def _layer_effects(stage: Stage, layer: int, usable: Sequence[Family], sites: dict,
                   codes: np.ndarray) -> pd.DataFrame:
    """Each usable family's whole-sequence effect -> ``conv<L>/family_effects.csv``.

    ``sites`` and ``codes`` are the scan and the codes the candidates already made."""
    cfg = stage.cfg
    if cfg.importance_top < 1 or not usable:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    X = stage.data[0]
    eff = family_effects(target_predictor(stage), X, decode(codes), usable,
                         [sites[f.pattern][0] for f in usable],
                         max_sequences=cfg.sequence_max_pair_sequences or cfg.max_pair_sequences,
                         replicates=cfg.sequence_replicates or cfg.replicates, seed=cfg.seed,
                         max_redraws=cfg.max_redraws, n_boot=cfg.n_boot)
    with atomic_path(stage.layer_dir(layer) / "family_effects.csv") as tmp:
        eff.to_csv(tmp, index=False, float_format="%.6g")
    return eff


def _by_pair(co: pd.DataFrame, syn: pd.DataFrame, imp: pd.DataFrame | None = None) -> dict:
    """Rows of all sources grouped by unordered family pair (near-duplicates dropped)."""
    parts = [co.assign(source="cooccurrence"),
             syn.assign(source="syntax", n_windows=0, n_fragment_sequences=0)]
    if imp is not None and len(imp):
        parts.append(imp.assign(source="importance", neuron=-1, n_windows=0, n_fragment_sequences=0))
    allrows = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=["familyA", "familyB", "neuron", "n_windows", "n_fragment_sequences",
                                   "source"])
    keys = [tuple(sorted((a, b), key=lambda f: int(f[1:]))) for a, b in
            zip(allrows["familyA"], allrows["familyB"])]
    return {k: g for k, g in allrows.groupby(pd.Series(keys, index=allrows.index, dtype=object),
                                             sort=True)} if len(allrows) else {}


def _sequences_both(sites: dict[str, tuple], df: pd.DataFrame) -> list[int]:
    """Scanned sequences holding both patterns of each row at non-overlapping sites."""
    return [int(pair_present(sites[a], sites[b], len(a), len(b), same=fa == fb).sum())
            for a, b, fa, fb in zip(df["patternA"], df["patternB"], df["familyA"], df["familyB"])]


def candidate_combos(df: pd.DataFrame) -> list[Combination]:
    """One :class:`Combination` per candidate row, named ``F<a>xF<b>``.

    Parameters
    ----------
    df : pandas.DataFrame
        ``candidates.csv``.

    Returns
    -------
    list of Combination
    """
    return [Combination(f"{r.familyA}x{r.familyB}", [r.patternA], [r.patternB], r.nameA, r.nameB)
            for r in df.itertuples() if not (r.familyA != r.familyB and same_motif(r.patternA, r.patternB))]


def run_layer_sequences(stage: Stage, layer: int, neurons: Sequence[int], log=print) -> pd.DataFrame:
    """The layer's candidate pairs tested over whole sequences -> ``conv<L>/sequences/``.

    The candidates are the family pairs of :func:`layer_candidates` (written to
    ``conv<L>/candidates.csv``) and the hand-written or template labels of the
    given neurons; each is tested over every scanned sequence holding both
    motifs (:func:`~combmotif.interaction.scope.run_sequence_scope`).

    Parameters
    ----------
    stage : Stage
        The interaction stage (model, data, config, results folder).
    layer : int
        1-based conv layer.
    neurons : sequence of int
        0-based neurons whose fragments and labels give the candidates.
    log : callable
        Progress messages.

    Returns
    -------
    pandas.DataFrame
        ``conv<L>/sequences/motif_pair_stats.csv``.
    """
    frags = run_fragment_location(stage, layer)
    families = stage_families(stage, log)
    keep = np.isin(frags.neuron, np.asarray(neurons))
    mine = Fragments(frags.layer, frags.threshold, frags.rf,
                     **{k: getattr(frags, k)[keep] for k in Fragments._ROWS})
    cand = layer_candidates(stage, layer, mine, families) if families else pd.DataFrame(
        columns=CANDIDATE_COLUMNS)
    labelled = []
    for k in neurons:
        combos, source = resolve_labels(stage, layer, k, families)
        if not source.startswith("proposed"):
            labelled += combos
    combos = dedupe(candidate_combos(cand) + labelled)   # a candidate keeps its F<a>xF<b> name
    log(f"conv{layer}: {len(cand)} candidate family pairs ({len(families)} families) and "
        f"{len(dedupe(labelled))} labelled pairs -> {len(combos)} pairs to test")
    _write_candidates(stage.layer_dir(layer) / "candidates.csv", cand, None)   # before the (long) test
    cfg = stage.cfg
    df = run_sequence_scope(stage, combos, tag=f"conv{layer}_sequences", log=log,
                            out_dir=stage.layer_dir(layer) / "sequences",
                            max_sequences=cfg.sequence_max_pair_sequences, replicates=cfg.sequence_replicates)
    _write_candidates(stage.layer_dir(layer) / "candidates.csv", cand, df)
    return df


def _write_candidates(path: Path, cand: pd.DataFrame, tested: pd.DataFrame | None) -> None:
    """``candidates.csv``, with each pair's whole-sequence call beside it once tested."""
    out = cand.copy()
    if tested is None:
        with atomic_path(path) as tmp:
            out.to_csv(tmp, index=False)
        return
    calls = {str(c): r for c, r in zip(tested["combination"], tested.itertuples())} if len(tested) else {}
    for col in ("interaction", "epsilon", "q", "n", "reason"):
        out[col] = [getattr(calls[f"{a}x{b}"], col) if f"{a}x{b}" in calls else
                    ("untested" if col == "interaction" else "near-duplicate patterns" if col == "reason"
                     else np.nan)
                    for a, b in zip(cand["familyA"], cand["familyB"])]
    with atomic_path(path) as tmp:
        out.to_csv(tmp, index=False, float_format="%.6g")


def untested_lines(df: pd.DataFrame) -> list[str]:
    """One line per untested pair: names, the reason, how many sequences hold both.

    Parameters
    ----------
    df : pandas.DataFrame
        A classified pair table.

    Returns
    -------
    list of str
    """
    rows = df[df["interaction"] == "untested"] if len(df) else df
    return [f"untested: {r.motifA_name} x {r.motifB_name}: {r.reason} ({int(r.n)} sequences hold both)"
            for r in rows.itertuples()]
