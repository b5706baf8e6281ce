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
for each layer, then :func:`combmotif.report.model_page.write_model_index`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import layout
from ..io import write_text
from ..motifs.formats import Motif
from ..motifs.match import MatchConfig, NeuronResult, _config, load_neuron, neuron_dirs, read_matches
from .fields import (
    _MAXACT_KEYS,
    _SAMPLE_KEYS,
    _contribution_text,
    _count_samples,
    _file_links,
    _first,
    _read_contribution,
    _read_summary,
    _segment_ranges,
    _sign_text,
    _sortnum,
    _tomtom_provenance,
)
from .html import copy_assets, esc, fmt_num, fmt_q, render_page, table, td
from .logos import canvas_tag, logo_spec, write_logo_pngs
from .neuron_page import write_neuron_page

__all__ = ["write_layer_report"]


# --------------------------------------------------------------------------- layer

def write_layer_report(layer_dir: str | Path, matches: pd.DataFrame | None = None,
                       targets: Sequence[Motif] | None = None,
                       cfg: MatchConfig | dict | None = None, *, model: str | None = None,
                       rna: bool = True, png: bool = True, svg: bool = True,
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
    svg : bool
        Also write vector logos of every cluster and matched segment
        (``neuron<k>/logos/*.svg``, :mod:`combmotif.report.logos`; milliseconds each).
    contribution_csv : path, optional
        Per-neuron contribution table (columns ``neuron``, optional ``layer``, and one of
        ``sign``/``contribution``/``effect``...); default: the motif_contribution stage's
        ``results/<model>/contribution/conv<L>/neuron_contribution.csv`` when it exists.

    Returns
    -------
    Path
        The layer's ``index.html``.
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
        stage = layout.model_stage_dir(layer_dir.parent.parent, "contribution")
        per_layer = stage / layer / "neuron_contribution.csv"
        contribution_csv = per_layer if per_layer.is_file() else stage / "neuron_contribution.csv"
    contrib = _read_contribution(contribution_csv, layer)
    knockout = _read_contribution(Path(contribution_csv).with_name("neuron_knockout.csv"), layer)

    rows, logos, provenance, n_sig = _neuron_rows(layer_dir, matches, by_name, cfg, model, rna, png,
                                                  svg, summary, contrib, knockout)
    body = _layer_body(layer_dir, rows, n_sig, provenance, cfg)
    html = render_page(f"{model} · {layer}", "\n".join(b for b in body if b), "assets",
                       crumbs=[(model, "../../index.html"), (layer, None)],
                       heading=f"{model} · {layer}: neurons", logos=logos)
    index = layer_dir / "index.html"
    write_text(index, html)
    return index


def _neuron_rows(layer_dir: Path, matches: pd.DataFrame, by_name: dict[str, Motif], cfg: MatchConfig,
                 model: str, rna: bool, png: bool, svg: bool, summary: dict, contrib: dict,
                 knockout: dict) -> tuple[list, dict, str, int]:
    """Write every neuron's page; return the index rows, their logos, the Tomtom provenance
    line and how many neurons have a significant match."""
    layer = layer_dir.name
    rows, logos, provenance = [], {}, ""
    n_sig = 0
    png_jobs: list[tuple] = []
    for k, path in neuron_dirs(layer_dir):
        nr = load_neuron(path)
        mine = matches[matches["neuron"] == k] if len(matches) else matches
        write_neuron_page(nr, mine, by_name, cfg, model=model, layer=layer, rna=rna, png=png,
                          svg=svg, png_jobs=png_jobs, contribution=_contribution_text(contrib.get(k),
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
    return rows, logos, provenance, n_sig


def _layer_body(layer_dir: Path, rows: list, n_sig: int, provenance: str, cfg: MatchConfig) -> list[str]:
    """The layer index's paragraphs and its sortable table of neurons."""
    headers = ["Neuron", ("Clusters", "num"), ("Samples", "num"), ("Indicator", "num"),
               ("Max activation", "num"), "Top match", ("q", "num"), "Logo of the top cluster",
               "Contribution", "Knockout"]
    files = _file_links(layer_dir, ["matches.csv", "summary.csv", "syntax_rules.csv"])
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
        "over all segments of the neuron"
        + ("" if cfg.given_strand else " (+: as written, &minus;: its reverse complement matches)")
        + ". Contribution: do sequences that activate the neuron get "
        "higher (positive) or lower (negative) model outputs than the others (an association); "
        "Knockout: does shuffling the window that drives it lower (positive) or raise "
        "(negative) the output of those sequences (causal). Both are filled in once the "
        "motif_contribution stage has run before the pages are written.</p>",
    ]
    return body


def _strand(orientation: Any) -> str:
    """A match's orientation as shown: ``+``, ``&minus;`` or ``?`` (not recorded)."""
    return {"+": "+", "-": "&minus;"}.get(str(orientation), "?")


def _index_row(nr: NeuronResult, matches: pd.DataFrame, summary: dict, sign: Any,
               cfg: MatchConfig, rna: bool, knockout: Any = None) -> tuple[list[str], dict | None]:
    k = nr.neuron
    samples = _first(summary, _SAMPLE_KEYS)
    if samples is None:
        sizes = [_first(c, ("size",)) for c in nr.clusters]
        samples = sum(sizes) if sizes and all(isinstance(s, (int, float)) for s in sizes) else None
    if samples is None:
        samples = _count_samples(nr.path / "samples.npz")
    indicator = _first(summary, ("indicator",))
    if indicator is None:
        vals = [v for c in nr.clusters
                if isinstance(v := _first(c, ("ratio",)), (int, float))]
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
        # Both strands compared (DNA): say on which one the top match lies.
        strand = "" if cfg.given_strand else f' <span class="small">({_strand(best.get("orientation"))})</span>'
        top_cell = td(f'<span class="{cls}">{esc(best["target"])}</span>{strand}{src}', sort=best["target"])
        q_cell = td(fmt_q(best["q"]), sort=float(best["q"]), cls="num")
        top_cluster = int(best["cluster"]) if int(best["cluster"]) >= 0 else None
    if top_cluster is None and nr.ppms:
        chosen = _first(summary, ("best_cluster",))
        sizes = [_first(c, ("size",)) or 0 for c in nr.clusters]
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


