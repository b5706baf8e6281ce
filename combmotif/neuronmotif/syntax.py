"""The motif syntax of one neuron (NeuronMotif paper, Fig. 5 and Materials and Methods).

A deep neuron's cluster PPMs are arrangements of shorter motifs. Five steps, pure
computation over one neuron's unit (:mod:`combmotif.motifs.unit`) and a similarity
matrix of its segments (who computes it: :mod:`combmotif.neuronmotif.syntax_layer`,
one Tomtom call per layer through :func:`combmotif.motifs.collect.similar_pairs`):

0. **Cores**: each segment is cut to its informative core(s) (:func:`motif_cores`): the
   segmenter smooths information over 3 positions and adds flanks, so two motifs 1-3 bases
   apart share one segment and gaps between segments would be off by the flanks. The
   cores of a segment are the units below (sites); gaps are measured between cores.
1. **Rank** the clusters by quality: a cluster's quality is the best quality of its
   segments, the number NeuronMotif writes per segment (IC contrast x consensus
   activation / cluster max x cluster max / neuron max), 0 without a segment.
   Clusters with at least ``rel_quality`` times the neuron's best are high-quality.
2. **Dictionary**: the segments of the high-quality clusters, near-duplicates joined
   (connected components of the similarity); motif ``m1`` is the group with the best
   representative (its best-quality member), then ``m2``...
3. **Annotate** every cluster's segments with the dictionary, with offsets
   (:mod:`combmotif.neuronmotif.syntax_annotate`, when the cluster PPMs are given): each
   dictionary motif is slid along the cluster PPM and the best hits are kept without
   overlap, so a segment holding two motifs (``TGCATA`` + 1 + ``AATCCA`` fused by the
   segmenter) carries both at their offsets. A dictionary motif that is itself a fusion
   of shorter motifs seen alone elsewhere (other neurons, shallower layers) is replaced
   by them first; such motifs also annotate rows the dictionary leaves. A hit lies in a
   segment or on rows of >= 0.5 bits on average. A segment holding no motif stays
   unannotated (``motif`` null), out of steps 4 and 5. (Without the PPMs: a segment
   carries the motif of the best dictionary segment it is similar to.)
4. **Gaps** between adjacent sites of a cluster, in the rows of the cluster PPM:
   bases between the end of the 5' motif and the start of the 3' one (0: adjacent).
5. **Tree**: leaves are the dictionary motifs; repeatedly the two nodes (motifs or
   combinations) found adjacent, in one order, in some clusters and whose gap varies
   least over those clusters (smallest max - min; ties: more clusters, smaller gap,
   first seen) are joined into a branch node carrying the order (``left`` is 5'),
   the gap range and the clusters; until no cluster has two adjacent nodes left.
   A neuron whose clusters share no arrangement keeps several roots (a forest);
   a one-motif neuron is a single leaf.

The truth table says which leaf motifs each cluster holds. Everything is
deterministic: ties are broken by cluster, segment and motif order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..interaction.labels import ppm_iupac, same_motif
from ..motifs.collect import components
from ..motifs.formats import consensus, information_content
from .syntax_annotate import complete_dictionary, pool_annotate

REL_QUALITY = 0.5   # a cluster is high-quality at >= this share of the neuron's best cluster
CORE_IC = 1.0       # bits at the ends of a motif core (unsmoothed; flank bases sit at 0.5-1)
SPLIT_IC = 0.5      # bits below which a position inside a segment separates two cores
MIN_CORE = 4        # shortest core a split may leave


@dataclass
class Site:
    """One segment of one cluster: rows ``start:end`` of the cluster PPM."""

    name: str
    cluster: int          # position of the cluster in clusters.json
    start: int
    end: int
    quality: float
    ppm: np.ndarray
    seg_start: int = -1   # the segment's rows (-1: as the site's)
    seg_end: int = -1


def motif_cores(ppm: np.ndarray, core_ic: float = CORE_IC, split_ic: float = SPLIT_IC,
                min_core: int = MIN_CORE) -> list[tuple[int, int]]:
    """The informative cores of one segment: ``(start, end)`` rows of its PPM.

    The segmenter smooths the information over 3 positions and adds a flank, so two motifs
    a gap of 1-3 bases apart become one segment, and every segment carries a base or two of
    flank. Here a position below ``split_ic`` bits (unsmoothed) separates two cores when both
    sides keep at least ``min_core`` positions; each core then loses its end positions below
    ``core_ic`` (down to ``min_core`` positions). A segment with no core of ``min_core``
    positions stays whole.

    Parameters
    ----------
    ppm : numpy.ndarray
        (W, 4) the segment's rows.
    core_ic : float
        Bits an end position of a core needs.
    split_ic : float
        Bits below which a position separates two cores.
    min_core : int
        Shortest core a split may leave.

    Returns
    -------
    list of (int, int)
        Half-open row ranges, 5' to 3'.
    """
    ic = information_content(np.asarray(ppm, dtype=np.float64))
    high = np.concatenate([[False], ic >= split_ic, [False]])
    edges = np.flatnonzero(np.diff(high.astype(np.int8)))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_core]
    if not runs:
        return [(0, len(ic))]
    out = []
    for a, b in runs:
        while b - a > min_core and ic[a] < core_ic:
            a += 1
        while b - a > min_core and ic[b - 1] < core_ic:
            b -= 1
        out.append((a, b))
    return out


def neuron_sites(clusters: Sequence[dict], segments: Sequence) -> list[Site]:
    """The motif cores of the placed segments of one neuron (:func:`motif_cores`), by cluster
    then start.

    A segment with one core gives one site named after it; a segment with several gives
    sites named ``<segment>:1``, ``<segment>:2``... Each site keeps its segment's quality.

    Parameters
    ----------
    clusters : sequence of dict
        The neuron's ``clusters.json`` records (their ``segments`` hold ``quality``; a
        segment without one is ranked by its total information content instead).
    segments : sequence
        :class:`combmotif.motifs.match.Segment` of the neuron (``name``, ``motif``,
        ``cluster``, ``start``); unplaced ones are left out.

    Returns
    -------
    list of Site
    """
    quality = {str(d.get("motif_id")): float(d["quality"])
               for c in clusters for d in c.get("segments", []) if d.get("quality") is not None}
    sites = []
    for s in segments:
        if s.cluster is None or s.start is None:
            continue
        ppm = np.asarray(s.motif.ppm, dtype=np.float64)
        # A unit written without segment qualities (another method) ranks by information.
        q = quality.get(s.name, float(information_content(ppm).sum()))
        parts = motif_cores(ppm)
        for j, (a, b) in enumerate(parts):
            name = s.name if len(parts) == 1 else f"{s.name}:{j + 1}"
            sites.append(Site(name, int(s.cluster), int(s.start) + a, int(s.start) + b, q, ppm[a:b],
                              int(s.start), int(s.start) + len(ppm)))
    return sorted(sites, key=lambda s: (s.cluster, s.start, s.end, s.name))


def pattern_similar(patterns: Sequence[str], min_letters: int = 5, min_cover: float = 0.75) -> np.ndarray:
    """Which IUPAC patterns are one motif: one lies inside the other with compatible letters
    (:func:`~combmotif.interaction.labels.same_motif`), both have ``min_letters`` letters
    other than N, and the shorter covers ``min_cover`` of the longer.

    Tomtom misses some near-copies that differ by a flank base (``ATTTGA``, ``ATTTGAT``)
    when their q-values sit just above the cut; this catches them without letting short
    or degenerate patterns (``ATG``) join everything.

    Parameters
    ----------
    patterns : sequence of str
        IUPAC patterns.
    min_letters : int
        Informative letters each pattern needs.
    min_cover : float
        Length ratio of the shorter to the longer pattern.

    Returns
    -------
    numpy.ndarray
        (n, n) bool, symmetric, True on the diagonal.
    """
    n = len(patterns)
    out = np.eye(n, dtype=bool)
    ok = [len(p) - p.count("N") >= min_letters for p in patterns]
    for i in range(n):
        for j in range(i + 1, n):
            p, q = patterns[i], patterns[j]
            if ok[i] and ok[j] and min(len(p), len(q)) >= min_cover * max(len(p), len(q)) \
                    and same_motif(p, q):
                out[i, j] = out[j, i] = True
    return out


def cluster_quality(sites: Sequence[Site], n_clusters: int) -> np.ndarray:
    """Each cluster's quality: the best quality of its segments (0 without one).

    Parameters
    ----------
    sites : sequence of Site
        The neuron's segments.
    n_clusters : int
        The neuron's clusters.

    Returns
    -------
    numpy.ndarray
        (n_clusters,) float.
    """
    q = np.zeros(n_clusters)
    for s in sites:
        q[s.cluster] = max(q[s.cluster], s.quality)
    return q


def high_quality(quality: np.ndarray, rel_quality: float = REL_QUALITY) -> np.ndarray:
    """Which clusters are high-quality: quality > 0 and >= ``rel_quality`` x the best.

    Parameters
    ----------
    quality : numpy.ndarray
        :func:`cluster_quality`.
    rel_quality : float
        Share of the best cluster's quality needed.

    Returns
    -------
    numpy.ndarray
        (n_clusters,) bool.
    """
    quality = np.asarray(quality, dtype=np.float64)
    if not len(quality) or quality.max() <= 0:
        return np.zeros(len(quality), dtype=bool)
    return (quality > 0) & (quality >= rel_quality * quality.max())


def build_dictionary(sites: Sequence[Site], hq: np.ndarray, similar: np.ndarray
                     ) -> tuple[list[dict], np.ndarray]:
    """The neuron's motif dictionary and each segment's motif (steps 2 and 3).

    Parameters
    ----------
    sites : sequence of Site
        The neuron's segments.
    hq : numpy.ndarray
        (n_clusters,) bool, :func:`high_quality`.
    similar : numpy.ndarray
        (n_sites, n_sites) bool, symmetric: which segments are near-duplicates.

    Returns
    -------
    dictionary : list of dict
        ``id`` (m1, m2..), ``representative`` (segment name), ``consensus``, ``pattern``
        (IUPAC, :func:`~combmotif.interaction.labels.ppm_iupac`), ``quality``, ``members``
        (names of the high-quality segments), ``annotated`` (every segment carrying it),
        ``ppm`` (the representative's rows, rounded).
    motif_of : numpy.ndarray
        (n_sites,) int: index into ``dictionary``, -1 where unannotated.
    """
    similar = np.asarray(similar, dtype=bool)
    quality = np.array([s.quality for s in sites])
    core = np.flatnonzero([hq[s.cluster] for s in sites])
    sub = similar[np.ix_(core, core)]
    labels = components(len(core), np.argwhere(np.triu(sub, 1)))
    groups = [core[labels == g] for g in range(int(labels.max()) + 1)] if len(core) else []
    # The best member represents a group; groups are numbered by their representative.
    reps = [int(g[np.argmax(quality[g])]) for g in groups]
    order = sorted(range(len(groups)), key=lambda g: (-quality[reps[g]], reps[g]))
    motif_of = np.full(len(sites), -1, dtype=np.int64)
    for m, g in enumerate(order):
        motif_of[groups[g]] = m
    for i in np.flatnonzero(motif_of < 0):
        near = core[similar[i, core]]
        if len(near):
            motif_of[i] = motif_of[near[np.argmax(quality[near])]]
    dictionary = []
    for m, g in enumerate(order):
        rep = sites[reps[g]]
        dictionary.append({
            "id": f"m{m + 1}", "representative": rep.name, "consensus": consensus(rep.ppm),
            "pattern": ppm_iupac(rep.ppm), "quality": round(float(rep.quality), 4),
            "members": [sites[i].name for i in groups[g]],
            "annotated": [sites[i].name for i in np.flatnonzero(motif_of == m)],
            "ppm": np.round(rep.ppm, 4).tolist()})
    return dictionary, motif_of


def arrangements(sites: Sequence[Site], motif_of: np.ndarray, ids: Sequence[str],
                 n_clusters: int) -> list[dict]:
    """Each cluster's segments in 5'-3' order with their motif, and the gaps between them (step 4).

    Parameters
    ----------
    sites : sequence of Site
        The neuron's segments.
    motif_of : numpy.ndarray
        (n_sites,) dictionary index or -1.
    ids : sequence of str
        The dictionary's motif ids.
    n_clusters : int
        The neuron's clusters.

    Returns
    -------
    list of dict
        Per cluster ``segments``: ``[{"segment", "motif", "start", "end"}]`` and
        ``gaps``: ``[{"left", "right", "gap"}]`` between consecutive segments
        (``motif``, ``left``, ``right``: a motif id or None when unannotated).
    """
    out = [{"segments": [], "gaps": []} for _ in range(n_clusters)]
    for s, m in zip(sites, motif_of):
        out[s.cluster]["segments"].append({"segment": s.name, "motif": ids[m] if m >= 0 else None,
                                           "start": s.start, "end": s.end})
    for c in out:
        segs = sorted(c["segments"], key=lambda d: (d["start"], d["end"], d["segment"]))
        c["segments"] = segs
        c["gaps"] = [{"left": a["motif"], "right": b["motif"], "gap": b["start"] - a["end"]}
                     for a, b in zip(segs, segs[1:])]
    return out


def syntax_tree(rows: Sequence[Sequence[tuple[str, int, int]]], leaves: Sequence[str]) -> list[dict]:
    """The binary syntax tree (step 5): leaves, then branch nodes in the order they were joined.

    Parameters
    ----------
    rows : sequence of sequence of (str, int, int)
        Per cluster, its annotated segments ``(motif id, start, end)`` in 5'-3' order.
    leaves : sequence of str
        The dictionary's motif ids.

    Returns
    -------
    list of dict
        Leaves: ``id``, ``kind`` = "leaf", ``leaves`` = [id], ``clusters`` holding it.
        Branch nodes: ``id`` (b1, b2..), ``kind`` = "branch", ``left`` (the 5' node),
        ``right``, ``junction`` (the leaf motifs facing the gap: last leaf of ``left``,
        first of ``right``), ``gap_min``, ``gap_max``, ``gaps`` (per cluster),
        ``clusters``, ``leaves`` (in 5'-3' order), ``pairs``: every (leaf of ``left``, leaf
        of ``right``) as ``a``, ``b``, ``gap_min``, ``gap_max``, ``adjacent`` (the junction).
    """
    # An instance: (node id, start, end, leaf spans ((leaf, start, end), ...)).
    rows = [[(m, a, b, ((m, a, b),)) for m, a, b in r] for r in rows]
    nodes = {m: {"id": m, "kind": "leaf", "leaves": [m],
                 "clusters": [c for c, r in enumerate(rows) if any(x[0] == m for x in r)]}
             for m in leaves}
    order = list(leaves)
    while True:
        adj: dict[tuple[str, str], list[tuple[int, int]]] = {}
        for c, r in enumerate(rows):
            for a, b in zip(r, r[1:]):
                adj.setdefault((a[0], b[0]), []).append((c, b[1] - a[2]))
        if not adj:
            break
        first_seen = {k: i for i, k in enumerate(adj)}

        def flexibility(k):
            g = [x[1] for x in adj[k]]
            return (max(g) - min(g), -len({x[0] for x in adj[k]}), min(g), first_seen[k])

        left, right = min(adj, key=flexibility)
        node_id = f"b{len(order) - len(leaves) + 1}"
        joined = []
        for c, r in enumerate(rows):
            rows[c], pairs = _join(r, left, right, node_id)
            joined += [(c, a, b) for a, b in pairs]
        gaps = [b[1] - a[2] for _, a, b in joined]
        nodes[node_id] = {
            "id": node_id, "kind": "branch", "left": left, "right": right,
            "junction": [nodes[left]["leaves"][-1], nodes[right]["leaves"][0]],
            "gap_min": int(min(gaps)), "gap_max": int(max(gaps)),
            "gaps": [{"cluster": c, "gap": int(g)} for (c, _, _), g in zip(joined, gaps)],
            "clusters": sorted({c for c, _, _ in joined}),
            "leaves": nodes[left]["leaves"] + nodes[right]["leaves"],
            "pairs": _cross_pairs(joined)}
        order.append(node_id)
    return [nodes[k] for k in order]


def _join(row: list[tuple], left: str, right: str, node: str) -> tuple[list[tuple], list[tuple]]:
    """Replace every adjacent (left, right) of one cluster's row by ``node``, 5' to 3';
    return the new row and the (left, right) instance pairs joined."""
    out, pairs, i = [], [], 0
    while i < len(row):
        if i + 1 < len(row) and row[i][0] == left and row[i + 1][0] == right:
            a, b = row[i], row[i + 1]
            out.append((node, a[1], b[2], a[3] + b[3]))
            pairs.append((a, b))
            i += 2
        else:
            out.append(row[i])
            i += 1
    return out, pairs


def _cross_pairs(joined: list[tuple]) -> list[dict]:
    """Every (leaf of the 5' child, leaf of the 3' child) of a branch node, with its gap range
    over the clusters joined: the node says each such pair occurs in that order."""
    gaps: dict[tuple[int, int], list[int]] = {}
    names: dict[tuple[int, int], tuple[str, str]] = {}
    for _, a, b in joined:
        for i, (la, _, ea) in enumerate(a[3]):
            for j, (lb, sb, _) in enumerate(b[3]):
                gaps.setdefault((i, j), []).append(sb - ea)
                names[(i, j)] = (la, lb)
    return [{"a": names[k][0], "b": names[k][1], "gap_min": int(min(g)), "gap_max": int(max(g)),
             "adjacent": k == (len(joined[0][1][3]) - 1, 0)} for k, g in sorted(gaps.items())]


def roots(nodes: Sequence[dict]) -> list[str]:
    """Ids of the nodes no branch node holds (one for a tree, several for a forest).

    Parameters
    ----------
    nodes : sequence of dict
        :func:`syntax_tree`'s nodes.

    Returns
    -------
    list of str
    """
    held = {n[k] for n in nodes if n["kind"] == "branch" for k in ("left", "right")}
    return [n["id"] for n in nodes if n["id"] not in held]


def neuron_syntax(clusters: Sequence[dict], sites: Sequence[Site], similar: np.ndarray,
                  rel_quality: float = REL_QUALITY, cluster_ppms: Sequence[np.ndarray] | None = None,
                  parts: Sequence[tuple[str, np.ndarray]] = (),
                  pool: Sequence[tuple[str, np.ndarray]] = ()) -> dict:
    """The five steps for one neuron; the body of its ``syntax.json``.

    With ``cluster_ppms``, step 3 is the paper's: every cluster PPM is scanned with the
    dictionary inside its segments (:func:`~combmotif.neuronmotif.syntax_annotate.annotate_clusters`),
    so a segment holding two motifs is annotated with both at their offsets, after the
    dictionary motifs that are fusions of ``parts`` were replaced by them
    (:func:`~combmotif.neuronmotif.syntax_annotate.complete_dictionary`). Without, a
    site carries the motif of its similarity group (``similar``).

    Parameters
    ----------
    clusters : sequence of dict
        The neuron's ``clusters.json`` records, in file order.
    sites : sequence of Site
        :func:`neuron_sites` of the neuron.
    similar : numpy.ndarray
        (n_sites, n_sites) bool: which segments are near-duplicates.
    rel_quality : float
        As :func:`high_quality`.
    cluster_ppms : sequence of numpy.ndarray, optional
        (L, 4) PPM per cluster, in ``clusters`` order.
    parts : sequence of (str, numpy.ndarray)
        Motifs seen alone elsewhere (labelled), to read fused dictionary motifs.
    pool : sequence of (str, numpy.ndarray)
        Motifs seen alone elsewhere, one per motif
        (:func:`~combmotif.neuronmotif.syntax_annotate.dedupe_pool`), annotating the rows
        the dictionary leaves (:func:`~combmotif.neuronmotif.syntax_annotate.pool_annotate`).

    Returns
    -------
    dict
        ``dictionary`` (:func:`build_dictionary`), ``composites`` (fused motifs replaced
        by parts), ``clusters`` (per cluster: ``index``, ``id``, ``quality``, ``rank``
        (1 = best), ``high_quality``, ``segments``, ``gaps``), ``nodes``
        (:func:`syntax_tree`), ``roots`` and ``truth_table`` (``clusters``: cluster ids,
        ``motifs``: leaf ids, ``present``: 0/1 rows per cluster).
    """
    n = len(clusters)
    quality = cluster_quality(sites, n)
    hq = high_quality(quality, rel_quality)
    dictionary, motif_of = build_dictionary(sites, hq, similar)
    composites: list[dict] = []
    if cluster_ppms is None:
        arr = arrangements(sites, motif_of, [d["id"] for d in dictionary], n)
    else:
        dictionary, composites = complete_dictionary(dictionary, parts)
        labels = [str(c.get("motif_id", f"c{i}")) for i, c in enumerate(clusters)]
        arr, dictionary = pool_annotate(cluster_ppms, _regions(sites, n), dictionary, pool, labels)
    ids = [d["id"] for d in dictionary]
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(-quality, kind="stable")] = np.arange(1, n + 1)
    rows = [[(d["motif"], d["start"], d["end"]) for d in a["segments"] if d["motif"] is not None]
            for a in arr]
    nodes = syntax_tree(rows, ids)
    present = [[int(any(x[0] == m for x in r)) for m in ids] for r in rows]
    cluster_ids = [c.get("id", i) for i, c in enumerate(clusters)]
    return {
        "rel_quality": rel_quality,
        "quality": "a cluster's quality is the best quality of its segments "
                   "(IC contrast x consensus activation / cluster max x cluster max / neuron max)",
        "dictionary": dictionary, "composites": composites,
        "clusters": [{"index": i, "id": cluster_ids[i], "quality": round(float(quality[i]), 4),
                      "rank": int(rank[i]), "high_quality": bool(hq[i]), **arr[i]} for i in range(n)],
        "nodes": nodes, "roots": roots(nodes),
        "truth_table": {"clusters": cluster_ids, "motifs": ids, "present": present},
    }


def _regions(sites: Sequence[Site], n_clusters: int) -> list[list[tuple[str, int, int]]]:
    """Per cluster, its segments ``(name, start, end)`` (a split segment once, by its name)."""
    out: list[dict[str, tuple[str, int, int]]] = [{} for _ in range(n_clusters)]
    for s in sites:
        name = s.name.split(":")[0]
        a, b = (s.seg_start, s.seg_end) if s.seg_start >= 0 else (s.start, s.end)
        out[s.cluster].setdefault(name, (name, a, b))
    return [sorted(r.values(), key=lambda t: (t[1], t[0])) for r in out]
