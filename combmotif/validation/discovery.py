"""Were the planted motifs of a synthetic data set found?

    combmotif validate discovery <config> [--truth truth.json] [--layers 1-4] [--per-layer] [--tomtom]

NeuronMotif's discovery outputs: a planted motif (IUPAC consensus from
``truth.json``) counts as *found* when a motif segment of some cluster of some
neuron recovers it (:mod:`combmotif.validation.recovered`: the segment's
consensus has at least ``min_identity`` identity to it, forward strand).

Every hit also says how the motif shows in the cluster: its IUPAC consensus
contained in the cluster consensus inside a motif segment (a high-information
stretch of the PPM), matched by a segment, or contained outside any segment
(short motifs occur by chance in a long consensus: that alone is not found).
Hits are ranked by found, identity (an exact IUPAC match is 1), then
contained inside a segment > matched by a segment > contained outside any
segment, then the cluster's activation.

The method comparison's recovery table (:func:`recovery_long`) applies the same
rule to every method's segments, with Tomtom q-values as a second kind of evidence.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import ConfigError, InputError
from .recovered import evidence, find_in, motif_identity

if TYPE_CHECKING:
    from ..motifs.match import MatchConfig


def load_truth(truth: str | Path | dict) -> list[dict]:
    """The motifs of a truth file or dict (see :func:`combmotif.data.truth.load_truth`).

    Parameters
    ----------
    truth : str, Path or dict
        A generator's ``truth.json``, a hand-written truth, or its parsed dict.

    Returns
    -------
    list of dict
        One per planted motif, each with ``name`` and ``consensus``.
    """
    from ..data.truth import load_truth as load_any

    return load_any(truth)["motifs"]


def _clusters(discovery_dir: Path, layers: Iterable[int] | None) -> Iterable[tuple[dict, dict]]:
    for f in sorted(discovery_dir.glob("conv*/neuron*/clusters.json")):
        info = json.loads(f.read_text())
        if layers is not None and info["layer"] not in layers:
            continue
        for c in info["clusters"]:
            yield info, c


def _hit(pat: str, cons: str, segs: list[dict], min_identity: float, both: bool = False) -> tuple:
    """How planted motif ``pat`` shows in one cluster: (recovered, strength, match kind,
    identity, segment id, segment consensus); strength ranks the kinds (2 best, -1 none)."""
    w = len(pat)
    at = find_in(pat, cons, both)
    # The segment holding at least half of the match, if any.
    holder = next((s for s in segs
                   if at >= 0 and min(at + w, s["end"]) - max(at, s["start"]) >= (w + 1) // 2), None)
    seg_best, seg_id, seg_cons = 0.0, "", ""
    for s in segs:
        ident, _ = motif_identity(pat, s["consensus"], both)
        if ident > seg_best:
            seg_best, seg_id, seg_cons = ident, s["motif_id"], s["consensus"]
    # Found: recovered by the one rule (a segment's consensus at >= min_identity).
    recovered = bool(evidence(seg_best, min_identity=min_identity))
    if holder is not None:
        return recovered, 2, "consensus in segment", 1.0, holder["motif_id"], holder["consensus"]
    if at >= 0:
        return recovered, 0, "consensus", 1.0, seg_id, ""
    if recovered:
        return recovered, 1, "segment", seg_best, seg_id, seg_cons
    return recovered, -1, "", max(seg_best, motif_identity(pat, cons, both)[0]), seg_id, seg_cons


def recovery_hits(discovery_dir: str | Path, truth: str | Path | dict,
                  layers: Iterable[int] | None = None, min_identity: float = 0.8,
                  both_strands: bool = False) -> pd.DataFrame:
    """Best hit of every planted motif in every layer (one row per motif and layer).

    Parameters
    ----------
    discovery_dir : str or Path
        ``results/<model>/discovery``.
    truth : str, Path or dict
        A generator's ``truth.json``, a hand-written truth, or its parsed dict.
    layers : iterable of int, optional
        Layers to read (default: all).
    min_identity : float
        Identity at which a segment recovers a motif (:mod:`.recovered`).
    both_strands : bool, default False
        Compare consensuses on both strands (a DNA model; :mod:`.recovered`).

    Returns
    -------
    pandas.DataFrame
        motif, planted, layer, neuron, cluster, motif_id, found, match, identity,
        cluster_consensus, segment_consensus, max_activation.
    """
    ddir = Path(discovery_dir)
    motifs = load_truth(truth)
    layers = set(layers) if layers is not None else None
    rows = []
    for info, c in _clusters(ddir, layers):
        cons = c["consensus"]
        segs = c["segments"]
        for m in motifs:
            pat = m["consensus"].upper().replace("U", "T")
            recovered, strength, match, ident, seg_id, seg_cons = _hit(pat, cons, segs, min_identity,
                                                                       both_strands)
            rows.append({
                "motif": m.get("name", pat), "planted": pat, "layer": info["layer"], "neuron": info["neuron"],
                "cluster": c["id"], "motif_id": seg_id if strength == 1 else c["motif_id"],
                "found": recovered, "match": match, "identity": round(ident, 3),
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
                   layers: Iterable[int] | None = None, min_identity: float = 0.8,
                   both_strands: bool = False) -> pd.DataFrame:
    """Planted motif -> best layer, neuron, cluster and match over ``layers`` (one row per motif).

    Parameters
    ----------
    discovery_dir, truth, layers, min_identity, both_strands
        As :func:`recovery_hits`.

    Returns
    -------
    pandas.DataFrame
        :func:`recovery_hits`'s columns, in the truth's motif order.

    Motifs never found keep a row with ``found = False`` and their closest cluster.
    """
    hits = recovery_hits(discovery_dir, truth, layers, min_identity, both_strands)
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

    Parameters
    ----------
    discovery_dir : str or Path
        ``results/<model>/discovery``.
    truth : str, Path or dict
        A generator's ``truth.json``, a hand-written truth, or its parsed dict.
    layers : iterable of int, optional
        Layers to read (default: all).
    significance : float
        q below which a match counts (``matched``).
    targets : sequence of Motif, optional
        The database the layers were matched against (for ``ceiling_q``).
    match : MatchConfig, optional
        Its Tomtom settings.

    Returns
    -------
    pandas.DataFrame
        motif, consensus, layer, neuron, segment, segment_consensus, q, matched[, ceiling_q].
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
        row = _best_tomtom_row(motif, matches[matches["target"] == motif["name"]], significance)
        if targets is not None:
            row["ceiling_q"] = ceiling.get(motif["name"], np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def _best_tomtom_row(motif: dict, sub: pd.DataFrame, significance: float) -> dict:
    """The segment whose match to ``motif`` has the smallest q (empty fields when none)."""
    if not len(sub):
        return {"motif": motif["name"], "consensus": motif["consensus"], "layer": None,
                "neuron": None, "segment": "", "segment_consensus": "", "q": np.nan,
                "matched": False}
    best = sub.loc[sub["q"].idxmin()]
    return {"motif": motif["name"], "consensus": motif["consensus"],
            "layer": int(best["layer"]), "neuron": int(best["neuron"]),
            "segment": best["segment"], "segment_consensus": best["segment_consensus"],
            "q": float(best["q"]), "matched": bool(best["q"] < significance)}


def _ceiling_q(planted: list[dict], targets: Sequence, match) -> dict[str, float]:
    """q of each planted PPM queried against ``targets``, for its own entry there."""
    from ..motifs.match import MatchConfig
    from ..motifs.tomtom import tomtom

    cfg = match or MatchConfig()
    names = {m["name"] for m in planted}
    queries = [t for t in targets if t.name in names]
    if not queries:
        return {}
    df = tomtom(queries, targets, backend=cfg.tomtom_backend, norc=cfg.given_strand, dist=cfg.dist,
                min_query_ic=0.0, min_query_mean_ic=0.0, thresh=None, q_scope=cfg.q_scope,
                n_jobs=cfg.n_jobs)
    own = df[df["Query_ID"] == df["Target_ID"]]
    return dict(zip(own["Query_ID"], own["q-value"].astype(float)))


def recovery_long(truth: str | Path | dict, segments: pd.DataFrame, matches: pd.DataFrame,
                  groups: dict[str, int], methods: Sequence[str], recovery_q: float = 0.05,
                  min_identity: float = 0.8, both_strands: bool = False) -> pd.DataFrame:
    """Planted motif x method: recovered (:func:`.recovered.evidence`) by Tomtom (q < ``recovery_q``
    against the planted motif or a database motif merged with it) or by consensus identity.

    Parameters
    ----------
    truth : str, Path or dict
        A generator's ``truth.json``, a hand-written truth, or its parsed dict.
    segments, matches : pandas.DataFrame
        The comparison's ``segments.csv`` and ``matches.csv`` (every method's).
    groups : dict of str to int
        Database motif -> group of near-duplicates.
    methods : sequence of str
        The methods compared.
    recovery_q, min_identity : float
        The thresholds of :func:`.recovered.evidence`.
    both_strands : bool, default False
        Consensus identity on both strands (a DNA model).

    Returns
    -------
    pandas.DataFrame
        motif, consensus, method, recovered, by, best_q, q_hit, identity, identity_hit.
    """
    motifs = load_truth(truth)
    cols = ["motif", "consensus", "method", "recovered", "by", "best_q", "q_hit", "identity", "identity_hit"]
    rows = []
    for mt in motifs:
        name = mt.get("name", mt["consensus"])
        pat = mt["consensus"].upper().replace("U", "T")
        g = groups.get(name)
        same = {t for t, gg in groups.items() if g is not None and gg == g} or {name}
        for method in methods:
            mm = matches[(matches["method"] == method) & matches["target"].isin(same)]
            if len(mm):
                b = mm.loc[mm["q"].idxmin()]
                best_q, q_hit = float(b["q"]), f"{b['layer']}/neuron{b['neuron']}/{b['segment']}"
                if both_strands and "orientation" in mm:
                    q_hit += f" (strand {b['orientation']})"   # shown on the comparison page
            else:
                best_q, q_hit = float("nan"), ""
            ss = segments[segments["method"] == method]
            ident, ihit = 0.0, ""
            if len(ss):
                scores = [motif_identity(pat, c, both_strands)[0] for c in ss["consensus"]]
                i = int(np.argmax(scores))
                ident = float(scores[i])
                r = ss.iloc[i]
                ihit = f"{r['layer']}/neuron{r['neuron']}/{r['segment']} ({r['consensus']})"
            by = evidence(ident, best_q, min_identity, recovery_q)
            rows.append({"motif": name, "consensus": pat, "method": method, "recovered": bool(by),
                         "by": "+".join(by),
                         "best_q": best_q, "q_hit": q_hit, "identity": round(ident, 3), "identity_hit": ihit})
    return pd.DataFrame(rows, columns=cols)


def recovery_wide(rec: pd.DataFrame) -> pd.DataFrame:
    """Planted motif x method table of 'yes (how)' / 'no', plus a total row (for printing).

    Parameters
    ----------
    rec : pandas.DataFrame
        :func:`recovery_long`'s table (or None).

    Returns
    -------
    pandas.DataFrame
        Motifs (and ``recovered``) x methods; empty without a table.
    """
    if rec is None or not len(rec):
        return pd.DataFrame()
    wide = rec.assign(cell=np.where(rec["recovered"], "yes (" + rec["by"] + ")", "no")) \
        .pivot(index="motif", columns="method", values="cell")
    wide = wide.loc[list(dict.fromkeys(rec["motif"]))][list(dict.fromkeys(rec["method"]))]
    total = rec.groupby("method", sort=False)["recovered"].sum().astype(int).astype(str) \
        + f" / {rec['motif'].nunique()}"
    wide.loc["recovered"] = total
    return wide


def _check_recovery_inputs(config: str | Path, truth, layers, results, min_identity: float):
    """The config, the truth and the discovered layers, all checked before the first table."""
    from ..neuronmotif.discovery_config import load_discovery_config

    cfg = load_discovery_config(config)
    if not 0 < min_identity <= 1:
        raise ConfigError(f"--min-identity must be in (0, 1]; got {min_identity}")
    if truth is None:
        if cfg.data_dir is None:
            raise ConfigError(f"{config}: no data_dir to find truth.json in; give --truth")
        truth = Path(cfg.data_dir) / "truth.json"
    try:
        load_truth(truth)
    except (InputError, ValueError) as exc:   # ValueError: not JSON
        raise InputError(f"--truth {truth}: {exc}") from None
    ddir = Path(results) if results else cfg.discovery_dir()
    found = sorted(int(p.name[4:]) for p in ddir.glob("conv*") if p.name[4:].isdigit())
    found = [L for L in found if layers is None or L in set(layers)]
    if not found:
        raise InputError(f"{ddir}: no discovery outputs (run combmotif discovery first)")
    return cfg, truth, ddir, found


def report_recovery(config: str | Path, truth: str | Path | None = None, layers: list[int] | None = None,
                    results: str | Path | None = None, min_identity: float = 0.8, per_layer: bool = False,
                    tomtom: bool = False) -> int:
    """Print which planted motifs NeuronMotif found (:func:`recovery_table`), and optionally
    the best layer per motif and the Tomtom matches (:func:`tomtom_table`).

    Parameters
    ----------
    config : str or Path
        The discovery config.
    truth : str or Path, optional
        A truth file (default: ``truth.json`` in the config's ``data_dir``).
    layers : list of int, optional
        Layers to consider (default: every discovered layer).
    results : str or Path, optional
        A discovery folder (default: the config's).
    min_identity : float
        Identity at which a segment recovers a motif.
    per_layer, tomtom : bool
        Also print the best match per layer / the Tomtom table.

    Returns
    -------
    int
        0.
    """
    from ..motifs.databases import check_motif_db

    cfg, truth, ddir, layers = _check_recovery_inputs(config, truth, layers, results, min_identity)
    targets = check_motif_db(cfg.motif_db, str(config), "motif_db", data_dir=cfg.data_dir) if tomtom else None
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 40)
    print(f"discovery: {ddir} (layers {', '.join(f'conv{L}' for L in layers)})")
    both = not cfg.matching.given_strand  # a DNA model: consensuses compared on both strands too
    table = recovery_table(ddir, truth, layers, min_identity, both)
    print(table.drop(columns=["planted"]).to_string(index=False))
    print(f"found {int(table['found'].sum())} of {len(table)} planted motifs")
    if per_layer:
        hits = recovery_hits(ddir, truth, layers, min_identity, both)
        print(hits.pivot(index="motif", columns="layer", values="match").fillna("").to_string())
    if tomtom:
        _print_tomtom(cfg, ddir, truth, layers, targets)
    return 0


def _print_tomtom(cfg, ddir: Path, truth, layers: list[int], targets) -> None:
    from ..motifs.databases import motif_db_text

    tt = tomtom_table(ddir, truth, layers, targets=targets, match=cfg.matching)
    family = ("each segment's comparisons" if cfg.matching.q_scope == "query"
              else "all comparisons of a layer")
    print(f"\nTomtom against {motif_db_text(cfg.motif_db)} ({len(targets)} motifs; q: Benjamini-Hochberg over "
          f"{family}): planted motif -> best neuron segment")
    print("ceiling_q: the planted PPM itself as the query (no segment can do better)")
    print(tt.to_string(index=False))
    reachable = tt["ceiling_q"] < 0.05
    print(f"matched at q < 0.05: {int(tt['matched'].sum())} of {len(tt)} planted motifs "
          f"({int((tt['matched'] & reachable).sum())} of the {int(reachable.sum())} whose "
          f"ceiling_q < 0.05)")
