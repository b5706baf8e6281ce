"""Motif families matched across models: cross-model groups, shared or model-specific.

Every model's families (:mod:`combmotif.motifs.families`: model-wide, one
representative PPM each) are pooled and compared by Tomtom with the project's
one near-duplicate test (:func:`combmotif.motifs.collect.similar_pairs`: mutual
q < ``match_q`` over ``min_cover`` of the longer representative). Only matches
between families of *different* models join groups, and of those only reciprocal
best hits plus, for a family without one, its best hit (:func:`best_hit_edges`);
groups are the connected components. Two families one model keeps apart so stay
apart unless both are closest to one family of another model (a motif one model
split in two). A group held by every model is ``shared``; by one, ``<label>-only``; by
some of three or more, ``shared:<a>+<b>``. Strands: both when any compared model
reads DNA (its motifs may sit on either strand), else the given strand.

The motif databases are a second, shared vocabulary. Two models may learn one
motif at different lengths (an ARE core as ``TTTATTT`` in one, only ``ATTTA`` in the
other): a short core has too little information for a family-to-family q below
``match_q`` among a hundred families, yet each is named after the ARE by its own
match to the database. So two families of different models also match when each
matches (q < ``match_q``) a database motif of one group of near-duplicate
database motifs (:func:`~combmotif.motifs.collect.database_groups`, the project's
one grouping, over the models' databases pooled by name); such a match's q is the
larger of the two families' database q. ``match_via`` says which route joined a
family: ``motif`` (its own Tomtom match) or ``database:<motif>``.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd

from ..errors import InputError
from ..motifs.collect import components, database_groups, layer_dirs, similar_pairs
from ..motifs.families import Family, FamilySettings, ensure_families, read_families
from ..motifs.formats import Motif
from .config import ComparedModel

MEMBER_COLUMNS = ["group", "model", "family", "name", "target", "q", "consensus", "pattern",
                  "n_neurons", "layers", "neurons", "match_q", "match_via"]


def model_families(model: ComparedModel) -> list[Family]:
    """A model's families (made as discovery makes them when missing), with only the compared layers' neurons.

    Parameters
    ----------
    model : ComparedModel
        The model; ``layers`` None keeps every layer.

    Returns
    -------
    list of Family
        Families without a neuron in the compared layers are left out.

    Raises
    ------
    combmotif.errors.InputError
        The model has no discovery outputs.
    """
    if not layer_dirs(model.model_dir):
        raise InputError(f"{model.discovery_config}: no discovery outputs in "
                         f"{model.model_dir / 'discovery'} (run combmotif discovery first)")
    # The families the other stages used (candidates.csv names their ids): made only when missing,
    # then as discovery makes them.
    families = read_families(model.model_dir) or ensure_families(
        model.model_dir, FamilySettings(q_max=model.matching.significance), model.matching)
    if model.layers is None:
        return families
    keep = {f"conv{L}" for L in model.layers}
    out = []
    for f in families:
        neurons = [n for n in f.neurons if n.split("/")[0] in keep]
        if neurons:
            out.append(dataclasses.replace(f, neurons=neurons))
    return out


def pooled_match_config(models: list[ComparedModel]):
    """The matching settings of the cross-model Tomtom: the first model's, strands by molecule.

    Parameters
    ----------
    models : list of ComparedModel
        The compared models.

    Returns
    -------
    combmotif.motifs.match.MatchConfig
        Both strands when any model reads DNA, else the given strand.
    """
    strands = "both" if any(m.molecule == "dna" for m in models) else "given"
    return dataclasses.replace(models[0].matching, strands=strands, norc=None)


def match_families(models: list[ComparedModel], families: list[list[Family]], match_q: float = 0.05,
                   min_cover: float = 0.5, database: list[Motif] | None = None) -> pd.DataFrame:
    """Cross-model groups of families: one row per (group, model, family) (:data:`MEMBER_COLUMNS`).

    Parameters
    ----------
    models : list of ComparedModel
        The compared models.
    families : list of list of Family
        Each model's families (:func:`model_families`), in ``models`` order.
    match_q : float
        Mutual Tomtom q two families must beat (and each family's database q, for a
        match through the database).
    min_cover : float
        Share of the longer representative the alignment must cover.
    database : list of Motif, optional
        The models' motif databases pooled (:func:`pooled_database`); None: families
        match by their own Tomtom only.

    Returns
    -------
    pandas.DataFrame
        Groups ``G1, G2, ...``: held by more models first, then more neurons; ``match_q``
        is a family's best q against a family of another model in its group (NaN: none),
        ``match_via`` how that match was made.
    """
    owner = np.array([i for i, fams in enumerate(families) for _ in fams], dtype=np.int64)
    flat = [f for fams in families for f in fams]
    if not flat:
        return pd.DataFrame(columns=MEMBER_COLUMNS)
    cfg = pooled_match_config(models)
    pool = [Motif(f"m{i}:{f.id}", f.representative.ppm) for i, f in zip(owner, flat)]
    pairs, q = similar_pairs(pool, match_q, min_cover, cfg, with_q=True)
    cross = owner[pairs[:, 0]] != owner[pairs[:, 1]]
    edges = {(a, b): (v, "motif") for (a, b), v in zip(pairs[cross].tolist(), q[cross].tolist())}
    for key, (v, via) in database_edges(owner, flat, database, match_q, cfg).items():
        if key not in edges or v < edges[key][0]:
            edges[key] = (v, via)
    keys = sorted(edges)
    pairs = np.array(keys, dtype=np.int64).reshape(-1, 2)
    q = np.array([edges[k][0] for k in keys], dtype=float)
    kept = best_hit_edges(owner, pairs, q)
    comp = components(len(flat), pairs[kept])
    best = np.full(len(flat), np.nan)
    via = [""] * len(flat)
    for (a, b), v in zip(pairs.tolist(), q.tolist()):
        if comp[a] != comp[b]:
            continue
        for x in (a, b):
            if not v >= best[x]:        # NaN (none yet) or better
                best[x], via[x] = v, edges[(a, b)][1]
    rows = [{"group": int(g), "model": models[o].label, "family": f.id, "name": f.name,
             "target": f.target, "q": f.q, "consensus": f.consensus, "pattern": f.pattern,
             "n_neurons": len(f.neurons), "layers": ";".join(f"conv{L}" for L in f.layers),
             "neurons": ";".join(f.neurons), "match_q": m, "match_via": v}
            for g, o, f, m, v in zip(comp.tolist(), owner.tolist(), flat, best.tolist(), via)]
    df = pd.DataFrame(rows, columns=MEMBER_COLUMNS)
    return _number_groups(df, [m.label for m in models])


def pooled_database(models: list[ComparedModel]) -> list[Motif]:
    """Every compared model's motif database (its discovery config's ``motif_db``), pooled by name.

    Parameters
    ----------
    models : list of ComparedModel
        The compared models.

    Returns
    -------
    list of Motif
        A motif name two databases share is read once (the first model's).

    Raises
    ------
    combmotif.errors.InputError
        A model's ``motif_db`` cannot be read (the message names its config).
    """
    from ..motifs.databases import check_motif_db

    seen: dict[str, Motif] = {}
    for m in models:
        for t in check_motif_db(m.motif_db, m.discovery_config, data_dir=m.data_dir):
            seen.setdefault(t.name, t)
    return list(seen.values())


def database_edges(owner: np.ndarray, flat: list[Family], database: list[Motif] | None, match_q: float,
                   cfg) -> dict[tuple[int, int], tuple[float, str]]:
    """Cross-model family pairs that match one group of near-duplicate database motifs.

    Parameters
    ----------
    owner : numpy.ndarray
        (n,) model index of each family.
    flat : list of Family
        Every model's families, in ``owner`` order.
    database : list of Motif or None
        The pooled databases; None or empty: no pairs.
    match_q : float
        A family's database q must be below this.
    cfg : MatchConfig
        The cross-model matching settings (strands).

    Returns
    -------
    dict
        ``(i, j) -> (q, "database:<motif>")``, ``i < j``: ``q`` the larger of the two
        families' best q in their shared group (the smallest such over shared groups),
        ``<motif>`` the better-matched family's database motif there.
    """
    if not database:
        return {}
    group = database_groups(database, cfg=cfg)
    # family -> {database group: (best q, its motif)}
    held: list[dict[int, tuple[float, str]]] = []
    for f in flat:
        hits = f.matches or ([(f.target, f.q)] if f.target else [])
        mine: dict[int, tuple[float, str]] = {}
        for t, v in hits:
            if t in group and float(v) < match_q and (group[t] not in mine or float(v) < mine[group[t]][0]):
                mine[group[t]] = (float(v), str(t))
        held.append(mine)
    holders: dict[int, list[int]] = {}      # database group -> families naming it, ascending
    for i, mine in enumerate(held):
        for g in mine:
            holders.setdefault(g, []).append(i)
    out: dict[tuple[int, int], tuple[float, str]] = {}
    for g, fams in holders.items():
        for a, b in itertools.combinations(fams, 2):
            if owner[a] == owner[b]:
                continue
            v = max(held[a][g][0], held[b][g][0])
            if (a, b) not in out or v < out[(a, b)][0]:
                out[(a, b)] = (v, f"database:{min(held[a][g], held[b][g])[1]}")
    return out


def best_hit_edges(owner: np.ndarray, pairs: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Which cross-model matches join groups: reciprocal best hits, then each family's best hit.

    For every family and every other model, its best match there (lowest q; ties:
    lower index). A pair that is each other's best is kept; a family left without
    such a pair is attached to its best match over all other models. Several
    families of one model can so join one group (a motif one model split in two),
    but a chain of second-best matches cannot merge distinct motifs.

    Parameters
    ----------
    owner : numpy.ndarray
        (n,) model index of each family.
    pairs : numpy.ndarray
        (E, 2) cross-model family pairs that match.
    q : numpy.ndarray
        (E,) their q-values.

    Returns
    -------
    numpy.ndarray
        (E,) bool: the pairs kept.
    """
    best: dict[tuple[int, int], tuple[float, int, int]] = {}   # (family, other model) -> (q, partner, edge)
    for e, ((a, b), v) in enumerate(zip(pairs.tolist(), q.tolist())):
        for x, y in ((a, b), (b, a)):
            key = (x, int(owner[y]))
            if key not in best or (v, y) < best[key][:2]:
                best[key] = (v, y, e)
    keep = np.zeros(len(pairs), dtype=bool)
    for (x, m), (_, y, e) in best.items():
        if best.get((y, int(owner[x])), (0, -1))[1] == x:
            keep[e] = True
    joined = set(pairs[keep].ravel().tolist())
    for x in sorted({x for x, _ in best} - joined):
        keep[min((v, y, e) for (f, _), (v, y, e) in best.items() if f == x)[2]] = True
    return keep


def _number_groups(df: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Renumber component ids as ``G1..``: more models first, then more neurons, then first seen."""
    held = df.groupby("group")["model"].nunique()
    neurons = df.groupby("group")["n_neurons"].sum()
    order = sorted(held.index, key=lambda g: (-held[g], -neurons[g], g))
    ids = {g: f"G{i}" for i, g in enumerate(order, start=1)}
    rank = {m: i for i, m in enumerate(labels)}
    out = df.assign(group=df["group"].map(ids), _g=df["group"].map({g: i for i, g in enumerate(order)}),
                    _m=df["model"].map(rank))
    return out.sort_values(["_g", "_m"], kind="stable").drop(columns=["_g", "_m"]).reset_index(drop=True)


def group_class(held: list[str], labels: list[str]) -> str:
    """``shared`` (every model), ``<label>-only`` (one) or ``shared:<a>+<b>`` (some).

    Parameters
    ----------
    held : list of str
        The labels of the models holding the group.
    labels : list of str
        Every compared model's label, in config order.

    Returns
    -------
    str
    """
    held = [m for m in labels if m in set(held)]
    if len(held) == len(labels):
        return "shared"
    if len(held) == 1:
        return f"{held[0]}-only"
    return "shared:" + "+".join(held)


def groups_table(members: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """``groups.csv``: one row per cross-model group, the models' families side by side.

    Columns: ``group``, ``name`` (a member's database name, the family with most
    neurons first; else ``<group>-<pattern>``), ``class`` (:func:`group_class`),
    ``models``, ``match_q`` (best cross-model q; empty for a one-model group),
    ``match_via`` (that match's route, :func:`match_families`), ``consensus``; then per model
    ``<label>_families``, ``<label>_name``,
    ``<label>_target``, ``<label>_q`` (best database q), ``<label>_n_neurons``,
    ``<label>_layers``.

    Parameters
    ----------
    members : pandas.DataFrame
        From :func:`match_families`.
    labels : list of str
        The model labels, in config order.

    Returns
    -------
    pandas.DataFrame
    """
    rows = []
    for gid, g in members.groupby("group", sort=False):
        top = g.sort_values("n_neurons", ascending=False, kind="stable")
        named = top[top["target"].astype(str) != ""]
        label = top["pattern"].iloc[0] or top["consensus"].iloc[0]
        name = str(named["target"].iloc[0]) if len(named) else f"{gid}-{label}"
        matched = g.dropna(subset=["match_q"]).sort_values("match_q", kind="stable")
        row = {"group": gid, "name": name, "class": group_class(list(g["model"]), labels),
               "models": ";".join(m for m in labels if m in set(g["model"])),
               "match_q": g["match_q"].min(), "match_via": matched["match_via"].iloc[0] if len(matched) else "",
               "consensus": top["consensus"].iloc[0]}
        for lab in labels:
            mine = g[g["model"] == lab]
            layers = sorted({x for s in mine["layers"] for x in str(s).split(";") if x}, key=lambda s: int(s[4:]))
            row.update({f"{lab}_families": ";".join(mine["family"]), f"{lab}_name": ";".join(mine["name"]),
                        f"{lab}_target": ";".join(t for t in mine["target"].astype(str) if t),
                        f"{lab}_q": mine["q"].min(), f"{lab}_n_neurons": int(_neurons(mine)),
                        f"{lab}_layers": ";".join(layers)})
        rows.append(row)
    return pd.DataFrame(rows)


def _neurons(mine: pd.DataFrame) -> int:
    """Distinct neurons of a model's families in one group."""
    return len({n for s in mine["neurons"] for n in str(s).split(";") if n})


def membership_table(groups: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """``membership.csv``: group, name, class and one 0/1 column per model (the Venn / UpSet input).

    Parameters
    ----------
    groups : pandas.DataFrame
        From :func:`groups_table`.
    labels : list of str
        The model labels.

    Returns
    -------
    pandas.DataFrame
    """
    out = groups[["group", "name", "class"]].copy()
    for lab in labels:
        out[lab] = (groups[f"{lab}_families"].astype(str) != "").astype(int)
    return out
