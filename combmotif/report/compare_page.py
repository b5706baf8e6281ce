"""The method comparison's page and figures (``results/<model>/compare/``)."""

from __future__ import annotations

import itertools
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..baselines.common import LABELS
from ..io import atomic_path, write_text
from .html import copy_assets, esc, fmt_num, fmt_q, render_page, table, td


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110)


def _save_png(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": None})
    return path


def box_plot(best: pd.DataFrame, methods: Sequence[str], path: Path, significance: float) -> Path:
    """-log10 q of each method's best match per database motif group (box + points).

    Parameters
    ----------
    best : pandas.DataFrame
        :func:`combmotif.baselines.compare.best_per_group` (``method``, ``neglog10_q``).
    methods : sequence of str
        The methods, in plotting order.
    path : Path
        The PNG to write (atomically).
    significance : float
        q drawn as a dashed line.

    Returns
    -------
    Path
        ``path``.
    """
    fig = _figure(1.5 + 1.6 * len(methods), 3.6)
    ax = fig.subplots()
    data = [best.loc[best["method"] == m, "neglog10_q"].to_numpy(float) for m in methods]
    pos = np.arange(1, len(methods) + 1)
    nonempty = [i for i, d in enumerate(data) if len(d)]
    if nonempty:
        ax.boxplot([data[i] for i in nonempty], positions=pos[nonempty], widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)   # fixed jitter: same figure every run
    for i, d in enumerate(data):
        ax.scatter(pos[i] + rng.uniform(-0.15, 0.15, len(d)), d, s=12, alpha=0.6, color="#1f5fa8", zorder=3)
    ax.axhline(-math.log10(significance), color="0.6", ls="--", lw=0.8)
    ax.set_ylim(bottom=0)
    ax.set_xticks(pos)
    ax.set_xticklabels([f"{LABELS[m]}\n(n={len(d)})" for m, d in zip(methods, data)], fontsize=8)
    ax.set_ylabel("-log10 q of best match")
    ax.set_title("Best Tomtom match per database motif (group) found", fontsize=9, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _save_png(fig, path)


def _exclusive_combinations(sets: dict[str, set], methods: Sequence[str]) -> list[tuple[tuple, int]]:
    """(methods, count) of groups found by exactly those methods; largest first."""
    combos = []
    for r in range(len(methods), 0, -1):
        for combo in itertools.combinations(methods, r):
            inside = set.intersection(*(sets[m] for m in combo))
            outside = set().union(*(sets[m] for m in methods if m not in combo))
            n = len(inside - outside)
            if n:
                combos.append((combo, n))
    combos.sort(key=lambda c: (-c[1], -len(c[0])))
    return combos


def upset_plot(best: pd.DataFrame, methods: Sequence[str], path: Path) -> Path:
    """UpSet plot: database motif groups found by exactly each combination of methods.

    Parameters
    ----------
    best : pandas.DataFrame
        :func:`combmotif.baselines.compare.best_per_group` (``method``, ``group``).
    methods : sequence of str
        The methods, in plotting order.
    path : Path
        The PNG to write (atomically).

    Returns
    -------
    Path
        ``path``.
    """
    sets = {m: set(best.loc[best["method"] == m, "group"].astype(int)) for m in methods}
    combos = _exclusive_combinations(sets, methods)
    fig = _figure(2.5 + 0.5 * max(len(combos), 3), 1.6 + 0.35 * len(methods) + 1.6)
    gs = fig.add_gridspec(2, 2, height_ratios=[2.2, 0.35 * len(methods) + 0.3], width_ratios=[1, 4],
                          hspace=0.05, wspace=0.05)
    ax_bar = fig.add_subplot(gs[0, 1])
    ax_dot = fig.add_subplot(gs[1, 1], sharex=ax_bar)
    ax_size = fig.add_subplot(gs[1, 0])
    x = np.arange(len(combos))
    if combos:
        ax_bar.bar(x, [n for _, n in combos], color="#444", width=0.6)
        for xi, (_, n) in zip(x, combos):
            ax_bar.text(xi, n, str(n), ha="center", va="bottom", fontsize=8)
    else:
        ax_bar.text(0.5, 0.5, "no database motif matched", transform=ax_bar.transAxes, ha="center")
    ax_bar.set_ylabel("motif groups")
    ax_bar.tick_params(labelbottom=False)
    for side in ("top", "right"):
        ax_bar.spines[side].set_visible(False)
    y = np.arange(len(methods))[::-1]
    for xi, (combo, _) in zip(x, combos):
        on = [y[methods.index(m)] for m in combo]
        ax_dot.scatter(np.full(len(y), xi), y, color="0.85", s=40)
        ax_dot.scatter(np.full(len(on), xi), on, color="#222", s=40)
        if len(on) > 1:
            ax_dot.plot([xi, xi], [min(on), max(on)], color="#222", lw=1.5)
    ax_dot.set_yticks(y)
    ax_dot.set_yticklabels([LABELS[m] for m in methods], fontsize=8)
    ax_dot.set_xticks([])
    ax_dot.set_xlim(-0.6, max(len(combos), 1) - 0.4)
    ax_dot.set_ylim(-0.6, len(methods) - 0.4)
    for side in ("top", "right", "bottom", "left"):
        ax_dot.spines[side].set_visible(False)
    ax_dot.yaxis.tick_right()
    ax_size.barh(y, [len(sets[m]) for m in methods], color="#1f5fa8", height=0.5)
    ax_size.invert_xaxis()
    ax_size.set_ylim(-0.6, len(methods) - 0.4)
    ax_size.set_yticks([])
    ax_size.set_xlabel("found", fontsize=8)
    for side in ("top", "left"):
        ax_size.spines[side].set_visible(False)
    return _save_png(fig, path)


# --------------------------------------------------------------------------- page


def _num_table(df: pd.DataFrame, cols: Sequence[str], labels: Sequence[str] | None = None,
              qcols: Sequence[str] = ()) -> str:
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            if c == "method":
                cells.append(td(esc(LABELS.get(v, v)), v))
            elif c in qcols:
                cells.append(td(fmt_q(v), v if pd.notna(v) else "", "num"))
            elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                cells.append(td(fmt_num(float(v) if pd.notna(v) else None), v if pd.notna(v) else "",
                                "num"))
            else:
                cells.append(td(esc(fmt_num(v) if isinstance(v, bool) else ("" if pd.isna(v) else v))))
        rows.append(cells)
    return table(labels or cols, rows, cls="sortable")


def _recovery_section(rec: pd.DataFrame | None, cfg, methods: Sequence[str]) -> list[str]:
    """The planted-motif table (synthetic sets only)."""
    parts: list[str] = []
    if rec is None or not len(rec):
        return parts
    parts.append("<h2>Planted motifs recovered</h2>")
    parts.append(f'<p class="small muted">Recovered: a segment matches the planted motif (or a '
                 f'database motif merged with it) at q &lt; {cfg.recovery_q:g}, or a segment\'s '
                 f'consensus has at least {100 * cfg.min_identity:g} % identity to it.</p>')
    rows = []
    for motif, sub in rec.groupby("motif", sort=False):
        cells = [td(esc(motif)), td(f'<span class="seq">{esc(sub["consensus"].iloc[0])}</span>')]
        for m in methods:
            r = sub[sub["method"] == m]
            if not len(r):
                cells.append(td(""))
                continue
            r = r.iloc[0]
            text = ("&#10003; " if r["recovered"] else "&ndash; ") + esc(r["by"])
            detail = []
            if pd.notna(r["best_q"]):
                detail.append(f"q={fmt_q(r['best_q'])} {esc(r['q_hit'])}")
            detail.append(f"id={r['identity']:.2f} {esc(r['identity_hit'])}")
            cells.append(td(f'<span class="{"sig" if r["recovered"] else "nosig"}">{text}</span>'
                            f'<br><span class="small muted">{"<br>".join(detail)}</span>',
                            int(r["recovered"])))
        rows.append(cells)
    total = [td("<b>recovered</b>"), td("")] + [
        td(f"<b>{int(rec.loc[rec['method'] == m, 'recovered'].sum())} / "
           f"{rec['motif'].nunique()}</b>", cls="num") for m in methods]
    rows.append(total)
    parts.append(table(["motif", "consensus", *[LABELS[m] for m in methods]], rows))
    return parts


def _match_sections(cfg, tables: dict[str, pd.DataFrame], figures: dict[str, Path],
                    methods: Sequence[str]) -> list[str]:
    """Counts, best-match strength, overlap and run time."""
    parts: list[str] = []
    parts.append(f"<h2>Distinct database motifs matched (q &lt; {cfg.significance:g})</h2>")
    counts = tables["counts"]
    parts.append(_num_table(counts, list(counts.columns)))

    parts.append("<h2>Strength of the best matches</h2>")
    parts.append(f'<p><img src="{figures["box"].name}" alt="box plot of -log10 q"></p>')
    tests = tables["tests"]
    if len(tests):
        parts.append('<p class="small muted">Wilcoxon signed-rank test of NeuronMotif against each '
                     'baseline on -log10 q of the best match per database motif group; "both": groups '
                     'found by the two methods, "all methods": groups every method found; q: '
                     'Benjamini-Hochberg over the baselines within a set; fewer than 5 pairs: no test.</p>')
        parts.append(_num_table(tests, ["method", "set", "n", "median_reference", "median_method",
                                        "median_difference", "statistic", "p", "q"],
                                ["baseline", "set", "n", "median NeuronMotif", "median baseline",
                                 "median difference", "W", "p", "q"], qcols=("p", "q")))

    parts.append("<h2>Overlap of matched database motifs</h2>")
    parts.append(f'<p><img src="{figures["upset"].name}" alt="UpSet plot of matched motifs"></p>')
    ov = tables["overlap"]
    if len(ov):
        parts.append(_num_table(ov, ["representative", "n_methods", *[f"q_{m}" for m in methods]],
                                ["database motif", "methods", *[LABELS[m] for m in methods]],
                                qcols=[f"q_{m}" for m in methods]))

    parts.append("<h2>Run time</h2>")
    rt = tables["runtime"]
    parts.append('<p class="small muted">Wall-clock seconds of the run that computed each layer '
                 '(empty: computed before timing was recorded, or not run). Side-by-side timings of one '
                 'layer in one run: <code>python bench/method_runtime.py</code>.</p>')
    parts.append(_num_table(rt, ["method", "layer", "units", "computed", "seconds", "seconds_per_unit",
                                 "device"]))
    return parts


def _files_section(comp, methods: Sequence[str], out: Path) -> list[str]:
    """Links to every method's folder and the tables."""
    parts: list[str] = []
    parts.append("<h2>Files</h2><ul>")
    for m in methods:
        d = comp.method_dir(m)
        rel = os.path.relpath(d, out)
        parts.append(f'<li>{esc(LABELS[m])}: <code>{esc(rel)}/</code></li>')
    parts.append("</ul><p class=\"small\">Tables: " + ", ".join(
        f'<a href="{n}">{n}</a>' for n in ("counts.csv", "best_q.csv", "tests.csv", "overlap.csv",
                                           "recovery.csv", "runtime.csv", "matches.csv", "segments.csv")
        if (out / n).is_file()) + "</p>")
    return parts


def write_page(comp, tables: dict[str, pd.DataFrame], figures: dict[str, Path],
               db_summary: str) -> Path:
    """Write ``index.html`` of the comparison: recovery, counts, tests, overlap, run time, files.

    Parameters
    ----------
    comp : combmotif.baselines.compare.Comparison
        The comparison (config, names, folders).
    tables : dict of str to pandas.DataFrame
        :func:`compare`'s tables.
    figures : dict of str to Path
        ``box`` and ``upset`` PNGs, next to the page.
    db_summary : str
        The database, as the page names it.

    Returns
    -------
    Path
        The page.
    """
    cfg = comp.cfg
    methods = cfg.methods.enabled()
    out = comp.out
    copy_assets(out / "assets")
    parts = [f'<p class="lead">Model <b>{esc(comp.name)}</b>, layers '
             f'{esc(", ".join(f"conv{L}" for L in cfg.layers))}, neurons <code>{esc(cfg.neurons)}</code>; '
             f'database {esc(db_summary)}. Every method\'s PPMs are cut into motif segments by the same '
             f'information rule and matched by the same Tomtom settings '
             f'(backend {esc(cfg.match.tomtom_backend)}, segments below {cfg.match.min_query_ic:g} bits '
             f'not compared).</p>']

    parts += _recovery_section(tables.get("recovery"), cfg, methods)
    parts += _match_sections(cfg, tables, figures, methods)
    parts += _files_section(comp, methods, out)
    page = render_page(f"{comp.name}: NeuronMotif and baselines", "\n".join(parts), "assets",
                       crumbs=[(comp.name, "../index.html" if (comp.model_dir / "index.html").is_file() else None),
                               ("method comparison", None)])
    path = out / "index.html"
    write_text(path, page)
    return path


def write_comparison_report(comp, tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The check against planted truth, the figures and the page of a built comparison.

    Parameters
    ----------
    comp : combmotif.baselines.compare.Comparison
        The comparison, after :func:`combmotif.baselines.compare.build_comparison`.
    tables : dict of str to pandas.DataFrame
        Its tables.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``tables``, with ``recovery`` added when the config names a truth.
    """
    from ..baselines.compare import write_table
    from ..validation.discovery import recovery_long

    cfg, out = comp.cfg, comp.out
    methods = cfg.methods.enabled()
    if cfg.truth:
        tables["recovery"] = recovery_long(cfg.truth, tables["segments"], tables["matches"], comp.groups, methods,
                                           cfg.recovery_q, cfg.min_identity,
                                           both_strands=not cfg.match.given_strand)
        write_table(out / "recovery.csv", tables["recovery"])
    best = tables["best_q"]
    figures = {"box": box_plot(best, methods, out / "best_q.png", cfg.significance),
               "upset": upset_plot(best, methods, out / "overlap.png")}
    write_page(comp, tables, figures, comp.db_summary)
    return tables


def compare(comp, records: Sequence[dict] = ()) -> dict[str, pd.DataFrame]:
    """Match every method's segments, build the tables and figures, write the page.

    Parameters
    ----------
    comp : combmotif.baselines.compare.Comparison
        The comparison (methods already run).
    records : sequence of dict
        This run's timings.

    Returns
    -------
    dict of str to pandas.DataFrame
        Every table written (segments, matches, best_q, counts, tests, overlap, runtime[, recovery]).
    """
    from ..baselines.compare import build_comparison

    return write_comparison_report(comp, build_comparison(comp, records))
