"""Were the planted motifs of a synthetic data set found by NeuronMotif?

A planted motif (IUPAC consensus from ``truth.json``) counts as *found* when
the consensus of some cluster PPM of some neuron contains it (IUPAC-aware,
forward strand: mRNA motifs are strand-specific) or when a motif segment of
some cluster has at least ``min_identity`` identity to it (best ungapped
alignment; motif positions that overhang the segment count as mismatches).

Short motifs can occur by chance in a long consensus, so every hit also says
whether the match lies in a motif segment (a high-information stretch of the
PPM). Hits are ranked by identity (an exact IUPAC match is 1), then
contained inside a segment > matched by a segment > contained outside any
segment, then the cluster's activation.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..sequences import IUPAC, iupac_to_regex

_BASES = "ACGT"


def _membership(motif: str) -> np.ndarray:
    """(W, 4) bool: which bases each IUPAC letter allows."""
    m = motif.upper().replace("U", "T")
    bad = [c for c in m if c not in IUPAC]
    if bad:
        raise InputError(f"motif {motif!r}: {bad[0]!r} is not an IUPAC code")
    return np.array([[b in IUPAC[c] for b in _BASES] for c in m], dtype=bool)


def motif_identity(motif: str, seq: str) -> tuple[float, int]:
    """Best fraction of motif positions matched by ``seq`` over ungapped offsets.

    Returns (identity, offset of the motif start in ``seq``); offsets may be
    negative or run past the end (overhanging positions are mismatches).
    """
    allowed = _membership(motif)
    w, n = len(allowed), len(seq)
    if n == 0 or w == 0:
        return 0.0, 0
    codes = np.array([_BASES.find(c) for c in seq.upper().replace("U", "T")])
    offsets = np.arange(-(w - 1), n)
    pos = offsets[:, None] + np.arange(w)[None, :]
    inside = (pos >= 0) & (pos < n)
    base = codes[np.clip(pos, 0, n - 1)]
    ok = inside & (base >= 0) & allowed[np.arange(w)[None, :], np.clip(base, 0, 3)]
    score = ok.sum(1)
    best = int(np.argmax(score))
    return float(score[best] / w), int(offsets[best])


def find_in(motif: str, seq: str) -> int:
    """Start of the first IUPAC match of ``motif`` in ``seq``, or -1."""
    m = re.search(iupac_to_regex(motif.upper().replace("U", "T")), seq.upper().replace("U", "T"))
    return m.start() if m else -1


def load_truth(truth: str | Path | dict) -> list[dict]:
    """The motifs of a truth file or dict, generator's or hand-written, each with a
    ``consensus`` (see :func:`combmotif.data.truth.load_truth`, which checks the file)."""
    from ..data.truth import load_truth as load_any

    return load_any(truth)["motifs"]


def _clusters(discovery_dir: Path, layers: Iterable[int] | None) -> Iterable[tuple[dict, dict]]:
    for f in sorted(discovery_dir.glob("conv*/neuron*/clusters.json")):
        info = json.loads(f.read_text())
        if layers is not None and info["layer"] not in layers:
            continue
        for c in info["clusters"]:
            yield info, c


def recovery_hits(discovery_dir: str | Path, truth: str | Path | dict,
                  layers: Iterable[int] | None = None, min_identity: float = 0.8) -> pd.DataFrame:
    """Best hit of every planted motif in every layer (one row per motif and layer)."""
    ddir = Path(discovery_dir)
    motifs = load_truth(truth)
    layers = set(layers) if layers is not None else None
    rows = []
    for info, c in _clusters(ddir, layers):
        cons = c["consensus"]
        segs = c["segments"]
        for m in motifs:
            pat = m["consensus"].upper().replace("U", "T")
            w = len(pat)
            at = find_in(pat, cons)
            # The segment holding at least half of the match, if any.
            holder = next((s for s in segs
                           if at >= 0 and min(at + w, s["end"]) - max(at, s["start"]) >= (w + 1) // 2), None)
            in_seg = holder is not None
            seg_best, seg_id, seg_cons = 0.0, "", ""
            for s in segs:
                ident, _ = motif_identity(pat, s["consensus"])
                if ident > seg_best:
                    seg_best, seg_id, seg_cons = ident, s["motif_id"], s["consensus"]
            if in_seg:
                strength, match, ident, seg_id, seg_cons = 2, "consensus in segment", 1.0, holder["motif_id"], \
                    holder["consensus"]
            elif at >= 0:
                strength, match, ident, seg_cons = 0, "consensus", 1.0, ""
            elif seg_best >= min_identity:
                strength, match, ident = 1, "segment", seg_best
            else:
                strength, match, ident = -1, "", max(seg_best, motif_identity(pat, cons)[0])
            rows.append({
                "motif": m.get("name", pat), "planted": pat, "layer": info["layer"], "neuron": info["neuron"],
                "cluster": c["id"], "motif_id": seg_id if strength == 1 else c["motif_id"],
                "found": strength >= 0, "match": match, "identity": round(ident, 3),
                "cluster_consensus": cons, "segment_consensus": seg_cons,
                "max_activation": c["max_activation"], "_strength": strength,
            })
    cols = ["motif", "planted", "layer", "neuron", "cluster", "motif_id", "found", "match", "identity",
            "cluster_consensus", "segment_consensus", "max_activation"]
    if not rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows)
    df = df.sort_values(["motif", "layer", "found", "identity", "_strength", "max_activation", "neuron", "cluster"],
                        ascending=[True, True, False, False, False, False, True, True], kind="stable")
    return df.groupby(["motif", "layer"], sort=False).head(1)[cols].reset_index(drop=True)


def recovery_table(discovery_dir: str | Path, truth: str | Path | dict,
                   layers: Iterable[int] | None = None, min_identity: float = 0.8) -> pd.DataFrame:
    """Planted motif -> best layer, neuron, cluster and match over ``layers`` (one row per motif).

    Motifs never found keep a row with ``found = False`` and their closest cluster.
    """
    hits = recovery_hits(discovery_dir, truth, layers, min_identity)
    order = {m.get("name", m["consensus"]): i for i, m in enumerate(load_truth(truth))}
    if hits.empty:
        return hits
    rank = hits["match"].map({"consensus in segment": 2, "segment": 1, "consensus": 0, "": -1})
    hits = hits.assign(_rank=rank).sort_values(
        ["motif", "found", "identity", "_rank", "max_activation", "layer"],
        ascending=[True, False, False, False, False, True], kind="stable")
    best = hits.groupby("motif", sort=False).head(1).drop(columns="_rank")
    best = best.assign(_o=best["motif"].map(order)).sort_values("_o").drop(columns="_o")
    return best.reset_index(drop=True)


def tomtom_table(discovery_dir: str | Path, truth: str | Path | dict,
                 layers: Iterable[int] | None = None, significance: float = 0.05,
                 targets: Sequence | None = None, match: "MatchConfig | None" = None) -> pd.DataFrame:
    """Planted motif -> the neuron segment whose Tomtom match to it has the smallest q.

    Reads ``conv<L>/matches.csv`` (written when the layer was matched against a
    database holding the planted motifs, e.g. ``motif_db: planted+curated``); a
    planted motif with no row at all was never among any segment's matches.

    With ``targets`` (that database) the table also gets ``ceiling_q``: the q the
    planted PPM itself reaches as a query against the same database with the same
    settings (``match``). It is the best any segment can do: a 3-nt motif such as
    ATG has p ~ 0.01 even against itself, so no segment can match it at q < 0.05.
    """
    ddir = Path(discovery_dir)
    frames = []
    for path in sorted(ddir.glob("conv*/matches.csv")):
        layer = int(path.parent.name[4:])
        if layers is not None and layer not in set(layers):
            continue
        m = pd.read_csv(path)
        if len(m):
            frames.append(m.assign(layer=layer))
    if not frames:
        raise InputError(f"{ddir}: no matches.csv (match the layers against a database first)")
    matches = pd.concat(frames, ignore_index=True)
    planted = load_truth(truth)
    ceiling = _ceiling_q(planted, targets, match) if targets is not None else {}
    rows = []
    for motif in planted:
        sub = matches[matches["target"] == motif["name"]]
        if len(sub):
            best = sub.loc[sub["q"].idxmin()]
            row = {"motif": motif["name"], "consensus": motif["consensus"],
                   "layer": int(best["layer"]), "neuron": int(best["neuron"]),
                   "segment": best["segment"], "segment_consensus": best["segment_consensus"],
                   "q": float(best["q"]), "matched": bool(best["q"] < significance)}
        else:
            row = {"motif": motif["name"], "consensus": motif["consensus"], "layer": None,
                   "neuron": None, "segment": "", "segment_consensus": "", "q": np.nan,
                   "matched": False}
        if targets is not None:
            row["ceiling_q"] = ceiling.get(motif["name"], np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def _ceiling_q(planted: list[dict], targets: Sequence, match) -> dict[str, float]:
    """q of each planted PPM queried against ``targets``, for its own entry there."""
    from ..motifs.match import MatchConfig
    from ..motifs.tomtom import tomtom

    cfg = match or MatchConfig()
    names = {m["name"] for m in planted}
    queries = [t for t in targets if t.name in names]
    if not queries:
        return {}
    df = tomtom(queries, targets, backend=cfg.tomtom_backend, norc=cfg.norc, dist=cfg.dist,
                min_query_ic=0.0, min_query_mean_ic=0.0, thresh=None, q_scope=cfg.q_scope,
                n_jobs=cfg.n_jobs)
    own = df[df["Query_ID"] == df["Target_ID"]]
    return dict(zip(own["Query_ID"], own["q-value"].astype(float)))
