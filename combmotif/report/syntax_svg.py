"""A neuron's motif syntax on its page: the tree as inline SVG, the truth table, the rules.

Drawn from the neuron's ``syntax.json`` (:mod:`combmotif.neuronmotif.syntax_layer`) as
plain SVG text, no plotting library, so a page costs milliseconds. The tree is drawn
expanded: a node that several branch nodes hold (a motif that occurs twice in one
arrangement) is drawn under each of them; leaves that no branch node holds stand alone.
Leaves show the motif id, its consensus (coloured letters) and its name; a branch node
shows its order (the 5' child is on the left: ``m1-m2`` reads m1 5' of m2) and its gap
range in bases.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Sequence

import pandas as pd

from .. import layout
from ..interaction.labels import same_motif
from ..io import read_table
from ..sequences import IUPAC
from .html import esc, table, td

_COLOURS = {"A": "#109648", "C": "#255C99", "G": "#F7B32B", "T": "#D62839", "U": "#D62839"}
_ROW = 58          # vertical distance between tree levels (px)
_CHAR = 9          # width of a consensus letter (px)


def tree_svg(record: dict, rna: bool = True) -> str:
    """The syntax tree (a forest when the clusters share no arrangement) as an SVG element.

    Parameters
    ----------
    record : dict
        A neuron's ``syntax.json``.
    rna : bool
        Show U instead of T.

    Returns
    -------
    str
        ``<svg ...>...</svg>`` (valid XML), or an empty string without dictionary motifs.
    """
    nodes = {n["id"]: n for n in record.get("nodes", [])}
    motifs = {d["id"]: d for d in record.get("dictionary", [])}
    tops = list(record.get("roots", []))
    if not tops:
        return ""
    height = {k: _height(nodes, k) for k in tops}
    top_h = max(height.values())
    slots: list[float] = [12.0]
    parts: list[str] = []
    for k in tops:
        _draw(nodes, motifs, k, top_h, slots, parts, rna)
        slots[0] += 14
    width = int(slots[0]) + 4
    total = int(30 + top_h * _ROW + 64)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="syntax-tree" width="{width}" '
            f'height="{total}" viewBox="0 0 {width} {total}" font-family="sans-serif" '
            f'font-size="11" role="img"><title>motif syntax tree</title>{"".join(parts)}</svg>')


def _height(nodes: dict, k: str) -> int:
    n = nodes[k]
    return 0 if n["kind"] == "leaf" else 1 + max(_height(nodes, n["left"]), _height(nodes, n["right"]))


def _leaf_width(motif: dict) -> float:
    label = max(len(motif.get("consensus", "")), len(str(motif.get("name", ""))), 4)
    return label * _CHAR * 0.8 + 16


def _draw(nodes: dict, motifs: dict, k: str, top_h: int, slots: list[float], parts: list[str],
          rna: bool) -> tuple[float, float]:
    """Draw node ``k`` and its subtree; return the (x, y) its parent's line ends at."""
    n = nodes[k]
    if n["kind"] == "leaf":
        m = motifs.get(k, {})
        w = _leaf_width(m)
        x, y = slots[0] + w / 2, 30 + top_h * _ROW
        slots[0] += w
        parts.append(_leaf(x, y, k, m, rna))
        return x, y - 12
    (xl, yl), (xr, yr) = (_draw(nodes, motifs, n[c], top_h, slots, parts, rna) for c in ("left", "right"))
    x, y = (xl + xr) / 2, 30 + (top_h - _height(nodes, k)) * _ROW
    parts.append(f'<path d="M{xl:.1f},{yl:.1f} V{y + 14:.1f} H{xr:.1f} V{yr:.1f}" '
                 f'fill="none" stroke="#888"/>')
    gap = (f"{n['gap_min']}" if n["gap_min"] == n["gap_max"] else f"{n['gap_min']}–{n['gap_max']}")
    a, b = n["junction"]
    parts.append(f'<circle cx="{x:.1f}" cy="{y + 14:.1f}" r="3" fill="#444"/>'
                 f'<text x="{x:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                 f'<tspan font-weight="bold">{esc(k)}</tspan> {esc(a)}–{esc(b)}</text>'
                 f'<text x="{x:.1f}" y="{y + 8:.1f}" text-anchor="middle" fill="#555">gap {esc(gap)} '
                 f'· {len(n.get("clusters", []))} cl.</text>')
    return x, y - 16


def _leaf(x: float, y: float, k: str, m: dict, rna: bool) -> str:
    cons = m.get("consensus", "")
    letters = "".join(f'<tspan fill="{_COLOURS.get(c, "#333")}">{esc("U" if rna and c == "T" else c)}</tspan>'
                      for c in cons)
    name = m.get("name", "")
    named = name and name != cons
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" font-weight="bold">{esc(k)}</text>'
            f'<text x="{x:.1f}" y="{y + 16:.1f}" text-anchor="middle" font-family="monospace" '
            f'font-size="13" font-weight="bold">{letters}</text>'
            + (f'<text x="{x:.1f}" y="{y + 30:.1f}" text-anchor="middle" fill="#1a7f37">{esc(name)}</text>'
               if named else ""))


def rule_scans(layer_dir: str | Path) -> dict[str, dict]:
    """The spacing scan of each syntax rule of a layer, where ``combmotif spacing`` scanned its pair.

    A rule (``discovery/conv<L>/syntax_rules.csv``) and a scanned pair
    (``interaction/conv<L>/spacing/summary.csv``) are the same when both motifs are (IUPAC
    patterns, one inside the other), in either order; the scan's significant gaps are then
    read in the rule's order (its 5' motif first).

    Parameters
    ----------
    layer_dir : str or Path
        ``results/<model>/discovery/conv<L>``.

    Returns
    -------
    dict
        Rule id -> ``pair`` (the scan's file stem), ``order`` (the rule's order in the scan's
        terms, AB or BA), ``significant`` (its significant gaps, ``;``-separated, may be empty),
        ``interaction`` (the class at the scan's peak) and ``href`` (the figure, relative to a
        neuron page). Empty when either table is missing.
    """
    layer_dir = Path(layer_dir)
    rules = layer_dir / "syntax_rules.csv"
    spacing = layout.model_stage_dir(layer_dir.parent.parent, "interaction") / layer_dir.name / "spacing"
    summary = spacing / "summary.csv"
    if not rules.is_file() or not summary.is_file():
        return {}
    return _rule_scans(str(rules), rules.stat().st_mtime_ns, str(summary), summary.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _rule_scans(rules_csv: str, _t1: int, summary_csv: str, _t2: int) -> dict[str, dict]:
    # Cached by path and modification time: every neuron page of a layer asks.
    rules, scans = read_table(rules_csv), read_table(summary_csv)
    if not {"rule", "patternA", "patternB"} <= set(rules.columns) or not len(scans):
        return {}
    scans = scans[scans.get("reason", pd.Series("", index=scans.index)).fillna("") == ""]
    layer = Path(rules_csv).parent.name
    out = {}
    scans = scans[scans["patternA"].map(_pattern) & scans["patternB"].map(_pattern)]
    for r in rules.itertuples():
        if not (_pattern(r.patternA) and _pattern(r.patternB)):
            continue
        for sc in scans.itertuples():
            a, b = sc.patternA, sc.patternB
            order = ("AB" if same_motif(r.patternA, a) and same_motif(r.patternB, b) else
                     "BA" if same_motif(r.patternA, b) and same_motif(r.patternB, a) else None)
            if order:
                gaps = getattr(sc, f"sig_gaps_{order}")
                out[r.rule] = {"pair": sc.pair, "order": order,
                               "significant": "" if pd.isna(gaps) else str(gaps),
                               "interaction": "" if pd.isna(sc.interaction) else str(sc.interaction),
                               "href": f"../../../interaction/{layer}/spacing/{sc.pair}.png"}
                break
    return out


def _pattern(value) -> bool:
    """Whether a table cell holds an IUPAC pattern (not empty, not missing)."""
    return isinstance(value, str) and value != "" and all(c in IUPAC for c in value)


def _gap_text(gaps: str) -> str:
    """``0;1;2;5`` -> ``0-2, 5``."""
    values = sorted({int(g) for g in gaps.split(";") if g.strip()})
    runs: list[list[int]] = []
    for v in values:
        if runs and v == runs[-1][1] + 1:
            runs[-1][1] = v
        else:
            runs.append([v, v])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def syntax_section(record: dict | None, layer: int, rna: bool = True,
                   scans: dict[str, dict] | None = None) -> str:
    """The neuron page's "Motif syntax" section: tree, truth table, branch nodes and rules.

    Parameters
    ----------
    record : dict or None
        The neuron's ``syntax.json`` (None: not computed; the section says so).
    layer : int
        The neuron's layer (links to the first occurrence in shallower layers).
    rna : bool
        Show U instead of T.
    scans : dict, optional
        :func:`rule_scans` of the layer: the spacing scan of each rule, shown in the node
        table and as figures under the tree.

    Returns
    -------
    str
        HTML.
    """
    head = '<section class="syntax" id="syntax"><h2>Motif syntax</h2>'
    if record is None:
        return head + '<p class="muted small">Not computed (rerun discovery to write syntax.json).</p></section>'
    if not record.get("dictionary"):
        return head + '<p class="muted small">No motif segment in a high-quality cluster.</p></section>'
    n_branch = sum(n["kind"] == "branch" for n in record["nodes"])
    lead = (f'<p class="small">{len(record["dictionary"])} dictionary motifs, {n_branch} branch nodes. '
            "Dictionary: the segments of the high-quality clusters (quality at least "
            f'{record.get("rel_quality", 0.5):g} of the best), near-duplicates joined by Tomtom. '
            "A branch node joins two motifs or combinations adjacent in some clusters, its left "
            "child 5'; the least variable gap is joined first. Gap: bases between the two "
            "segments in the cluster PPM. First occurrence: the shallowest neuron holding the "
            "same motif or combination (same order, overlapping gap range). The layer's rules, "
            'pooled over its neurons: <a href="../syntax_rules.csv">syntax_rules.csv</a>.</p>'
            + _composites(record))
    scans = scans or {}
    return "\n".join([head, lead, f'<div class="syntax-svg" style="overflow-x:auto">{tree_svg(record, rna)}</div>',
                      _scan_figures(record, scans), _truth_table(record), _node_table(record, layer, rna, scans),
                      "</section>"])


def _scan_figures(record: dict, scans: dict[str, dict]) -> str:
    """The spacing scans of this neuron's rules, beside the tree (nothing when none was scanned)."""
    shown = []
    for n in record["nodes"]:
        scan = scans.get(n.get("rule", ""))
        if scan and scan["pair"] not in {s["pair"] for s in shown}:
            shown.append(scan)
    if not shown:
        return ""
    figures = "".join(f'<figure style="display:inline-block;margin:0 8px 8px 0"><a href="{esc(s["href"])}">'
                      f'<img src="{esc(s["href"])}" alt="spacing scan {esc(s["pair"])}" style="width:360px">'
                      f'</a><figcaption class="small">{esc(s["pair"])}</figcaption></figure>' for s in shown)
    return ('<h3>Spacing scans of these rules</h3><p class="small">The pair inserted into shuffled '
            "backgrounds at every gap and in both orders (<code>combmotif spacing</code>): where the "
            "model's epistasis is significant, against the tree's gap range.</p>" + figures)


def _composites(record: dict) -> str:
    """A line on the dictionary motifs read as several shorter ones, and the motifs added from elsewhere."""
    motifs = {d["id"]: d for d in record["dictionary"]}
    out = []
    for c in record.get("composites", []):
        parts = " + ".join(f'{p["motif"]} ({esc(str(motifs.get(p["motif"], {}).get("name", "")))})'
                           for p in c["parts"])
        out.append(f'{esc(c["consensus"])} = {parts}')
    added = [d["id"] for d in record["dictionary"] if d.get("source") in ("part", "pool")]
    if not out and not added:
        return ""
    text = ("Segments are annotated by sliding every dictionary motif along the cluster PPM "
            "(a segment may hold several motifs). ")
    if out:
        text += "Fused motifs read as shorter motifs seen alone elsewhere: " + "; ".join(out) + ". "
    if added:
        text += "From other neurons or shallower layers: " + ", ".join(added) + "."
    return f'<p class="small">{text}</p>'


def _truth_table(record: dict) -> str:
    tt = record["truth_table"]
    rank = {c["index"]: c for c in record["clusters"]}
    rows = []
    for i, (cid, row) in enumerate(zip(tt["clusters"], tt["present"])):
        c = rank.get(i, {})
        rows.append([td(esc(cid)), td(str(c.get("rank", "")), cls="num"),
                     td(f'{c.get("quality", 0):.3f}', cls="num"),
                     td("yes" if c.get("high_quality") else "no")]
                    + [td("●" if v else "", cls="num") for v in row])
    headers: Sequence = ["Cluster", ("Rank", "num"), ("Quality", "num"), "High quality"] + \
        [(m, "num") for m in tt["motifs"]]
    return "<h3>Truth table: leaf motifs per cluster</h3>\n" + table(headers, rows, cls="truth")


def _node_table(record: dict, layer: int, rna: bool, scans: dict[str, dict]) -> str:
    motifs = {d["id"]: d for d in record["dictionary"]}
    rows = []
    for n in record["nodes"]:
        if n["kind"] == "leaf":
            m = motifs[n["id"]]
            name = m.get("name", "")
            cons = m["consensus"].replace("T", "U") if rna else m["consensus"]
            what = f'<span class="seq">{esc(cons)}</span>'
            what += f" {esc(name)}" if name != m["consensus"] else ""
            order, gap = "", ""
        else:
            what = esc(" · ".join(n["leaves"]))
            order = f'{esc(n["junction"][0])} 5′ of {esc(n["junction"][1])}'
            gap = str(n["gap_min"]) if n["gap_min"] == n["gap_max"] else f'{n["gap_min"]}–{n["gap_max"]}'
        fl, fn = n.get("first_layer"), n.get("first_neuron")
        first = "" if fl is None else (
            f'<a href="../../conv{fl}/neuron{fn}/page.html#syntax">conv{fl} neuron {fn}</a>'
            if (fl, fn) != (layer, record.get("neuron")) else "here")
        row = [td(esc(n["id"])), td(what), td(order), td(gap),
               td(esc(", ".join(str(c) for c in n.get("clusters", [])))), td(first),
               td(esc(n.get("rule", "")))]
        if scans:
            scan = scans.get(n.get("rule", ""))
            row.append(td("" if not scan else
                          f'<a href="{esc(scan["href"])}">significant at gaps '
                          f'{esc(_gap_text(scan["significant"]) or "none")}</a>'
                          + (f' ({esc(scan["interaction"])})' if scan["interaction"] else "")))
        rows.append(row)
    headers = ["Node", "Motif or leaves (5′→3′)", "Order", "Gap", "Clusters", "First occurrence", "Layer rule"]
    return "<h3>Nodes</h3>\n" + table(headers + (["Spacing scan (this order)"] if scans else []), rows,
                                       cls="nodes")
