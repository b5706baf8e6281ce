"""The motif syntax of every neuron of a layer, and the layer's table of rules.

Reads the unit folders of ``discovery/conv<L>/`` (:mod:`combmotif.motifs.unit`) and
their ``tomtom.tsv`` (database names); runs :func:`combmotif.neuronmotif.syntax.neuron_syntax`
per neuron; writes, atomically::

    conv<L>/neuron<k>/syntax.json   dictionary, clusters' annotations and gaps, tree nodes,
                                    truth table, first occurrence of every node
    conv<L>/syntax_rules.csv        one row per rule (motif A 5' of motif B at a gap range),
                                    pooled over the layer's neurons (:data:`RULE_COLUMNS`)

Similarity is Tomtom's (mutual q < ``merge_q`` over ``min_cover`` of the longer motif,
:func:`combmotif.motifs.collect.similar_pairs`), or IUPAC patterns of at least 5 letters
one inside the other (:func:`combmotif.neuronmotif.syntax.pattern_similar`), in two Tomtom
calls per layer: all segments of
the layer together (so the p-values have a background of many motifs, not a neuron's
two or three), and the dictionary representatives of this layer with those of the
shallower layers' ``syntax.json`` (pooling rules across neurons, and the layer where a
motif or combination first occurs). Shallower layers must therefore be done first
(discovery's matching goes through the layers in ascending order).

Sites are the informative cores of segments (:func:`combmotif.neuronmotif.syntax.motif_cores`)
for the dictionary; the annotation scans the cluster PPMs with it
(:mod:`combmotif.neuronmotif.syntax_annotate`): a site is named after its segment, or
``<segment>:<j>`` when a segment holds several motifs, ``<cluster>@<row>`` outside every
segment. Motifs seen alone elsewhere (every neuron's dictionary of this layer, the
shallower layers' ``syntax.json`` dictionaries) read fused dictionary motifs and complete
the annotation. Every dictionary motif is named after its own best database match
(one Tomtom call per layer over all dictionary motifs, q < ``significance``), else its
consensus. The ``membersA``/``membersB`` columns list the site names.

A rule is a pair of leaves on the two sides of a branch node of a neuron's tree: A a leaf of
the 5' child, B a leaf of the 3' child, the gap range between the two over the clusters the
node joins (the adjacent pair, 3'-most leaf of the 5' child and 5'-most of the 3' child, has
the node's own gap range). Rules of the layer
are pooled when A and B are the same motifs (one Tomtom group) and their gap ranges
overlap (the pooled range is the union). A rule's first occurrence is the shallowest
(layer, neuron) with a node of the same leaf motifs, in the same order, at an
overlapping gap range; the neuron itself when no shallower layer has one. The
``sample_*`` columns are a separate measure, not the tree's: the gap range of A then B
among the neuron's strongly activating samples (:mod:`combmotif.neuronmotif.syntax_samples`).
"""

from __future__ import annotations

import json
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..cores import usable_cores
from ..interaction.labels import ppm_iupac
from ..io import write_json
from ..motifs.collect import components, similar_pairs
from ..motifs.family_core import core_matches
from ..motifs.formats import Motif
from ..motifs.match import MatchConfig, _config, load_neuron, neuron_dirs, write_csv
from .syntax import (
    REL_QUALITY,
    Site,
    build_dictionary,
    cluster_quality,
    high_quality,
    neuron_sites,
    neuron_syntax,
    pattern_similar,
)
from .syntax_annotate import dedupe_pool
from .syntax_samples import gap_summary, motif_hits, next_sites, read_samples, strong_samples

SYNTAX_JSON = "syntax.json"
RULES_CSV = "syntax_rules.csv"
RULE_COLUMNS = ["layer", "rule", "consensusA", "consensusB", "patternA", "patternB", "nameA", "nameB",
                "order", "gap_min", "gap_max", "neurons", "n_neurons", "n_clusters", "membersA", "membersB",
                "first_layer", "first_neuron", "sample_gap_min", "sample_gap_max", "sample_share"]
_LAYER = re.compile(r"^conv(\d+)$")


def rules_path(layer_dir: str | Path) -> Path:
    """The layer's ``syntax_rules.csv``.

    Parameters
    ----------
    layer_dir : str or Path
        ``discovery/conv<L>``.

    Returns
    -------
    Path
    """
    return Path(layer_dir) / RULES_CSV


def read_rules(layer_dir: str | Path) -> pd.DataFrame:
    """The layer's ``syntax_rules.csv`` (an empty table with :data:`RULE_COLUMNS` when absent).

    Parameters
    ----------
    layer_dir : str or Path
        ``discovery/conv<L>``.

    Returns
    -------
    pandas.DataFrame
    """
    path = rules_path(layer_dir)
    if not path.is_file():
        return pd.DataFrame(columns=RULE_COLUMNS)
    return pd.read_csv(path, dtype={"neurons": str, "membersA": str, "membersB": str},
                       keep_default_na=False)


def read_syntax(neuron_dir: str | Path) -> dict | None:
    """A neuron's ``syntax.json``, or None when absent.

    Parameters
    ----------
    neuron_dir : str or Path
        ``conv<L>/neuron<k>``.

    Returns
    -------
    dict or None
    """
    path = Path(neuron_dir) / SYNTAX_JSON
    return json.loads(path.read_text()) if path.is_file() else None


def write_layer_syntax(layer_dir: str | Path, cfg: MatchConfig | dict | None = None, *,
                       targets: Sequence[Motif] | None = None, rel_quality: float = REL_QUALITY,
                       merge_q: float = 0.01, min_cover: float = 0.75) -> pd.DataFrame:
    """Compute and write every neuron's ``syntax.json`` and the layer's ``syntax_rules.csv``.

    Parameters
    ----------
    layer_dir : str or Path
        ``discovery/conv<L>`` (unit folders, matched: ``tomtom.tsv`` names the motifs).
    cfg : MatchConfig or dict, optional
        Tomtom backend and strand settings; ``significance`` is the q a database name needs.
    targets : sequence of Motif, optional
        The motif database: every dictionary motif is named after its own best match
        (without: after the ``tomtom.tsv`` match of the whole segments it annotates).
    rel_quality : float
        Share of the neuron's best cluster quality a high-quality cluster needs.
    merge_q, min_cover : float
        Tomtom similarity of two motifs (:func:`combmotif.motifs.collect.similar_pairs`).

    Returns
    -------
    pandas.DataFrame
        The rules table (:data:`RULE_COLUMNS`).
    """
    cfg = _config(cfg)
    layer_dir = Path(layer_dir)
    layer = _layer_number(layer_dir)
    units = [load_neuron(p) for _, p in neuron_dirs(layer_dir)]
    sites = [neuron_sites(nr.clusters, nr.segments) for nr in units]
    similar = _segment_similarity(sites, merge_q, min_cover, cfg)
    parts = _parts(units, sites, similar, rel_quality, layer, layer_dir.parent)
    pool = [parts[i] for i in dedupe_pool(parts)]
    records = _neuron_records(units, sites, similar, layer, rel_quality, parts, pool)
    _name_all(records, units, targets, cfg)
    _link_layers(records, layer, layer_dir.parent, merge_q, min_cover, cfg)
    rules = pool_rules(records, layer)
    for nr, rec in zip(units, records):
        write_json(nr.path / SYNTAX_JSON, rec)
    write_csv(rules_path(layer_dir), rules)
    return rules


# The layer's inputs, set before the worker processes are forked so that they inherit
# them (the pool of motifs is shared by every neuron): nothing large is pickled.
_SHARED: dict = {}
PARALLEL_WORK = 2_000_000   # cluster PPM rows x pool motifs: ~1 s of one core's scanning


def _neuron_record(i: int) -> dict:
    """The syntax record of the layer's ``i``-th neuron (from :data:`_SHARED`)."""
    d = _SHARED
    nr, s, sim = d["units"][i], d["sites"][i], d["similar"][i]
    ppms = [np.asarray(m.ppm, dtype=np.float64) for m in nr.ppms] if len(nr.ppms) == len(nr.clusters) else None
    rec = {"layer": d["layer"], "neuron": nr.neuron,
           **neuron_syntax(nr.clusters, s, sim, d["rel_quality"], ppms, d["parts"], d["pool"])}
    _sample_ranges(rec, read_samples(nr.path))
    return rec


def _neuron_records(units: list, sites: list, similar: list, layer: int, rel_quality: float,
                    parts: list, pool: list) -> list[dict]:
    """Every neuron's syntax record, in the units' order.

    Neurons are independent, so a layer with enough work (:data:`PARALLEL_WORK`) is spread
    over one forked process per core; threads would not do: the scans are many short
    numpy calls, and 16 threads spend their time handing the GIL to each other (slower
    than one thread on a 16-core machine). The records, and so every output, are the
    same whatever the number of processes."""
    _SHARED.update(units=units, sites=sites, similar=similar, layer=layer, rel_quality=rel_quality,
                   parts=parts, pool=pool)
    try:
        workers = min(len(units), usable_cores())
        work = sum(len(m.ppm) for nr in units for m in nr.ppms) * len(pool)
        if workers > 1 and work >= PARALLEL_WORK and "fork" in multiprocessing.get_all_start_methods():
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as ex:
                return list(ex.map(_neuron_record, range(len(units))))
        return [_neuron_record(i) for i in range(len(units))]
    finally:
        _SHARED.clear()


def _sample_ranges(rec: dict, samples: tuple | None) -> None:
    """Give every leaf pair of every branch node its gap range among the neuron's samples
    (:func:`combmotif.neuronmotif.syntax_samples.sample_gaps`; None without samples)."""
    motif = {d["id"]: np.asarray(d["ppm"], dtype=np.float64) for d in rec["dictionary"]}
    strong = strong_samples(*samples) if samples else None
    hits: dict = {}     # one scan per dictionary motif, shared by all the pairs holding it

    def hit(m, after: bool = False):
        if m not in hits:
            h = motif_hits(strong, motif[m])
            hits[m] = (h, next_sites(h))
        return hits[m][after]

    gaps: dict = {}     # a pair recurs at several branch nodes
    for n in rec["nodes"]:
        for pair in n.get("pairs", []):
            key = (pair["a"], pair["b"])
            if samples and key not in gaps:
                gaps[key] = gap_summary(hit(pair["a"]), len(motif[pair["a"]]), hit(pair["b"], after=True))
            got = gaps[key] if samples else {}
            pair.update({k: got.get(k) for k in ("sample_gap_min", "sample_gap_max", "sample_share")})


def _parts(units: list, sites: list[list[Site]], similar: list[np.ndarray], rel_quality: float,
           layer: int, discovery_dir: Path) -> list[tuple[str, np.ndarray]]:
    """Motifs seen alone elsewhere, to read fused dictionary motifs: the dictionaries of
    the layer's neurons (before completion) and of the shallower layers' neurons."""
    out = []
    for nr, s, sim in zip(units, sites, similar):
        hq = high_quality(cluster_quality(s, len(nr.clusters)), rel_quality)
        for d in build_dictionary(s, hq, sim)[0]:
            out.append((f"conv{layer}/neuron{nr.neuron}/{d['id']}", np.asarray(d["ppm"])))
    for r in _shallower(discovery_dir, layer):
        out += [(f"conv{r['layer']}/neuron{r['neuron']}/{d['id']}", np.asarray(d["ppm"]))
                for d in r["dictionary"]]
    return out


def _name_all(records: list[dict], units: list, targets: Sequence[Motif] | None, cfg: MatchConfig) -> None:
    """Name every dictionary motif after its own best database match (one Tomtom call over
    the layer's dictionaries, q < ``cfg.significance``); without a database, after the best
    ``tomtom.tsv`` match of the whole segments it annotates."""
    if targets:
        queries = [Motif(f"{r['neuron']}/{d['id']}", np.asarray(d["ppm"])) for r in records for d in r["dictionary"]]
        best = {name: (q, t) for name, ((t, q), *_) in
                core_matches(queries, targets, cfg.significance, cfg, floor=True).items()}
        for r in records:
            _name_dictionary(r, {d["id"]: best[f"{r['neuron']}/{d['id']}"] for d in r["dictionary"]
                                 if f"{r['neuron']}/{d['id']}" in best}, by_id=True)
        return
    for r, nr in zip(records, units):
        _name_dictionary(r, _tsv_matches(nr.path / "tomtom.tsv", cfg.significance))


def _layer_number(layer_dir: Path) -> int:
    m = _LAYER.match(layer_dir.name)
    return int(m.group(1)) if m else 0


def _segment_similarity(sites: list[list[Site]], merge_q: float, min_cover: float,
                        cfg: MatchConfig) -> list[np.ndarray]:
    """Per neuron, (n, n) bool: which of its segments are near-duplicates (one Tomtom call
    over the whole layer)."""
    flat = [(k, i) for k, ss in enumerate(sites) for i in range(len(ss))]
    motifs = [Motif(f"{k}/{sites[k][i].name}", sites[k][i].ppm) for k, i in flat]
    pairs = similar_pairs(motifs, merge_q, min_cover, cfg)
    out = [pattern_similar([ppm_iupac(x.ppm) for x in ss]) for ss in sites]
    for a, b in pairs.tolist():
        (ka, ia), (kb, ib) = flat[a], flat[b]
        if ka == kb:
            out[ka][ia, ib] = out[ka][ib, ia] = True
    return out


def _best_hits(df: pd.DataFrame, significance: float) -> dict[str, tuple[float, str]]:
    """Query -> (q, target) of its best hit below ``significance`` in a Tomtom table."""
    best: dict[str, tuple[float, str]] = {}
    if not len(df) or not {"Query_ID", "Target_ID", "q-value"} <= set(df.columns):
        return best
    q = pd.to_numeric(df["q-value"], errors="coerce")
    df = df[q < significance]
    for qv, t, s in sorted(zip(q[q < significance], df["Target_ID"].astype(str), df["Query_ID"].astype(str))):
        best.setdefault(s, (float(qv), t))
    return best


def _tsv_matches(tomtom_tsv: Path, significance: float) -> dict[str, tuple[float, str]]:
    """Segment -> its best database match (q < ``significance``) in the neuron's tomtom.tsv."""
    if not tomtom_tsv.is_file():
        return {}
    return _best_hits(pd.read_csv(tomtom_tsv, sep="\t", comment="#"), significance)


def _name_dictionary(rec: dict, best: dict[str, tuple[float, str]], by_id: bool = False) -> None:
    """Name each dictionary motif after its own best database match (``by_id``: ``best``
    is motif id -> (q, target)) or the best of the whole segments it annotates (``best``:
    segment -> (q, target)), below the significance; else its consensus."""
    for d in rec["dictionary"]:
        keys = [d["id"]] if by_id else [s for s in d["annotated"] if ":" not in s]
        hits = sorted(best[s] for s in keys if s in best)
        d["name"] = hits[0][1] if hits else d["consensus"]
        d["name_q"] = hits[0][0] if hits else None


def _shallower(discovery_dir: Path, layer: int) -> list[dict]:
    """The syntax records of every neuron of the layers below ``layer``."""
    out = []
    for p in sorted(discovery_dir.glob("conv*/neuron*/" + SYNTAX_JSON)):
        m = _LAYER.match(p.parent.parent.name)
        if m and int(m.group(1)) < layer:
            out.append(json.loads(p.read_text()))
    return sorted(out, key=lambda r: (r["layer"], r["neuron"]))


def _link_layers(records: list[dict], layer: int, discovery_dir: Path, merge_q: float,
                 min_cover: float, cfg: MatchConfig) -> None:
    """Give every dictionary motif a layer-wide ``group`` and every node ``first_layer`` and
    ``first_neuron``: the shallowest neuron holding a similar motif (a direct Tomtom edge, no
    chaining through other layers), or a node with similar leaves in the same order at an
    overlapping gap range."""
    old = _shallower(discovery_dir, layer)
    reps = [(r["layer"], r["neuron"], d) for r in old + records for d in r["dictionary"]]
    motifs = [Motif(f"L{L}n{k}{d['id']}", np.asarray(d["ppm"])) for L, k, d in reps]
    index = {(L, k, d["id"]): i for i, (L, k, d) in enumerate(reps)}
    edges = similar_pairs(motifs, merge_q, min_cover, cfg)
    near = pattern_similar([d["pattern"] for _, _, d in reps])
    near[edges[:, 0], edges[:, 1]] = near[edges[:, 1], edges[:, 0]] = True
    here = np.array([L == layer for L, _, _ in reps], dtype=bool)
    group = np.full(len(reps), -1, dtype=np.int64)
    group[here] = components(int(here.sum()), np.argwhere(np.triu(near[np.ix_(here, here)], 1)))
    for r in records:
        for d in r["dictionary"]:
            d["group"] = int(group[index[(layer, r["neuron"], d["id"])]])
    _first_occurrence([(r["layer"], r["neuron"], n) for r in records for n in r["nodes"]],
                      [(r["layer"], r["neuron"], n) for r in old for n in r["nodes"]], near, index)


def _first_occurrence(nodes: list[tuple], shallow: list[tuple], near: np.ndarray, index: dict) -> None:
    """Set ``first_layer``/``first_neuron`` of each of the layer's ``(layer, neuron, node)``:
    the smallest (layer, neuron) of the shallower nodes with as many leaves, pairwise
    ``near``, at an overlapping gap range (itself when none). Compared as arrays, nodes
    of one leaf count at a time, in blocks of nodes."""
    def arrays(items: list[tuple]) -> dict:
        by: dict[int, list] = {}
        for L, k, n in items:
            by.setdefault(len(n["leaves"]), []).append((L, k, n))
        return {m: (np.array([[index.get((L, k, x), -1) for x in n["leaves"]] for L, k, n in g]).reshape(len(g), m),
                    np.array([[n.get("gap_min", 0), n.get("gap_max", 0)] for _, _, n in g]).reshape(len(g), 2),
                    np.array([[L, k] for L, k, _ in g]).reshape(len(g), 2), [n for _, _, n in g])
                for m, g in by.items()}

    deep, low = arrays(nodes), arrays(shallow)
    for m, (leaves, gaps, who, objs) in deep.items():
        first = who.copy()
        if m in low:
            s_leaves, s_gaps, s_who, _ = low[m]
            order = np.lexsort((s_who[:, 1], s_who[:, 0]))        # (layer, neuron) ascending
            s_leaves, s_gaps, s_who = s_leaves[order], s_gaps[order], s_who[order]
            for a in range(0, len(leaves), 1024):
                b = slice(a, a + 1024)
                ok = (s_gaps[None, :, 0] <= gaps[b, 1, None]) & (gaps[b, 0, None] <= s_gaps[None, :, 1])
                for t in range(m):
                    ok &= (leaves[b, t, None] >= 0) & (s_leaves[None, :, t] >= 0) & \
                        near[leaves[b, t, None], s_leaves[None, :, t]]
                hit = ok.any(1)
                first[b][hit] = s_who[ok.argmax(1)[hit]]
        for n, (L, k) in zip(objs, first.tolist()):
            n["first_layer"], n["first_neuron"] = L, k


def pool_rules(records: list[dict], layer: int) -> pd.DataFrame:
    """The layer's rules: the leaf pairs of branch nodes as (A, B, gap range), pooled over neurons.

    Each branch node says that every leaf of its 5' child lies 5' of every leaf of its 3'
    child; each such pair (``pairs`` of the node, the adjacent one included) is a rule.
    Rules whose A and B fall in the same layer-wide groups (``group`` of the dictionary
    motifs) and whose gap ranges overlap are one rule (the union of the ranges). Each
    pair gets the ``rule`` id it was pooled into, and each node its adjacent pair's.

    Parameters
    ----------
    records : list of dict
        The layer's syntax records, after the linking step (``group``, ``first_*``).
    layer : int
        The conv layer.

    Returns
    -------
    pandas.DataFrame
        :data:`RULE_COLUMNS`, most neurons first.
    """
    items = []
    for r in records:
        motif = {d["id"]: d for d in r["dictionary"]}
        for n in r["nodes"]:
            for pair in n.get("pairs", []):
                a, b = motif[pair["a"]], motif[pair["b"]]
                items.append((a["group"], b["group"], pair["gap_min"], pair["gap_max"], r["neuron"], a, b, n,
                              pair))
    items.sort(key=lambda t: (t[0], t[1], t[2], t[3], t[4]))
    pools: list[list[tuple]] = []
    for it in items:
        last = pools[-1] if pools else None
        if last and last[0][:2] == it[:2] and it[2] <= max(x[3] for x in last):
            last.append(it)
        else:
            pools.append([it])
    ranked = sorted(((_rule_row(p, layer), p) for p in pools),
                    key=lambda t: (-t[0]["n_neurons"], -t[0]["n_clusters"], t[0]["gap_min"],
                                   t[0]["consensusA"], t[0]["consensusB"], t[0]["neurons"]))
    for i, (row, pool) in enumerate(ranked):
        row["rule"] = f"conv{layer}-r{i + 1}"
        for it in pool:
            it[8]["rule"] = row["rule"]
            if it[8]["adjacent"]:
                it[7]["rule"] = row["rule"]
    return pd.DataFrame([row for row, _ in ranked], columns=RULE_COLUMNS)


def _rule_row(pool: list[tuple], layer: int) -> dict:
    """One pooled rule's row: the best representatives' sequences, the best-named names."""
    def side(j: int) -> dict:
        motifs = [it[j] for it in pool]
        rep = max(motifs, key=lambda d: d["quality"])
        named = sorted((d["name_q"], d["name"]) for d in motifs if d.get("name_q") is not None)
        members = sorted({s for d in motifs for s in d["annotated"]})
        return {"consensus": rep["consensus"], "pattern": rep["pattern"],
                "name": named[0][1] if named else rep["consensus"], "members": ";".join(members)}

    a, b = side(5), side(6)
    neurons = sorted({it[4] for it in pool})
    first = min((it[7]["first_layer"], it[7]["first_neuron"]) for it in pool)
    lo = [it[8].get("sample_gap_min") for it in pool if it[8].get("sample_gap_min") is not None]
    hi = [it[8].get("sample_gap_max") for it in pool if it[8].get("sample_gap_max") is not None]
    share = [it[8].get("sample_share") for it in pool if it[8].get("sample_share") is not None]
    samples = {"sample_gap_min": min(lo) if lo else None, "sample_gap_max": max(hi) if hi else None,
               "sample_share": round(float(np.mean(share)), 4) if share else None}
    return {**samples, "layer": layer, "rule": "", "consensusA": a["consensus"], "consensusB": b["consensus"],
            "patternA": a["pattern"], "patternB": b["pattern"], "nameA": a["name"], "nameB": b["name"],
            "order": "A-B", "gap_min": min(it[2] for it in pool), "gap_max": max(it[3] for it in pool),
            "neurons": ";".join(str(k) for k in neurons), "n_neurons": len(neurons),
            "n_clusters": sum(len(it[7]["clusters"]) for it in pool),
            "membersA": a["members"], "membersB": b["members"],
            "first_layer": first[0], "first_neuron": first[1]}
