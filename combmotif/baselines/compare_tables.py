"""The method comparison's computations: every method's segments matched against one
database in one Tomtom call, and the tables built from the matches (counts, best q per
database motif group, paired tests, overlap, run time)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..motifs.formats import Motif
from ..motifs.match import MatchConfig, load_neuron, neuron_dirs
from ..motifs.tomtom import tomtom

SEGMENT_COLUMNS = ["method", "layer", "neuron", "cluster", "segment", "consensus", "length", "information"]
MATCH_COLUMNS = ["method", "layer", "neuron", "cluster", "segment", "rank", "target", "target_source",
                 "q", "p", "offset", "overlap", "orientation", "segment_consensus", "target_consensus"]


def layer_segments(layer_dir: str | Path, neurons: Sequence[int] | None = None
                   ) -> tuple[list[Motif], pd.DataFrame]:
    """Every motif segment of a layer folder (query motifs named ``neuron<k>/<segment>``) and a table.

    Parameters
    ----------
    layer_dir : str or Path
        A ``<layer>`` folder of unit folders.
    neurons : sequence of int, optional
        Only these units.

    Returns
    -------
    tuple
        The segments' rows and their motifs (as Tomtom queries).
    """
    queries, rows = [], []
    layer_dir = Path(layer_dir)
    if not layer_dir.is_dir():
        return [], pd.DataFrame(columns=SEGMENT_COLUMNS[2:])
    keep = None if neurons is None else set(int(k) for k in neurons)
    for k, path in neuron_dirs(layer_dir):
        if keep is not None and k not in keep:
            continue
        if not (path / "clusters.json").is_file():
            continue
        nr = load_neuron(path)
        for seg in nr.segments:
            queries.append(dataclasses.replace(seg.motif, name=f"neuron{k}/{seg.name}"))
            rows.append({"neuron": k, "cluster": -1 if seg.cluster is None else seg.cluster,
                         "segment": seg.name, "consensus": seg.motif.consensus, "length": len(seg.motif),
                         "information": round(seg.motif.total_information, 3)})
    return queries, pd.DataFrame(rows, columns=SEGMENT_COLUMNS[2:])


def match_segments(queries: Sequence[Motif], targets: Sequence[Motif], cfg: MatchConfig) -> pd.DataFrame:
    """One Tomtom call; the best ``cfg.top_k`` targets per segment with q <= ``cfg.thresh``.

    With the default ``q_scope: query`` q-values are Benjamini-Hochberg over
    each segment's comparisons with the database (MEME tomtom's own definition,
    whichever backend runs), so a segment's q depends on its match alone: not on
    how many segments its method produced, nor on the other methods' segments.

    Parameters
    ----------
    queries, targets : sequence of Motif
        Segments and the database.
    cfg : MatchConfig
        Tomtom settings.

    Returns
    -------
    pandas.DataFrame
        One row per kept match.
    """
    cols = [c for c in MATCH_COLUMNS[2:] if c != "cluster"]
    if not queries:
        return pd.DataFrame(columns=cols)
    kw = {"min_query_mean_ic": cfg.min_query_mean_ic} if hasattr(cfg, "min_query_mean_ic") else {}
    df = tomtom(queries, targets, backend=cfg.tomtom_backend, norc=cfg.given_strand, dist=cfg.dist,
                min_query_ic=cfg.min_query_ic, thresh=None, q_scope=cfg.q_scope,
                n_jobs=cfg.n_jobs, **kw)
    if not len(df):
        return pd.DataFrame(columns=cols)
    df = df[df["q-value"] <= cfg.thresh].sort_values(["Query_ID", "p-value", "Target_ID"], kind="stable")
    # Keep the segments' order of appearance.
    order = {name: i for i, name in enumerate(m.name for m in queries)}
    df = df.assign(_o=df["Query_ID"].map(order)).sort_values(["_o", "p-value"], kind="stable")
    df = df.groupby("Query_ID", sort=False).head(cfg.top_k)
    src = {t.name: t.source for t in targets}
    # Query ids end in "neuron<k>/<segment>"; anything before is kept in front of the segment.
    qid = df["Query_ID"].str.rsplit("/", n=2)
    head = qid.str[0].where(qid.str.len() == 3, "")
    neuron = qid.str[-2]
    out = pd.DataFrame({
        "neuron": neuron.str.removeprefix("neuron").astype(int),
        "segment": (head + "/").where(head != "", "") + qid.str[-1],
        "rank": df.groupby("Query_ID", sort=False).cumcount() + 1, "target": df["Target_ID"],
        "target_source": df["Target_ID"].map(src).fillna(""), "q": df["q-value"], "p": df["p-value"],
        "offset": df["Optimal_offset"], "overlap": df["Overlap"], "orientation": df["Orientation"],
        "segment_consensus": df["Query_consensus"], "target_consensus": df["Target_consensus"]})
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- tables


def best_per_group(matches: pd.DataFrame, groups: dict[str, int], significance: float) -> pd.DataFrame:
    """(method, group) -> best q, its target, where it was found; only q < ``significance``.

    Parameters
    ----------
    matches : pandas.DataFrame
        Every method's matches.
    groups : dict of str to int
        Database motif -> group of near-duplicates.
    significance : float
        q below which a match counts.

    Returns
    -------
    pandas.DataFrame
        One row per (method, group).
    """
    cols = ["method", "group", "q", "neglog10_q", "target", "layer", "neuron", "segment"]
    hits = matches[matches["q"] < significance]
    if not len(hits):
        return pd.DataFrame(columns=cols)
    hits = hits.assign(group=hits["target"].map(groups))
    if hits["group"].isna().any():
        raise InputError("a match names a target that is not in the database")
    best = hits.sort_values(["method", "group", "q", "layer", "neuron"], kind="stable") \
        .groupby(["method", "group"], sort=False).head(1)
    best = best.assign(group=best["group"].astype(int),
                       # rounded: equal matches must not differ by float noise in the paired tests
                       neglog10_q=np.round(-np.log10(np.clip(best["q"].to_numpy(float), 1e-300, None)), 6))
    return best[cols].reset_index(drop=True)


def count_table(matches: pd.DataFrame, groups: dict[str, int], significance: float,
                methods: Sequence[str], layers: Sequence[str]) -> pd.DataFrame:
    """Distinct database motif groups matched at q < ``significance``, per method and layer (+ all).

    Parameters
    ----------
    matches : pandas.DataFrame
        Every method's matches.
    groups : dict of str to int
        Database motif -> group.
    significance : float
        q below which a match counts.
    methods : sequence of str
        Rows.
    layers : sequence of str
        Columns (``conv<L>``, ``output``).

    Returns
    -------
    pandas.DataFrame
        Counts per method and layer, with a total.
    """
    hits = matches[matches["q"] < significance]
    hits = hits.assign(group=hits["target"].map(groups))
    rows = []
    for m in methods:
        h = hits[hits["method"] == m]
        row = {"method": m}
        for L in layers:
            row[L] = int(h.loc[h["layer"] == L, "group"].nunique())
        row["all layers"] = int(h["group"].nunique())
        rows.append(row)
    return pd.DataFrame(rows, columns=["method", *layers, "all layers"])


def paired_tests(best: pd.DataFrame, methods: Sequence[str], reference: str = "neuronmotif") -> pd.DataFrame:
    """Wilcoxon signed-rank tests of ``reference`` vs every other method on -log10 q.

    Two families: the groups found by both methods (``both``) and the groups
    found by every method (``all methods``). The unit is a database motif
    group; BH over the baselines within each family. Fewer than 5 pairs or
    no non-zero difference: no test (NaN).

    Parameters
    ----------
    best : pandas.DataFrame
        :func:`best_per_group`.
    methods : sequence of str
        The methods compared.
    reference : str
        The method tested against every other.

    Returns
    -------
    pandas.DataFrame
        One row per baseline and set (n, medians, W, p, BH q).
    """
    from scipy.stats import wilcoxon

    from ..stats import bh_qvalues

    cols = ["reference", "method", "set", "n", "median_reference", "median_method", "median_difference",
            "statistic", "p", "q"]
    if reference not in methods:
        return pd.DataFrame(columns=cols)
    wide = best.pivot_table(index="group", columns="method", values="neglog10_q", aggfunc="max")
    everyone = wide.dropna(subset=[m for m in methods if m in wide.columns]).index \
        if all(m in wide.columns for m in methods) else pd.Index([])
    rows = []
    for kind in ("both", "all methods"):
        part = []
        for m in methods:
            if m == reference:
                continue
            if reference in wide.columns and m in wide.columns:
                sub = wide[[reference, m]].dropna()
                if kind == "all methods":
                    sub = sub.loc[sub.index.intersection(everyone)]
            else:
                sub = pd.DataFrame(columns=[reference, m])
            x, y = sub[reference].to_numpy(float), sub[m].to_numpy(float)
            stat = p = float("nan")
            if len(x) >= 5 and np.any(x != y):
                res = wilcoxon(x, y)
                stat, p = float(res.statistic), float(res.pvalue)
            part.append({"reference": reference, "method": m, "set": kind, "n": len(x),
                         "median_reference": float(np.median(x)) if len(x) else float("nan"),
                         "median_method": float(np.median(y)) if len(y) else float("nan"),
                         "median_difference": float(np.median(x - y)) if len(x) else float("nan"),
                         "statistic": stat, "p": p})
        q = bh_qvalues(np.array([r["p"] for r in part], dtype=float)) if part else []
        for r, qq in zip(part, q):
            r["q"] = float(qq)
        rows += part
    return pd.DataFrame(rows, columns=cols)


def overlap_table(best: pd.DataFrame, methods: Sequence[str], representative: dict[int, str]) -> pd.DataFrame:
    """One row per matched group: which methods found it and their best q.

    Parameters
    ----------
    best : pandas.DataFrame
        :func:`best_per_group`.
    methods : sequence of str
        The methods compared.
    representative : dict of int to str
        Group -> the database motif that names it.

    Returns
    -------
    pandas.DataFrame
        One row per group: its methods and their best q.
    """
    cols = ["group", "representative", "n_methods", *[f"q_{m}" for m in methods]]
    if not len(best):
        return pd.DataFrame(columns=cols)
    wide = best.pivot_table(index="group", columns="method", values="q", aggfunc="min")
    rows = []
    for g, r in wide.iterrows():
        row = {"group": int(g), "representative": representative.get(int(g), str(g))}
        row["n_methods"] = int(sum(pd.notna(r.get(m)) for m in methods))
        for m in methods:
            row[f"q_{m}"] = float(r[m]) if m in wide.columns and pd.notna(r[m]) else float("nan")
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["n_methods", "group"], ascending=[False, True], kind="stable").reset_index(drop=True)
