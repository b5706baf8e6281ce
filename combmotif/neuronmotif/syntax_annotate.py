"""Annotating PPMs with a motif dictionary by PPM-vs-PPM scans (NeuronMotif, Methods).

The paper annotates every segment of a neuron's cluster PPMs with the neuron's motif
dictionary, with offsets: a segment may hold two or more dictionary motifs. The
segmenter (information smoothed over 3 positions, one flank base each side) fuses two
motifs 0-3 bases apart into one segment, e.g. ``TGCATA`` + 1 base + ``AATCCA`` read as
one ``TGCATATAATCCA``; matching the whole segment to one motif (a Tomtom hit) loses the
second motif and the gap between them, which is what a syntax rule is about.

So each dictionary motif is slid along the cluster PPM (:func:`~.ppm_scan.scan_ppm`: all offsets at
once), the column similarity is Tomtom's Euclidean one, ``1 - |p - q| / sqrt(2)`` (1:
identical columns, 0: two different certain bases), averaged over the motif's columns
weighted by their information (a motif is what its informative columns say), and the
best hits above ``min_score`` are kept greedily without overlap (:func:`annotate_ppm`).

A dictionary motif that is itself two motifs (the fused segment of a high-quality
cluster) would still win its own segment. :func:`decompose` reads such a motif with
shorter motifs seen on their own elsewhere (other neurons of the layer, shallower
layers' dictionaries, whose smaller receptive fields hold one motif each): when two or
more of them, without overlap, cover most of its informative columns, it is replaced
by those parts. Such motifs (one per motif, :func:`dedupe_pool`) also annotate the rows
a neuron's own dictionary leaves (:func:`pool_annotate`): the paper's dictionary holds
only the high-quality clusters' segments, and a weaker cluster may show a motif the
model knows from elsewhere.

Hits lie inside a segment (give or take a flank row) or, outside, on rows of at least
``OUT_IC`` bits on average: the segmenter's threshold (0.8 smoothed bits) drops a motif
the model holds weakly next to a strong one, which is exactly where a pair shows.
Everything is deterministic.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..interaction.labels import ppm_iupac
from ..motifs.formats import consensus, information_content
from .ppm_scan import bank_hits, motif_bank, scan_ppm

MIN_SCORE = 0.75     # IC-weighted mean column similarity of a hit (Tomtom's Euclidean similarity)
MIN_PART = 5         # shortest motif that may stand for a part of a longer one
PART_IC = 1.0        # bits: the columns a decomposition must cover
MIN_COVER = 0.8      # share of the composite's informative columns its parts must cover
OUT_IC = 0.5         # bits (mean over the hit): a hit outside every segment still counts


def _hits(ppm: np.ndarray, motifs: Sequence[np.ndarray], min_score: float, metric: str,
          bank: list | None = None) -> np.ndarray:
    """Every (score, -width, motif, offset) above ``min_score``, motifs batched by width."""
    bank = motif_bank(motifs) if bank is None else bank
    return bank_hits(np.asarray(ppm, dtype=np.float64)[None], bank, min_score, metric)[0]


def annotate_ppm(ppm: np.ndarray, motifs: Sequence[np.ndarray],
                 regions: Sequence[tuple[int, int]] | None = None,
                 min_score: float = MIN_SCORE, slack: int = 1, min_ic: float | None = None,
                 metric: str = "euclid", taken: np.ndarray | None = None,
                 outside: Sequence[bool] | None = None, bank: list | None = None,
                 cand: np.ndarray | None = None) -> list[tuple[int, int, int, float]]:
    """The dictionary motifs a PPM holds, at their offsets, without overlap.

    Hits are taken best score first (ties: the longer motif, the first motif, the 5'
    offset); a hit overlapping one already taken is dropped.

    Parameters
    ----------
    ppm : numpy.ndarray
        (L, 4) a cluster PPM (or a segment's rows).
    motifs : sequence of numpy.ndarray
        The dictionary, (w_i, 4) each.
    regions : sequence of (int, int), optional
        Half-open row ranges (the segments) a hit must lie in, give or take ``slack``
        rows; None: anywhere.
    min_score : float
        Lowest score (:func:`scan_ppm`) of a hit.
    slack : int
        Rows a hit may reach beyond its region.
    min_ic : float, optional
        A hit outside the regions is kept when the PPM's mean information over its rows
        reaches this (bits); None: never.
    metric : str
        As :func:`scan_ppm`.
    taken : numpy.ndarray, optional
        (L,) bool: rows already annotated (no hit may overlap them); updated in place.
    outside : sequence of bool, optional
        Per motif, whether it may hit outside the regions (with ``min_ic``); default all.
    bank : list, optional
        :func:`motif_bank` of ``motifs``, when many PPMs are scanned with them.
    cand : numpy.ndarray, optional
        The PPM's hits (``(score, -width, motif, offset)`` rows), already scanned.

    Returns
    -------
    list of (int, int, int, float)
        ``(motif index, start, end, score)``, 5' to 3'.
    """
    if cand is None:
        cand = _hits(ppm, motifs, min_score, metric, bank) if len(motifs) else np.zeros((0, 4))
    if regions is not None:
        width = -cand[:, 1]
        inside = np.zeros(len(cand), dtype=bool)
        for a, b in regions:
            inside |= (cand[:, 3] >= a - slack) & (cand[:, 3] + width <= b + slack)
        if min_ic is not None:
            cum = np.concatenate([[0.0], np.cumsum(information_content(np.asarray(ppm, dtype=np.float64)))])
            o = cand[:, 3].astype(np.int64)
            ok = np.ones(len(motifs), dtype=bool) if outside is None else np.asarray(outside, dtype=bool)
            inside |= ok[cand[:, 2].astype(np.int64)] & \
                ((cum[o + width.astype(np.int64)] - cum[o]) / np.maximum(width, 1) >= min_ic)
        cand = cand[inside]
    order = np.lexsort((cand[:, 3], cand[:, 2], cand[:, 1], -cand[:, 0]))
    taken = np.zeros(len(ppm), dtype=bool) if taken is None else taken
    out = []
    for score, negw, m, o in cand[order]:
        a, b = int(o), int(o) - int(negw)
        if not taken[a:b].any():
            taken[a:b] = True
            out.append((int(m), a, b, round(float(score), 4)))
    return sorted(out, key=lambda t: (t[1], t[2], t[0]))


def decompose(ppm: np.ndarray, parts: Sequence[np.ndarray], min_score: float = MIN_SCORE,
              min_part: int = MIN_PART, part_ic: float = PART_IC,
              min_cover: float = MIN_COVER) -> list[tuple[int, int, int, float]]:
    """Read one motif as two or more shorter motifs, when it is a fusion of them.

    Parameters
    ----------
    ppm : numpy.ndarray
        (W, 4) the motif (a dictionary motif).
    parts : sequence of numpy.ndarray
        Candidate parts (motifs seen alone elsewhere); those shorter than ``min_part`` or
        not at least ``min_part`` rows shorter than ``ppm`` are not used.
    min_score : float
        Lowest score of a part's hit (:func:`scan_ppm`).
    min_part : int
        Shortest part, and the least a part must be shorter than the motif.
    part_ic : float
        Bits a column needs to count as informative.
    min_cover : float
        Share of the motif's informative columns the parts must cover together.

    Returns
    -------
    list of (int, int, int, float)
        ``(part index, start, end, score)`` 5' to 3' when the motif is a fusion of two or
        more parts; empty otherwise.
    """
    ppm = np.asarray(ppm, dtype=np.float64)
    ok = [i for i, p in enumerate(parts) if min_part <= len(p) <= len(ppm) - min_part]
    if len(ppm) < 2 * min_part or not ok:
        return []
    hits = annotate_ppm(ppm, [np.asarray(parts[i], dtype=np.float64) for i in ok], None, min_score, 0)
    if len(hits) < 2:
        return []
    info = information_content(ppm) >= part_ic
    covered = np.zeros(len(ppm), dtype=bool)
    for _, a, b, _ in hits:
        covered[a:b] = True
    if info.sum() == 0 or (covered & info).sum() < min_cover * info.sum():
        return []
    return [(ok[m], a, b, s) for m, a, b, s in hits]


def _alias(ppm: np.ndarray, motifs: Sequence[np.ndarray], min_score: float) -> int:
    """Index of a motif that is the same as ``ppm`` (widths within 2, the shorter scanned
    along the longer scores >= ``min_score``), else -1."""
    for j, m in enumerate(motifs):
        if abs(len(m) - len(ppm)) > 2:
            continue
        short, long_ = (m, ppm) if len(m) <= len(ppm) else (ppm, m)
        s = scan_ppm(long_, short)
        if s.size and s.max() >= min_score:
            return j
    return -1


def complete_dictionary(dictionary: list[dict], parts: Sequence[tuple[str, np.ndarray]],
                        min_score: float = MIN_SCORE) -> tuple[list[dict], list[dict]]:
    """Replace the dictionary motifs that are fusions of shorter motifs by those motifs.

    Parameters
    ----------
    dictionary : list of dict
        A neuron's dictionary (:func:`combmotif.neuronmotif.syntax.build_dictionary`:
        ``id``, ``ppm``...).
    parts : sequence of (str, numpy.ndarray)
        Motifs seen alone elsewhere: ``(label, ppm)``, e.g. the dictionaries of the
        layer's other neurons and of shallower layers.
    min_score : float
        As :func:`decompose`; a part also stands for one of the neuron's own motifs when it
        is that motif (:func:`_alias` at ``max(min_score, 0.85)``).

    Returns
    -------
    dictionary : list of dict
        The neuron's own motifs that are not fusions, then the parts added (``id``
        continuing the numbering, ``representative`` = the part's label, ``source`` =
        "part"); own motifs get ``source`` = "neuron".
    composites : list of dict
        The fused motifs left out: ``id``, ``consensus``, ``parts`` (``motif``, ``start``,
        ``end``, ``score``).
    """
    own = [np.asarray(d["ppm"], dtype=np.float64) for d in dictionary]
    pool = own + [np.asarray(p, dtype=np.float64) for _, p in parts]
    pieces = [decompose(m, pool[:i] + [np.zeros((0, 4))] + pool[i + 1:], min_score) for i, m in enumerate(own)]
    keep = [i for i, p in enumerate(pieces) if not p]
    out = [{**dictionary[i], "source": "neuron"} for i in keep]
    added: dict[int, str] = {}
    composites, next_id = [], len(dictionary) + 1
    for i, p in enumerate(pieces):
        if not p:
            continue
        listed = []
        for j, a, b, s in p:
            if j not in added:
                known = [np.asarray(d["ppm"], dtype=np.float64) for d in out]
                alias = keep.index(j) if j in keep else _alias(pool[j], known, max(min_score, 0.85))
                if alias >= 0:
                    added[j] = out[alias]["id"]
                else:
                    added[j], next_id = f"m{next_id}", next_id + 1
                    label = parts[j - len(own)][0] if j >= len(own) else dictionary[j]["representative"]
                    out.append(_part_entry(added[j], label, pool[j]))
            listed.append({"motif": added[j], "start": a, "end": b, "score": s})
        composites.append({"id": dictionary[i]["id"], "consensus": dictionary[i]["consensus"],
                           "parts": listed})
    return out, composites


def _part_entry(motif_id: str, label: str, ppm: np.ndarray) -> dict:
    return {"id": motif_id, "representative": label, "consensus": consensus(ppm),
            "pattern": ppm_iupac(ppm), "quality": 0.0, "members": [], "annotated": [],
            "ppm": np.round(ppm, 4).tolist(), "source": "part"}


def annotate_clusters(cluster_ppms: Sequence[np.ndarray], regions: Sequence[Sequence[tuple[str, int, int]]],
                      dictionary: Sequence[dict], min_score: float = MIN_SCORE, min_ic: float | None = OUT_IC,
                      metric: str = "euclid", labels: Sequence[str] | None = None,
                      pool: Sequence[dict] = ()) -> list[dict]:
    """Every cluster's segments annotated with the dictionary, with offsets, and the gaps.

    Parameters
    ----------
    cluster_ppms : sequence of numpy.ndarray
        (L, 4) per cluster.
    regions : sequence of sequence of (str, int, int)
        Per cluster, its segments: ``(name, start, end)`` rows of the cluster PPM.
    dictionary : sequence of dict
        ``id`` and ``ppm`` per motif; each gets ``annotated`` (the sites it holds).
    min_score, min_ic, metric
        As :func:`annotate_ppm` (``min_ic``: for the dictionary's motifs of at least
        ``MIN_PART`` columns and 6 bits; pool motifs only inside segments).
    labels : sequence of str, optional
        Cluster names for sites outside every segment (``<label>@<start>``); default ``c<i>``.
    pool : sequence of dict
        Motifs seen alone elsewhere (``id``, ``ppm``), used only on the rows the
        dictionary leaves; each gets ``annotated`` too (empty: not used here).

    Returns
    -------
    list of dict
        Per cluster ``segments``: ``[{"segment", "motif", "start", "end", "score"}]``, 5'
        to 3' (a site is named after its segment, ``<segment>:<j>`` when the segment holds
        several motifs; a segment holding none is listed with ``motif`` None), and
        ``gaps``: ``[{"left", "right", "gap"}]`` between consecutive sites.
    """
    n_own = len(dictionary)
    # Outside the segments only the neuron's own motifs, and none short or flat (CCCC
    # would annotate every C-rich stretch).
    outside = [_substantial(np.asarray(d["ppm"], dtype=np.float64)) for d in dictionary]
    motifs = [np.asarray(d["ppm"], dtype=np.float64) for d in list(dictionary) + list(pool)]
    ids = [d["id"] for d in list(dictionary) + list(pool)]
    annotated: dict[str, list[str]] = {i: [] for i in ids}
    out = []
    own, extra = _scanned(cluster_ppms, motifs[:n_own], min_score, metric), \
        _scanned(cluster_ppms, motifs[n_own:], min_score, metric)
    for c, (ppm, segs) in enumerate(zip(cluster_ppms, regions)):
        span, taken = [(a, b) for _, a, b in segs], np.zeros(len(ppm), dtype=bool)
        hits = annotate_ppm(ppm, motifs[:n_own], span, min_score, 1, min_ic, metric, taken, outside,
                            cand=own[c])
        if len(motifs) > n_own:
            more = annotate_ppm(ppm, motifs[n_own:], span, min_score, 1, None, metric, taken, cand=extra[c])
            hits = sorted(hits + [(m + n_own, a, b, x) for m, a, b, x in more], key=lambda t: (t[1], t[2], t[0]))
        rows = _site_rows(hits, segs, ids, labels[c] if labels else f"c{c}")
        for r in rows:
            if r["motif"] is not None:
                annotated[r["motif"]].append(r["segment"])
        out.append({"segments": rows,
                    "gaps": [{"left": x["motif"], "right": y["motif"], "gap": y["start"] - x["end"]}
                             for x, y in zip(rows, rows[1:])]})
    for d in list(dictionary) + list(pool):
        d["annotated"] = annotated[d["id"]]
    return out


def _scanned(ppms: Sequence[np.ndarray], motifs: Sequence[np.ndarray], min_score: float,
             metric: str) -> list[np.ndarray]:
    """Every PPM's hits of ``motifs`` (:func:`_hits`), the PPMs of one length scanned together."""
    if not len(motifs) or not len(ppms):
        return [np.zeros((0, 4)) for _ in ppms]
    bank = motif_bank(motifs)
    arrays = [np.asarray(p, dtype=np.float64) for p in ppms]
    if len({len(a) for a in arrays}) == 1:
        return bank_hits(np.stack(arrays), bank, min_score, metric)
    return [_hits(a, motifs, min_score, metric, bank) for a in arrays]


def _substantial(ppm: np.ndarray, min_part: int = MIN_PART, min_bits: float = 6.0) -> bool:
    """At least ``min_part`` columns and ``min_bits`` of information."""
    return len(ppm) >= min_part and float(information_content(ppm).sum()) >= min_bits


def dedupe_pool(parts: Sequence[tuple[str, np.ndarray]], known: Sequence[np.ndarray] = (),
                min_part: int = MIN_PART, min_bits: float = 6.0,
                min_score: float = 0.85) -> list[int]:
    """Indices of the parts to scan with: one per motif (the first of near-copies, as
    :func:`_alias`), none that is a copy of a ``known`` motif, none shorter than
    ``min_part`` or with less than ``min_bits`` of information (short or flat motifs
    would annotate anything).

    Parameters
    ----------
    parts : sequence of (str, numpy.ndarray)
        Labelled motifs.
    known : sequence of numpy.ndarray
        Motifs already in the dictionary.
    min_part : int
        Shortest part kept.
    min_bits : float
        Least total information of a part kept.
    min_score : float
        As :func:`_alias`.

    Returns
    -------
    list of int
    """
    kept: list[int] = []
    ref = [np.asarray(m, dtype=np.float64) for m in known]
    for i, (_, p) in enumerate(parts):
        p = np.asarray(p, dtype=np.float64)
        if not _substantial(p, min_part, min_bits):
            continue
        if _alias(p, ref, min_score) < 0:
            kept.append(i)
            ref.append(p)
    return kept


def _site_rows(hits: list[tuple], segs: Sequence[tuple[str, int, int]], ids: Sequence[str],
               label: str) -> list[dict]:
    """One cluster's sites: each hit named after the segment holding its centre (``:<j>``
    when it holds several, ``<label>@<start>`` outside every segment), segments without a
    hit listed unannotated; 5' to 3'."""
    sites, used = [], set()
    for name, a, b in segs:
        mine = [h for h in hits if a - 1 <= (h[1] + h[2]) / 2 < b + 1 and h[1] not in used]
        used.update(h[1] for h in mine)
        sites += [(f"{name}:{j + 1}" if len(mine) > 1 else name, h) for j, h in enumerate(mine)]
        if not mine:
            sites.append((name, (None, a, b, None)))
    sites += [(f"{label}@{h[1]}", h) for h in hits if h[1] not in used]
    sites.sort(key=lambda t: (t[1][1], t[1][2], t[0]))
    return [{"segment": n, "motif": None if h[0] is None else ids[h[0]], "start": h[1], "end": h[2],
             "score": h[3]} for n, h in sites]


def pool_annotate(cluster_ppms: Sequence[np.ndarray], regions: Sequence[Sequence[tuple[str, int, int]]],
                  dictionary: list[dict], pool: Sequence[tuple[str, np.ndarray]],
                  labels: Sequence[str] | None = None, **kw) -> tuple[list[dict], list[dict]]:
    """:func:`annotate_clusters` with the dictionary, then ``pool`` motifs on the rows it
    leaves; the pool motifs used join the dictionary.

    Parameters
    ----------
    cluster_ppms, regions, labels
        As :func:`annotate_clusters`.
    dictionary : list of dict
        The neuron's dictionary (``id``, ``ppm``...).
    pool : sequence of (str, numpy.ndarray)
        Labelled motifs seen alone elsewhere (:func:`dedupe_pool`); those the same as a
        dictionary motif are left out.
    **kw
        ``min_score``, ``min_ic``, ``metric`` of :func:`annotate_clusters`.

    Returns
    -------
    arrangements : list of dict
        As :func:`annotate_clusters`.
    dictionary : list of dict
        The dictionary, then the pool motifs used (``source`` = "pool", ids continuing).
    """
    own = [np.asarray(d["ppm"], dtype=np.float64) for d in dictionary]
    extra = [(lab, np.asarray(p, dtype=np.float64)) for lab, p in pool if _alias(p, own, 0.85) < 0]
    # The full entries (consensus, IUPAC pattern) only for the pool motifs used: the pool
    # is every motif of the layer and the shallower ones, scanned for each neuron.
    entries = [{"id": f"pool{j}", "ppm": np.round(p, 4)} for j, (_, p) in enumerate(extra)]
    arr = annotate_clusters(cluster_ppms, regions, dictionary, labels=labels, pool=entries, **kw)
    used = [{**_part_entry(d["id"], extra[j][0], extra[j][1]), "source": "pool", "annotated": d["annotated"]}
            for j, d in enumerate(entries) if d["annotated"]]
    nums = [int(d["id"][1:]) for d in dictionary if d["id"][1:].isdigit()]
    rename = {d["id"]: f"m{max(nums, default=0) + 1 + j}" for j, d in enumerate(used)}
    for d in used:
        d["id"] = rename[d["id"]]
    for c in arr:
        for x in c["segments"]:
            x["motif"] = rename.get(x["motif"], x["motif"])
        for g in c["gaps"]:
            g["left"], g["right"] = rename.get(g["left"], g["left"]), rename.get(g["right"], g["right"])
    return arr, list(dictionary) + used
