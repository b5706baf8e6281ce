"""The pages a biologist reads: one per neuron, an index per layer, a front page per model.

::

    results/<model>/index.html                               front page (layers, stages,
                                                             distinct database motifs found)
    results/<model>/discovery/conv<L>/index.html             one sortable row per neuron
    results/<model>/discovery/conv<L>/neuron<k>/page.html    every cluster: logo, numbers,
                                                             segments and their matches

Scripts and style are copied into an ``assets/`` folder beside each index
(the neuron pages use their layer's), so every page opens from disk. The
driver calls :func:`write_layer_report` after :func:`~combmotif.motifs.match.match_layer`
for each layer, then :func:`write_model_index`.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..io import write_text
from ..motifs.collect import layer_dirs
from ..motifs.formats import Motif
from ..motifs.tomtom import informative_enough
from ..motifs.match import (MatchConfig, NeuronResult, _config, cluster_name, load_neuron,
                            neuron_dirs, read_matches)
from .html import copy_assets, esc, fmt_num, fmt_q, render_page, table, td
from .logos import alignment_specs, canvas_tag, logo_spec, write_logo_png, write_logo_pngs

# Cluster fields shown first, in this order, under these labels; other scalar
# fields of clusters.json follow with their key as label.
_CLUSTER_FIELDS = [("path", "tree path"), ("tree_path", "tree path"), ("size", "size"),
                   ("n_samples", "size"), ("max_activation", "max activation"),
                   ("max_act", "max activation"), ("consensus_activation", "consensus activation"),
                   ("consensus_act", "consensus activation"), ("indicator", "indicator"),
                   ("ratio", "indicator")]
_HIDDEN = {"name", "id", "motif_id", "segments", "ppm", "consensus"}
_SAMPLE_KEYS = ("samples", "n_samples", "num_samples", "archive_size", "size")
_MAXACT_KEYS = ("max_activation", "max_act", "activation_max")
_SIGN_KEYS = ("sign", "contribution_sign", "contribution", "mean_contribution", "effect")


# --------------------------------------------------------------------------- layer

def write_layer_report(layer_dir: str | Path, matches: pd.DataFrame | None = None,
                       targets: Sequence[Motif] | None = None,
                       cfg: MatchConfig | dict | None = None, *, model: str | None = None,
                       rna: bool = True, png: bool = True,
                       contribution_csv: str | Path | None = None) -> Path:
    """Write ``page.html`` of every neuron and the layer's ``index.html``; return the index path.

    Parameters
    ----------
    layer_dir : path
        ``results/<model>/discovery/conv<L>``, laid out as :mod:`combmotif.motifs.match` reads.
    matches : DataFrame, optional
        What :func:`~combmotif.motifs.match.match_layer` returned; read from matches.csv if None.
    targets : list of Motif, optional
        The database, for target logos aligned under each segment and their citations.
    cfg : MatchConfig, optional
        The matching settings (information cut, q thresholds) the pages explain.
    model : str, optional
        Model name for titles (default: the folder two levels up).
    rna : bool
        Show U instead of T.
    png : bool
        Also draw logomaker PNGs (``neuron<k>/logos/cluster<i>.png``): 0.2-0.6 s each on
        2 CPU cores, so ~1-2 min for 64 neurons x 3 clusters; redrawn only when ppms.meme
        is newer.
    contribution_csv : path, optional
        Per-neuron contribution table (columns ``neuron``, optional ``layer``, and one of
        ``sign``/``contribution``/``effect``...); default: the motif_contribution stage's
        ``results/<model>/contribution/conv<L>/neuron_contribution.csv`` when it exists.
    """
    cfg = _config(cfg)
    layer_dir = Path(layer_dir)
    layer = layer_dir.name
    model = model or layer_dir.parent.parent.name
    matches = read_matches(layer_dir) if matches is None else matches
    by_name = {t.name: t for t in targets} if targets is not None else {}
    copy_assets(layer_dir / "assets")
    summary = _read_summary(layer_dir / "summary.csv")
    if contribution_csv is None:
        stage = layer_dir.parent.parent / "contribution"
        per_layer = stage / layer / "neuron_contribution.csv"
        contribution_csv = per_layer if per_layer.is_file() else stage / "neuron_contribution.csv"
    contrib = _read_contribution(contribution_csv, layer)
    knockout = _read_contribution(Path(contribution_csv).with_name("neuron_knockout.csv"), layer)

    rows, logos, provenance = [], {}, ""
    n_sig = 0
    png_jobs: list[tuple] = []
    for k, path in neuron_dirs(layer_dir):
        nr = load_neuron(path)
        mine = matches[matches["neuron"] == k] if len(matches) else matches
        write_neuron_page(nr, mine, by_name, cfg, model=model, layer=layer, rna=rna, png=png,
                          png_jobs=png_jobs, contribution=_contribution_text(contrib.get(k),
                                                                             knockout.get(k)))
        if not provenance and (path / "tomtom.tsv").is_file():
            provenance = _tomtom_provenance(path / "tomtom.tsv")
        row, spec = _index_row(nr, mine, summary.get(k, {}), contrib.get(k), cfg, rna,
                               knockout.get(k))
        if spec is not None:
            logos[f"n{k}"] = spec
        if len(mine) and float(mine["q"].min()) < cfg.significance:
            n_sig += 1
        rows.append(row)
    write_logo_pngs(png_jobs)

    headers = ["Neuron", ("Clusters", "num"), ("Samples", "num"), ("Indicator", "num"),
               ("Max activation", "num"), "Top match", ("q", "num"), "Logo of the top cluster",
               "Contribution", "Knockout"]
    files = _file_links(layer_dir, ["matches.csv", "summary.csv"])
    body = [
        f'<p class="lead">{len(rows)} neurons; <span class="sig">{n_sig}</span> with a database '
        f"match at q &lt; {cfg.significance:g}. Click a column header to sort, a neuron to open "
        f"its clusters and motif segments.</p>",
        f'<p class="small muted">{esc(provenance)}</p>' if provenance else "",
        f'<p class="small">Tables: {files}</p>' if files else "",
        '<input class="filter" type="search" placeholder="filter rows (e.g. a motif name)" '
        'data-filter="neurons">',
        table(headers, rows, cls="sortable", table_id="neurons"),
        '<p class="small muted">Top match: the database motif with the smallest Tomtom q-value '
        "over all segments of the neuron. Contribution: do sequences that activate the neuron get "
        "higher (positive) or lower (negative) model outputs than the others (an association); "
        "Knockout: does shuffling the window that drives it lower (positive) or raise "
        "(negative) the output of those sequences (causal). Both are filled in once the "
        "motif_contribution stage has run before the pages are written.</p>",
    ]
    html = render_page(f"{model} · {layer}", "\n".join(b for b in body if b), "assets",
                       crumbs=[(model, "../../index.html"), (layer, None)],
                       heading=f"{model} · {layer}: neurons", logos=logos)
    index = layer_dir / "index.html"
    write_text(index, html)
    return index


def _index_row(nr: NeuronResult, matches: pd.DataFrame, summary: dict, sign: Any,
               cfg: MatchConfig, rna: bool, knockout: Any = None) -> tuple[list[str], dict | None]:
    k = nr.neuron
    samples = _first(summary, _SAMPLE_KEYS)
    if samples is None:
        sizes = [_first(c, ("size", "n_samples")) for c in nr.clusters]
        samples = sum(sizes) if sizes and all(isinstance(s, (int, float)) for s in sizes) else None
    if samples is None:
        samples = _count_samples(nr.path / "samples.npz")
    indicator = _first(summary, ("indicator",))
    if indicator is None:
        vals = [v for c in nr.clusters
                if isinstance(v := _first(c, ("indicator", "ratio")), (int, float))]
        indicator = max(vals) if vals else None
    maxact = _first(summary, _MAXACT_KEYS)
    if maxact is None:
        vals = [v for c in nr.clusters if isinstance(v := _first(c, _MAXACT_KEYS), (int, float))]
        maxact = max(vals) if vals else None

    top_cell, q_cell, top_cluster = td('<span class="muted">none</span>', sort="~"), td("", 2.0), None
    if len(matches):
        best = matches.loc[matches["q"].idxmin()]
        cls = "sig" if best["q"] < cfg.significance else "nosig"
        src = f' <span class="muted small">{esc(best["target_source"])}</span>' \
            if best.get("target_source") else ""
        top_cell = td(f'<span class="{cls}">{esc(best["target"])}</span>{src}', sort=best["target"])
        q_cell = td(fmt_q(best["q"]), sort=float(best["q"]), cls="num")
        top_cluster = int(best["cluster"]) if int(best["cluster"]) >= 0 else None
    if top_cluster is None and nr.ppms:
        chosen = _first(summary, ("best_cluster",))
        sizes = [_first(c, ("size", "n_samples")) or 0 for c in nr.clusters]
        top_cluster = int(chosen) if isinstance(chosen, (int, float)) else int(np.argmax(sizes))
    spec, logo = None, ""
    if top_cluster is not None and top_cluster < len(nr.ppms):
        ppm = nr.ppms[top_cluster].ppm
        spec = logo_spec(ppm, rna, highlight=_segment_ranges(nr, top_cluster), axis=False)
        logo = canvas_tag(f"n{k}", len(ppm), height=44, col_width=9, axis=False)
    sign_txt, ko_txt = _sign_text(sign), _sign_text(knockout)
    row = [
        td(f'<a href="neuron{k}/page.html">neuron {k}</a>', sort=k),
        td(str(len(nr.ppms)), sort=len(nr.ppms), cls="num"),
        td(fmt_num(samples), sort=_sortnum(samples), cls="num"),
        td(fmt_num(indicator), sort=_sortnum(indicator), cls="num"),
        td(fmt_num(maxact), sort=_sortnum(maxact), cls="num"),
        top_cell, q_cell,
        td(logo),
        td(esc(sign_txt) if sign_txt else '<span class="muted">&ndash;</span>', sort=sign_txt or "~"),
        td(esc(ko_txt) if ko_txt else '<span class="muted">&ndash;</span>', sort=ko_txt or "~"),
    ]
    return row, spec


# --------------------------------------------------------------------------- neuron

def write_neuron_page(nr: NeuronResult, matches: pd.DataFrame, targets: dict[str, Motif],
                      cfg: MatchConfig, *, model: str, layer: str, rna: bool = True,
                      png: bool = True, png_jobs: list | None = None,
                      contribution: str = "") -> Path:
    """Write ``neuron<k>/page.html`` (and its PNG logos); the layer's ``assets/`` must exist.

    With ``png_jobs`` the PNGs that need drawing are appended to it (to be drawn in
    parallel by the caller) instead of being drawn here.
    """
    own_jobs = png_jobs is None
    png_jobs = [] if own_jobs else png_jobs
    k = nr.neuron
    logos: dict[str, dict] = {}
    sections = []
    for i, (cluster, ppm) in enumerate(zip(nr.clusters, nr.ppms)):
        sections.append(_cluster_section(nr, i, cluster, ppm, matches, targets, cfg, rna, png,
                                         logos, png_jobs))
    loose = [s for s in nr.segments if s.cluster is None]
    if loose:
        sections.append("<h2>Segments not placed in a cluster</h2>")
        sections.append(_segment_table(nr, loose, matches, targets, cfg, rna, logos, "u"))

    best = ""
    if len(matches):
        b = matches.loc[matches["q"].idxmin()]
        cls = "sig" if b["q"] < cfg.significance else "nosig"
        best = (f' Best database match: <span class="{cls}">{esc(b["target"])}</span> '
                f"(q = {fmt_q(b['q'])}, segment {esc(b['segment'])}).")
    files = _file_links(nr.path, ["tomtom.tsv", "clusters.json", "ppms.meme", "segments.meme",
                                  "samples.npz"])
    body = [f'<p class="lead">{len(nr.ppms)} clusters, {len(nr.segments)} motif segments.'
            f"{best}</p>",
            f'<p class="contribution">{contribution}</p>' if contribution else "",
            f'<p class="small">Files: {files}</p>' if files else "",
            _explain(cfg)] + sections
    if not nr.ppms:
        body.append('<p class="muted">No clusters were found for this neuron.</p>')
    html = render_page(f"{model} · {layer} · neuron {k}", "\n".join(b for b in body if b),
                       "../assets", crumbs=[(model, "../../../index.html"),
                                             (layer, "../index.html"), (f"neuron {k}", None)],
                       heading=f"{layer} · neuron {k}", logos=logos)
    page = nr.path / "page.html"
    write_text(page, html)
    if own_jobs:
        write_logo_pngs(png_jobs, workers=1)
    return page


def _cluster_section(nr: NeuronResult, i: int, cluster: dict, ppm: Motif, matches: pd.DataFrame,
                     targets: dict[str, Motif], cfg: MatchConfig, rna: bool, png: bool,
                     logos: dict, png_jobs: list) -> str:
    name = cluster_name(cluster, ppm, i)
    sub = f' <span class="muted small">{esc(ppm.name)}</span>' if ppm.name != name else ""
    key = f"c{i}"
    ranges = _segment_ranges(nr, i)
    logos[key] = logo_spec(ppm.ppm, rna, highlight=ranges)
    props = [[td(esc(label)), td(esc(_fmt_field(value)), cls="num")]
             for label, value in _cluster_fields(cluster)]
    props.append([td("length"), td(str(len(ppm)), cls="num")])
    props.append([td("consensus"), td(f'<span class="seq">{esc(_rna(ppm.consensus, rna))}</span>')])
    png_html = ""
    if png:
        png_path = nr.path / "logos" / f"cluster{i}.png"
        meme = nr.path / "ppms.meme"
        if not png_path.is_file() or (meme.is_file()
                                      and png_path.stat().st_mtime < meme.stat().st_mtime):
            png_jobs.append((png_path, ppm.ppm, rna, ranges))
        png_html = (f'<details><summary>static logo (PNG, logomaker)</summary>'
                    f'<img class="png-logo" src="logos/cluster{i}.png" alt="logo of cluster '
                    f'{esc(name)}"></details>')
    segs = [s for s in nr.segments if s.cluster == i]
    seg_html = (_segment_table(nr, segs, matches, targets, cfg, rna, logos, key) if segs else
                '<p class="muted small">No motif segment was cut from this cluster.</p>')
    return (f'<section class="cluster" id="cluster-{_slug(name)}">\n'
            f"<h3>Cluster {esc(name)}{sub}</h3>\n"
            f'<div class="cluster-top"><div>{canvas_tag(key, len(ppm), title=f"cluster {name}")}'
            f"{png_html}</div>\n"
            f'{table([], props, cls="props")}</div>\n'
            f"{seg_html}\n</section>")


def _segment_table(nr: NeuronResult, segs: list, matches: pd.DataFrame,
                   targets: dict[str, Motif], cfg: MatchConfig, rna: bool, logos: dict,
                   key: str) -> str:
    rows = []
    for j, seg in enumerate(segs):
        ic = seg.motif.total_information
        pos = (f"{seg.start + 1}&ndash;{seg.start + len(seg.motif)}"
               if seg.start is not None else "?")
        hits = matches[matches["segment"] == seg.name] if len(matches) else matches
        if not informative_enough(seg.motif, cfg.min_query_ic, cfg.min_query_mean_ic):
            found = (f'<span class="muted">not compared: too little information '
                     f"({ic:.1f} bits, {ic / len(seg.motif):.2f} per position; needs "
                     f"{cfg.min_query_ic:g} and {cfg.min_query_mean_ic:g})</span>")
        elif not len(hits):
            found = f'<span class="muted">no match with q &le; {cfg.thresh:g}</span>'
        else:
            found = "<br>".join(_match_line(h, targets, cfg) for _, h in hits.iterrows())
        align = ""
        if len(hits):
            top = hits.iloc[0]
            target = targets.get(top["target"])
            if target is not None:
                tppm = target.ppm[::-1, ::-1] if top["orientation"] == "-" else target.ppm
                qs, ts, width = alignment_specs(seg.motif.ppm, tppm, int(top["offset"]), rna,
                                                "segment", f"{top['target']}"
                                                + (" (rev. compl.)" if top["orientation"] == "-"
                                                   else ""))
                logos[f"{key}s{j}q"], logos[f"{key}s{j}t"] = qs, ts
                align = (canvas_tag(f"{key}s{j}q", width, height=70, col_width=14) + "<br>"
                         + canvas_tag(f"{key}s{j}t", width, height=70, col_width=14))
        rows.append([
            f'<td id="seg-{_slug(seg.name)}">{esc(seg.name)}</td>',
            td(pos, sort=seg.start if seg.start is not None else -1),
            td(f"{ic:.1f}", sort=round(ic, 3), cls="num"),
            td(f'<span class="seq">{esc(_rna(seg.motif.consensus, rna))}</span>'),
            td(found), td(align)])
    headers = ["Segment", "Position", ("Bits", "num"), "Consensus",
               f"Best matches (top {cfg.top_k}, q ≤ {cfg.thresh:g})", "Aligned with the top match"]
    return table(headers, rows, cls="segments")


def _match_line(h: pd.Series, targets: dict[str, Motif], cfg: MatchConfig) -> str:
    cls = "sig" if h["q"] < cfg.significance else "nosig"
    t = targets.get(h["target"])
    tip = ""
    if t is not None:
        tip = " | ".join(x for x in (t.altname, t.meta.get("consensus", ""),
                                     t.meta.get("description", ""), t.meta.get("citation", "")) if x)
    src = f' <span class="muted small">{esc(h["target_source"])}</span>' \
        if h.get("target_source") else ""
    return (f'<span class="{cls}" title="{esc(tip)}">{esc(h["target"])}</span>{src} '
            f'q = {fmt_q(h["q"])}, offset {int(h["offset"])}, strand {esc(h["orientation"])}')


def _explain(cfg: MatchConfig) -> str:
    return ('<p class="small muted">Each cluster: a position probability matrix of the '
            "sequences that activate the neuron in one pattern; grey bands mark the motif "
            "segments cut from it. Segments were compared with the motif database by Tomtom "
            f"(Euclidean distance, given strand only: {'yes' if cfg.norc else 'no'}); "
            f"<span class=\"sig\">green</span>: q &lt; {cfg.significance:g}. Offset: the "
            "segment's first position lies at that position of the database motif "
            "(MEME's convention).</p>")


# --------------------------------------------------------------------------- model

def write_model_index(model_dir: str | Path, title: str | None = None,
                      significance: float = 0.05) -> Path:
    """Write ``results/<model>/index.html``: links to every layer and stage, and the
    distinct database motifs found (``discovery/collected_motifs.csv``) when collected."""
    model_dir = Path(model_dir)
    name = title or model_dir.name
    copy_assets(model_dir / "assets")
    layer_rows = []
    for L, path in layer_dirs(model_dir):
        n = len(neuron_dirs(path))
        m = read_matches(path)
        n_sig = int(m.loc[m["q"] < significance, "neuron"].nunique()) if len(m) else 0
        link = (f'<a href="discovery/{path.name}/index.html">{path.name}</a>'
                if (path / "index.html").is_file() else esc(path.name))
        layer_rows.append([td(link, sort=L), td(str(n), sort=n, cls="num"),
                           td(str(n_sig), sort=n_sig, cls="num")])
    body = [f'<p class="lead">What the model <b>{esc(name)}</b> has learned, stage by stage.</p>',
            "<h2>Motif discovery (NeuronMotif)</h2>"]
    if layer_rows:
        body.append(table(["Layer", ("Neurons", "num"),
                           (f"Neurons matched (q < {significance:g})", "num")],
                          layer_rows, cls="sortable"))
    else:
        body.append('<p class="muted">Not run yet.</p>')
    body.append(_collected_section(model_dir))
    for stage, label in (("contribution", "Motif contribution"),
                         ("interaction", "Motif interaction")):
        body.append(f"<h2>{label}</h2>")
        page = model_dir / stage / "index.html"
        if page.is_file():
            body.append(f'<p><a href="{stage}/index.html">{label} results</a></p>')
        elif (model_dir / stage).is_dir():
            # Per-layer tables and plots first (what a reader opens), then the stage's own files.
            items = []
            for sub in sorted((p for p in (model_dir / stage).iterdir() if p.is_dir()),
                              key=lambda p: (len(p.name), p.name)):
                names = sorted(p.name for p in sub.iterdir()
                               if p.is_file() and p.suffix in (".csv", ".png", ".yaml", ".html"))
                links = _file_links(sub, names, prefix=f"{stage}/{sub.name}/")
                if links:
                    items.append(f"<li>{esc(sub.name)}: {links}</li>")
            top = _file_links(model_dir / stage, sorted(
                p.name for p in (model_dir / stage).iterdir() if p.is_file()), prefix=f"{stage}/")
            if top:
                items.append(f"<li>{top}</li>")
            body.append(f"<ul>{''.join(items)}</ul>" if items else '<p class="muted">Not run yet.</p>')
        else:
            body.append('<p class="muted">Not run yet.</p>')
    if (model_dir / "compare" / "index.html").is_file():
        body.append("<h2>Method comparison</h2>")
        body.append('<p><a href="compare/index.html">NeuronMotif against max-activation seqlets, '
                    "TF-MoDISco and class optimization</a></p>")
    html = render_page(f"{name}: CombMotif results", "\n".join(b for b in body if b), "assets",
                       crumbs=[(name, None)], heading=f"{name}: CombMotif results")
    index = model_dir / "index.html"
    write_text(index, html)
    return index


def _collected_section(model_dir: Path) -> str:
    path = model_dir / "discovery" / "collected_motifs.csv"
    if not path.is_file():
        return ""
    df = pd.read_csv(path, keep_default_na=False)
    out = ["<h3>Distinct database motifs found</h3>",
           '<p class="small muted">Near-duplicate database motifs are merged into one group '
           "(Tomtom of the database against itself). "
           '<a href="discovery/collected_motifs.csv">collected_motifs.csv</a></p>']
    if not len(df):
        out.append('<p class="muted">No segment matched a database motif significantly.</p>')
        return "\n".join(out)
    rows = []
    for _, r in df.iterrows():
        layer, neuron, seg = (str(r["best_hit"]).split("/", 2) + ["", "", ""])[:3]
        href = f"discovery/{layer}/{neuron}/page.html#seg-{_slug(seg)}"
        others = [t for t in str(r["targets_matched"]).split(";") if t and t != r["representative"]]
        rows.append([
            td(f'<span class="sig">{esc(r["representative"])}</span>'
               + (f'<br><span class="small muted">also: {esc(", ".join(others[:6]))}'
                  f'{" …" if len(others) > 6 else ""}</span>' if others else ""),
               sort=r["representative"]),
            td(esc(r["description"]), cls="small"),
            td(str(r["n_neurons"]), sort=r["n_neurons"], cls="num"),
            td(esc(str(r["layers"]).replace(";", ", "))),
            td(fmt_q(float(r["best_q"])), sort=float(r["best_q"]), cls="num"),
            td(f'<a href="{esc(href)}">{esc(r["best_hit"])}</a>')])
    out.append(table(["Motif", "About", ("Neurons", "num"), "Layers", ("Best q", "num"),
                      "Best segment"], rows, cls="sortable"))
    return "\n".join(out)


# --------------------------------------------------------------------------- helpers

def _segment_ranges(nr: NeuronResult, cluster: int) -> list[tuple[int, int]]:
    return [(s.start, s.start + len(s.motif)) for s in nr.segments
            if s.cluster == cluster and s.start is not None]


def _cluster_fields(cluster: dict) -> list[tuple[str, Any]]:
    out, seen = [], set()
    for key, label in _CLUSTER_FIELDS:
        if key in cluster and label not in seen and _showable(cluster[key]):
            out.append((label, cluster[key]))
            seen.add(label)
    known = {k for k, _ in _CLUSTER_FIELDS}
    for key, value in cluster.items():
        if key not in known and key not in _HIDDEN and _showable(value):
            out.append((key.replace("_", " "), value))
    return out


def _showable(v: Any) -> bool:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return True
    return isinstance(v, list) and len(v) <= 12 and all(isinstance(x, (str, int, float)) for x in v)


def _fmt_field(v: Any) -> str:
    if isinstance(v, list):
        return "/".join(str(x) for x in v) if v else "root"
    return fmt_num(v)


def _first(d: dict, keys: Sequence[str]) -> Any:
    for k in keys:
        v = d.get(k)
        if v is not None and v != "" and not (isinstance(v, float) and math.isnan(v)):
            return v
    return None


def _sortnum(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else -1e300


def _count_samples(path: Path) -> int | None:
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return int(len(z[z.files[0]])) if z.files else None
    except (OSError, ValueError):
        return None


def _read_summary(path: Path) -> dict[int, dict]:
    """summary.csv rows by neuron index (the ``neuron`` column, digits of ``neuron7`` allowed)."""
    if not path.is_file():
        return {}
    df = pd.read_csv(path)
    if "neuron" not in df.columns:
        return {}
    out = {}
    for rec in df.to_dict("records"):
        k = _neuron_index(rec["neuron"])
        if k is not None:
            out[k] = rec
    return out


def _read_contribution(path: str | Path, layer: str) -> dict[int, Any]:
    path = Path(path)
    if not path.is_file():
        return {}
    df = pd.read_csv(path)
    if "neuron" not in df.columns:
        return {}
    if "layer" in df.columns:
        want = re.sub(r"\D", "", layer)
        df = df[df["layer"].astype(str).str.replace(r"\D", "", regex=True) == want]
    col = next((c for c in _SIGN_KEYS if c in df.columns), None)
    if col is None:
        return {}
    return {k: v for n, v in zip(df["neuron"], df[col]) if (k := _neuron_index(n)) is not None}


def _contribution_text(sign: Any, knockout: Any) -> str:
    """The neuron page's line on which way the neuron pushes the output (HTML)."""
    parts = []
    if (t := _sign_text(sign)):
        parts.append(f"Contribution to the output: <b>{esc(t)}</b> (sequences that activate it "
                     "vs the others)")
    if (t := _sign_text(knockout)):
        parts.append(f"knockout: <b>{esc(t)}</b> (shuffling the window that drives it)")
    return "; ".join(parts) + "." if parts else ""


def _sign_text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, (int, float)):
        return "+" if v > 0 else "−" if v < 0 else "0"
    return str(v)


def _neuron_index(v: Any) -> int | None:
    m = re.search(r"(\d+)$", str(v))
    return int(m.group(1)) if m else None


def _tomtom_provenance(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("# Tomtom"):
            return "Matching: " + line[2:]
    return ""


def _file_links(folder: Path, names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f'<a href="{esc(prefix + n)}">{esc(n)}</a>' for n in names
                     if (folder / n).is_file())


def _rna(seq: str, rna: bool) -> str:
    return seq.replace("T", "U") if rna else seq


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))
