"""The spacing scans' figures and page: ``interaction/conv<L>/spacing/<pair>.png`` and ``index.html``.

Drawn by ``combmotif spacing`` from the tables the stage returns
(:func:`combmotif.interaction.spacing_stage.run_spacing`); a figure newer than
its table is kept.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..io import write_text
from .html import copy_assets, esc, fmt_num, fmt_q, render_page, table, td
from .plots import plot_spacing

COLUMNS = ["pair", "A", "B", "source", "significant AB", "significant BA", "specific AB", "specific BA",
           "peak", "epsilon", "q", "class", "tree", "Jaccard (significant / specific)", "note"]


def _tree(row) -> dict | None:
    if not isinstance(row.get("tree_order"), str) or not row["tree_order"]:
        return None
    return {"order": row["tree_order"], "gap_min": int(row["tree_gap_min"]), "gap_max": int(row["tree_gap_max"])}


def _named(row, which: str) -> str:
    name, seq = str(row[f"name{which}"]), row[f"seq{which}"]
    return name if name == seq else f"{name} ({seq})"


def _gaps(row, order: str) -> str:
    lo, hi = row.get(f"sig_min_{order}"), row.get(f"sig_max_{order}")
    if lo is None or not np.isfinite(float(lo)):
        return "none"
    listed = str(row.get(f"sig_gaps_{order}") or "").replace(";", ", ")
    return f"{int(lo)}-{int(hi)} ({listed})"


def _cells(row: dict) -> list[str]:
    tree = _tree(row)
    scanned = not row.get("reason")
    return [td(f'<a href="{esc(row["pair"])}.csv">{esc(row["pair"])}</a>'),
            td(f"{esc(row['nameA'])}<br><code>{esc(row['seqA'])}</code>"),
            td(f"{esc(row['nameB'])}<br><code>{esc(row['seqB'])}</code>"),
            td(esc(row["source"])),
            td(esc(_gaps(row, "AB")) if scanned else ""), td(esc(_gaps(row, "BA")) if scanned else ""),
            td(esc(str(row.get("specific_gaps_AB") or "").replace(";", ", "))),
            td(esc(str(row.get("specific_gaps_BA") or "").replace(";", ", "))),
            td(f"{esc(row['peak_order'])} gap {fmt_num(row['peak_gap'])}" if scanned else ""),
            td(fmt_num(row.get("peak_epsilon")), sort=row.get("peak_epsilon")),
            td(fmt_q(row.get("peak_q"))), td(esc(row.get("interaction") or "")),
            td(f"{tree['order']} {tree['gap_min']}-{tree['gap_max']}" if tree else ""),
            td(f"{fmt_num(row.get('jaccard'))} / {fmt_num(row.get('jaccard_specific'))}" if tree else ""),
            td(esc(row.get("reason") or ""))]


def draw_spacing(folder: str | Path, summary: pd.DataFrame, scans: dict[str, pd.DataFrame], title: str) -> Path:
    """Draw each scanned pair's figure (unless newer than its table) and write ``index.html``.

    Parameters
    ----------
    folder : str or Path
        ``interaction/conv<L>/spacing``.
    summary : pandas.DataFrame
        ``summary.csv``.
    scans : dict
        Pair name -> scan table.
    title : str
        Page and figure title prefix, e.g. ``"mrl_predictor conv4"``.

    Returns
    -------
    Path
        The page.
    """
    folder = Path(folder)
    rows = summary.to_dict("records")
    figures = []
    for row in rows:
        name = row["pair"]
        if name not in scans:
            continue
        png, csv = folder / f"{name}.png", folder / f"{name}.csv"
        if not png.is_file() or not csv.is_file() or png.stat().st_mtime < csv.stat().st_mtime:
            plot_spacing(scans[name], png, f"{title}: {_named(row, 'A')} x {_named(row, 'B')}", _tree(row))
        figures.append(f'<figure><img src="{esc(name)}.png" alt="{esc(name)}"><figcaption>{esc(name)}'
                       "</figcaption></figure>")
    model_dir = folder.parents[2]
    copy_assets(model_dir / "assets")
    intro = ("<p>Each pair inserted into shuffled backgrounds at every gap and in both orders "
             "(AB: A 5' of B). epsilon = f(AB) - f(A) - f(B) + f(background), mean over backgrounds; "
             "a gap is significant at BH q &lt; alpha (Wilcoxon signed-rank over backgrounds, BH over the "
             "pair's gaps and orders) with |epsilon| above the pair test's effect floor; specific where "
             "epsilon differs, by the same test, from the pair's own level over all gaps and orders (syntax). "
             "Tree: the syntax rule's order and gap range; Jaccard: its overlap with the significant / "
             "specific gaps of that order.</p>")
    body = [intro, table(COLUMNS, [_cells(r) for r in rows], cls="sortable"), "\n".join(figures)]
    page = folder / "index.html"
    write_text(page, render_page(f"{title}: spacing scans", "\n".join(body), "../../../assets",
                                 crumbs=[(model_dir.name, "../../../index.html"), ("spacing", None)]))
    return page
