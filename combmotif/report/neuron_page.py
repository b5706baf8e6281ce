"""A neuron's page: ``results/<model>/discovery/conv<L>/neuron<k>/page.html`` (every
cluster: logo, numbers, segments and their matches)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..io import write_text
from ..motifs.formats import Motif
from ..motifs.match import MatchConfig, NeuronResult, cluster_name
from ..motifs.tomtom import informative_enough
from ..neuronmotif.syntax_layer import read_syntax
from .fields import _cluster_fields, _file_links, _fmt_field, _rna, _segment_ranges, _slug
from .html import esc, fmt_q, render_page, table, td
from .logos import alignment_specs, alignment_svg, canvas_tag, logo_spec, write_logo_pngs, write_logo_svg
from .syntax_svg import rule_scans, syntax_section


def write_neuron_page(nr: NeuronResult, matches: pd.DataFrame, targets: dict[str, Motif],
                      cfg: MatchConfig, *, model: str, layer: str, rna: bool = True,
                      png: bool = True, svg: bool = True, png_jobs: list | None = None,
                      contribution: str = "") -> Path:
    """Write ``neuron<k>/page.html`` (and its PNG logos); the layer's ``assets/`` must exist.

    With ``png_jobs`` the PNGs that need drawing are appended to it (to be drawn in
    parallel by the caller) instead of being drawn here.

    Parameters
    ----------
    nr : NeuronResult
        The neuron's unit as read back (clusters, PPMs, segments).
    matches : pandas.DataFrame
        The layer's Tomtom matches.
    targets : dict of str to Motif
        The database, for target logos and citations.
    cfg : MatchConfig
        The matching settings the page explains.
    model : str
        Model name for the title.
    layer : str
        Layer folder name (``conv<L>``).
    rna : bool
        Show U instead of T.
    png : bool
        Also draw logomaker PNGs.
    svg : bool
        Also write vector logos: every cluster (``logos/cluster<i>.svg``) and every matched
        segment above its top match (``logos/<segment>.svg``).
    png_jobs : list, optional
        Collects the PNGs to draw instead of drawing them here.
    contribution : str
        HTML line with the neuron's contribution sign (empty: none).

    Returns
    -------
    Path
        The written ``page.html``.
    """
    own_jobs = png_jobs is None
    png_jobs = [] if own_jobs else png_jobs
    k = nr.neuron
    logos: dict[str, dict] = {}
    sections = []
    for i, (cluster, ppm) in enumerate(zip(nr.clusters, nr.ppms)):
        sections.append(_cluster_section(nr, i, cluster, ppm, matches, targets, cfg, rna, png,
                                         svg, logos, png_jobs))
    loose = [s for s in nr.segments if s.cluster is None]
    if loose:
        sections.append("<h2>Segments not placed in a cluster</h2>")
        sections.append(_segment_table(nr, loose, matches, targets, cfg, rna, logos, "u", svg))

    best = ""
    if len(matches):
        b = matches.loc[matches["q"].idxmin()]
        cls = "sig" if b["q"] < cfg.significance else "nosig"
        strand = "" if cfg.given_strand else f", strand {esc(b.get('orientation', '?'))}"
        best = (f' Best database match: <span class="{cls}">{esc(b["target"])}</span> '
                f"(q = {fmt_q(b['q'])}, segment {esc(b['segment'])}{strand}).")
    files = _file_links(nr.path, ["tomtom.tsv", "clusters.json", "ppms.meme", "segments.meme",
                                  "samples.npz", "syntax.json"])
    body = [f'<p class="lead">{len(nr.ppms)} clusters, {len(nr.segments)} motif segments.'
            f"{best}</p>",
            f'<p class="contribution">{contribution}</p>' if contribution else "",
            f'<p class="small">Files: {files}</p>' if files else "",
            _explain(cfg), syntax_section(read_syntax(nr.path), _layer_number(layer), rna,
                                          rule_scans(nr.path.parent))] + sections
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
                     svg: bool, logos: dict, png_jobs: list) -> str:
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
    svg_html = ""
    if svg:
        write_logo_svg(nr.path / "logos" / f"cluster{i}.svg", ppm.ppm, rna, ranges, title=f"cluster {name}")
        svg_html = (f'<p class="small"><a href="logos/cluster{i}.svg" download>vector logo (SVG)</a>'
                    "</p>")
    segs = [s for s in nr.segments if s.cluster == i]
    seg_html = (_segment_table(nr, segs, matches, targets, cfg, rna, logos, key, svg) if segs else
                '<p class="muted small">No motif segment was cut from this cluster.</p>')
    return (f'<section class="cluster" id="cluster-{_slug(name)}">\n'
            f"<h3>Cluster {esc(name)}{sub}</h3>\n"
            f'<div class="cluster-top"><div>{canvas_tag(key, len(ppm), title=f"cluster {name}")}'
            f"{png_html}{svg_html}</div>\n"
            f'{table([], props, cls="props")}</div>\n'
            f"{seg_html}\n</section>")


def _segment_table(nr: NeuronResult, segs: list, matches: pd.DataFrame,
                   targets: dict[str, Motif], cfg: MatchConfig, rna: bool, logos: dict,
                   key: str, svg: bool = False) -> str:
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
                label = f"{top['target']}" + (" (rev. compl.)" if top["orientation"] == "-" else "")
                qs, ts, width = alignment_specs(seg.motif.ppm, tppm, int(top["offset"]), rna, "segment", label)
                logos[f"{key}s{j}q"], logos[f"{key}s{j}t"] = qs, ts
                align = (canvas_tag(f"{key}s{j}q", width, height=70, col_width=14) + "<br>"
                         + canvas_tag(f"{key}s{j}t", width, height=70, col_width=14))
                if svg:
                    write_text(nr.path / "logos" / f"{_slug(seg.name)}.svg",
                               alignment_svg(seg.motif.ppm, tppm, int(top["offset"]), rna, seg.name, label))
                    align += f'<br><a class="small" href="logos/{_slug(seg.name)}.svg" download>SVG</a>'
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
            f"(Euclidean distance, {cfg.strand_text()}); "
            f"<span class=\"sig\">green</span>: q &lt; {cfg.significance:g}. Offset: the "
            "segment's first position lies at that position of the database motif "
            "(MEME's convention)." + ("" if cfg.given_strand else
            " Strand +: the segment matches the database motif as written; strand &minus;: it "
            "matches its reverse complement, and the motif is drawn reverse-complemented (its "
            "offset counts on that strand) so that it lines up with the segment.") + "</p>")


def _layer_number(layer: str) -> int:
    """``conv<L>`` -> L (0 when the folder is named otherwise)."""
    digits = layer[4:] if layer.startswith("conv") else ""
    return int(digits) if digits.isdigit() else 0
