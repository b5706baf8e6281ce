"""Collect the distinct database motifs a model's neurons matched.

A database often holds near-copies of one motif (ATtRACT has dozens of
HNRNPA1 and SRSF1 matrices), and one neuron segment then "matches" all of
them. Database motifs are therefore grouped first: Tomtom of the database
against itself, an edge between two motifs whose q-value is below
``merge_q`` (default 0.01) in both directions over most of the longer motif,
groups = connected components.
Each group is reported once, with the members that were matched.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .. import layout
from ..errors import InputError
from .formats import Motif
from .match import MatchConfig, _config, read_matches, write_csv
from .tomtom import tomtom

COLLECTED_COLUMNS = ["group", "representative", "group_size", "targets_matched", "sources",
                     "n_neurons", "n_segments", "layers", "best_q", "best_hit", "description"]
_LAYER_DIR = re.compile(r"^conv(\d+)$")


def database_groups(targets: Sequence[Motif], merge_q: float = 0.01, min_cover: float = 0.75,
                    cfg: MatchConfig | dict | None = None) -> dict[str, int]:
    """Target name -> group id; groups = connected components of near-duplicate pairs.

    Two database motifs are near-duplicates when Tomtom finds each for the other
    with q < ``merge_q`` and their alignment covers at least ``min_cover`` of the
    longer one (:func:`similar_pairs`). Both conditions stop single-linkage chaining
    through short motifs: ``AUG`` sits inside every Kozak-like matrix but is no copy
    of them. Group ids follow database order. Works on any motif list (database
    motifs, a layer's NeuronMotif segments, dictionary motifs).

    Parameters
    ----------
    targets : sequence of Motif
        The motif database.
    merge_q : float
        Tomtom q-value both directions must beat.
    min_cover : float
        Share of the longer motif the alignment must cover.
    cfg : MatchConfig or dict, optional
        Backend and strand settings.

    Returns
    -------
    dict of str to int
    """
    names = [t.name for t in targets]
    pairs = similar_pairs(targets, merge_q, min_cover, cfg)
    return dict(zip(names, components(len(names), pairs).tolist()))


def similar_pairs(motifs: Sequence[Motif], merge_q: float = 0.01, min_cover: float = 0.75,
                  cfg: MatchConfig | dict | None = None, with_q: bool = False
                  ) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Index pairs ``(i, j)``, ``i < j``, of near-duplicate motifs of one list (one Tomtom call).

    Near-duplicates: Tomtom finds each for the other with q < ``merge_q`` and their
    alignment covers at least ``min_cover`` of the longer one. Every motif is queried
    (no information cut), with the backend and strand setting of ``cfg``.

    Parameters
    ----------
    motifs : sequence of Motif
        Names must be unique.
    merge_q, min_cover : float
        As :func:`database_groups`.
    cfg : MatchConfig or dict, optional
        Backend and strand settings.
    with_q : bool
        Also return each pair's q: the larger of its two directions' Tomtom q.

    Returns
    -------
    numpy.ndarray
        (E, 2) int64, sorted; with ``with_q``, a tuple of it and the (E,) q-values.
    """
    cfg = _config(cfg)
    names = [t.name for t in motifs]
    if len(names) < 2:
        none = np.zeros((0, 2), dtype=np.int64)
        return (none, np.zeros(0)) if with_q else none
    length = np.array([len(t) for t in motifs])
    df = tomtom(motifs, motifs, backend=cfg.tomtom_backend, norc=cfg.given_strand, dist=cfg.dist,
                min_query_ic=0.0, min_query_mean_ic=0.0, thresh=merge_q, q_scope=cfg.q_scope,
                n_jobs=cfg.n_jobs)
    index = {n: i for i, n in enumerate(names)}
    i = df["Query_ID"].map(index).to_numpy(dtype=np.int64)
    j = df["Target_ID"].map(index).to_numpy(dtype=np.int64)
    keep = ((df["q-value"].to_numpy() < merge_q) & (i != j)
            & (df["Overlap"].to_numpy() >= min_cover * np.maximum(length[i], length[j])))
    found = dict(zip(zip(i[keep].tolist(), j[keep].tolist()), df["q-value"].to_numpy()[keep].tolist()))
    mutual = sorted((a, b) for a, b in found if a < b and (b, a) in found)
    pairs = np.array(mutual, dtype=np.int64).reshape(-1, 2)
    if not with_q:
        return pairs
    return pairs, np.array([max(found[a, b], found[b, a]) for a, b in mutual], dtype=np.float64)


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Connected components of ``n`` nodes joined by ``pairs``, numbered by first member.

    Parameters
    ----------
    n : int
        Number of nodes.
    pairs : numpy.ndarray
        (E, 2) node index pairs.

    Returns
    -------
    numpy.ndarray
        (n,) int64 component id of each node; ids follow node order (node 0 is in group 0).
    """
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # Renumber so groups appear in node order.
    first: dict[int, int] = {}
    for lab in labels:
        first.setdefault(int(lab), len(first))
    return np.array([first[int(lab)] for lab in labels], dtype=np.int64)


def layer_dirs(model_dir: str | Path) -> list[tuple[int, Path]]:
    """``(L, path)`` of every ``discovery/conv<L>`` folder of a model's results, by L.

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.

    Returns
    -------
    list of (int, Path)
        Empty when there is no discovery folder.
    """
    disc = layout.model_stage_dir(model_dir, "discovery")
    if not disc.is_dir():
        return []
    out = [(int(m.group(1)), p) for p in disc.iterdir()
           if (m := _LAYER_DIR.match(p.name)) and p.is_dir()]
    return sorted(out)


def collect_model(model_dir: str | Path, targets: Sequence[Motif],
                  cfg: MatchConfig | dict | None = None, groups: dict[str, int] | None = None,
                  merge_q: float = 0.01, min_cover: float = 0.75) -> pd.DataFrame:
    """One row per distinct database motif group matched (q < ``cfg.significance``) anywhere.

    The representative is the group member with the best q-value.
    Reads every ``discovery/conv<L>/matches.csv``; writes
    ``<model_dir>/discovery/collected_motifs.csv`` and returns the table
    (:data:`COLLECTED_COLUMNS`), best q-value first.

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.
    targets : sequence of Motif
        The motif database.
    cfg : MatchConfig or dict, optional
        The matching settings.
    groups : dict of str to int, optional
        :func:`database_groups` of ``targets``, when already computed.
    merge_q, min_cover : float
        As :func:`database_groups`.

    Returns
    -------
    pandas.DataFrame
    """
    cfg = _config(cfg)
    model_dir = Path(model_dir)
    layers = layer_dirs(model_dir)
    if not layers:
        raise InputError(f"{model_dir}: no discovery/conv<L> folders to collect")
    frames = []
    for L, path in layers:
        m = read_matches(path)
        if len(m):
            frames.append(m.assign(layer=L))
    hits = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if len(hits):
        hits = hits[hits["q"] < cfg.significance]
    if groups is None:
        groups = database_groups(targets, merge_q=merge_q, min_cover=min_cover, cfg=cfg)
    by_name = {t.name: t for t in targets}
    members: dict[int, list[str]] = {}
    for name, g in groups.items():
        members.setdefault(g, []).append(name)

    rows = []
    if len(hits):
        hits = hits.assign(group=hits["target"].map(lambda t: groups.get(t, -1)))
        unknown = hits.loc[hits["group"] < 0, "target"].unique()
        if len(unknown):
            raise InputError(f"matches name target(s) not in the database: {', '.join(unknown[:5])}")
        for g, h in hits.groupby("group", sort=False):
            best = h.loc[h["q"].idxmin()]
            rep = str(best["target"])
            matched = list(dict.fromkeys(h.sort_values("q")["target"]))
            rows.append({
                "group": int(g), "representative": rep, "group_size": len(members[g]),
                "targets_matched": ";".join(matched),
                "sources": ";".join(sorted({by_name[t].source for t in matched if t in by_name})),
                "n_neurons": h[["layer", "neuron"]].drop_duplicates().shape[0],
                "n_segments": h[["layer", "neuron", "segment"]].drop_duplicates().shape[0],
                "layers": ";".join(f"conv{L}" for L in sorted(h["layer"].unique())),
                "best_q": float(best["q"]),
                "best_hit": f"conv{int(best['layer'])}/neuron{int(best['neuron'])}/{best['segment']}",
                "description": _describe(by_name.get(rep)),
            })
    out = pd.DataFrame(rows, columns=COLLECTED_COLUMNS)
    if len(out):
        out = out.sort_values(["best_q", "n_neurons"], ascending=[True, False],
                              kind="stable").reset_index(drop=True)
    write_csv(layout.collected_motifs(model_dir), out)
    return out


def _describe(m: Motif | None) -> str:
    if m is None:
        return ""
    parts = [m.altname, m.meta.get("description", ""), m.meta.get("citation", "")]
    return " | ".join(p for p in parts if p)
