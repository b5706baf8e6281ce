"""An interaction layer's page: ``results/<model>/interaction/conv<L>/index.html``.

The pairs tested over whole sequences (``sequences/motif_pair_stats.csv``) and in
the neurons' fragments (``motif_pair_stats.csv``), the candidates
(``candidates.csv``), and, above the tables, a plain note for every pair whose
destruction fell back to random bases because the dinucleotide shuffle could not
destroy a motif (``fallbacks`` / ``fallback_share``): a motif such as ``ACACACA``
has one dinucleotide-preserving order, and its "destroyed" variants are then
random bases, which the reader must know.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..io import write_text
from .html import copy_assets, esc, fmt_num, fmt_q, render_page, table, td

NOTE_STYLE = "border:1px solid #e0a800;background:#fff8e1;border-radius:6px;padding:4px 14px;margin:1em 0"
PAIR_HEADERS = ["Pair", ("Neuron", "num"), "Class", ("epsilon", "num"), ("95% CI", "num"),
                ("q", "num"), ("n", "num"), ("Fallback", "num"), "Reason"]
PAIR_TABLES = (("sequences/motif_pair_stats.csv", "Pairs over whole sequences",
                "every candidate pair, tested over every scanned sequence that holds both motifs"),
               ("motif_pair_stats.csv", "Pairs in the neurons' fragments",
                "each neuron's labelled pairs, tested in the windows that drive it"))


def fallback_notes(df: pd.DataFrame) -> list[str]:
    """One sentence per pair whose destroyed spans fell back to random bases.

    Parameters
    ----------
    df : pandas.DataFrame
        A classified pair table (``fallbacks``, ``replicates``, ``n``, names).

    Returns
    -------
    list of str
        "the shuffle could not destroy A or B (neuron k): X of Y draws fell back to random bases",
        the largest share first.
    """
    out = []
    if not len(df) or "fallbacks" not in df.columns:
        return out
    fell = pd.to_numeric(df["fallbacks"], errors="coerce").fillna(0).astype(int)
    spans = 2 * pd.to_numeric(df["replicates"], errors="coerce").fillna(0) * \
        pd.to_numeric(df["n"], errors="coerce").fillna(0)
    share = (fell / spans.where(spans > 0, 1)).to_numpy()
    hit = np.flatnonzero(fell.to_numpy() > 0)
    for i in hit[np.argsort(-share[hit], kind="stable")]:   # the worst first
        r = df.iloc[i]
        where = f" (neuron {int(r['neuron'])})" if int(r.get("neuron", -1)) >= 0 else ""
        out.append(f"the shuffle could not destroy {r['motifA_name']} or {r['motifB_name']}{where}: "
                   f"{int(fell.iloc[i])} of {int(spans.iloc[i])} draws fell back to random bases")
    return out


def pair_rows(df: pd.DataFrame) -> list[list[str]]:
    """Table cells of a pair table: pair, neuron, class, epsilon, CI, q, n, fallback share, reason.

    Parameters
    ----------
    df : pandas.DataFrame
        A classified pair table.

    Returns
    -------
    list of list of str
        Cells for :func:`~combmotif.report.html.table` with :data:`PAIR_HEADERS`.
    """
    rows = []
    for _, r in df.iterrows():
        share = float(r.get("fallback_share", 0) or 0)
        neuron = int(r.get("neuron", -1))
        rows.append([
            td(f"{esc(r['motifA_name'])} × {esc(r['motifB_name'])}<br><span class='small muted'>"
               f"{esc(r['motifA'])} × {esc(r['motifB'])}</span>", sort=f"{r['motifA_name']} {r['motifB_name']}"),
            td(str(neuron) if neuron >= 0 else "all", sort=neuron, cls="num"),
            td(esc(r["interaction"]), sort=r["interaction"]),
            td(fmt_num(r["epsilon"]), sort=_num(r["epsilon"]), cls="num"),
            td(f"[{fmt_num(r['ci_low'])}, {fmt_num(r['ci_high'])}]", cls="num"),
            td(fmt_q(_num(r["q"])), sort=_num(r["q"]), cls="num"),
            td(str(int(_num(r["n"]) if np.isfinite(_num(r["n"])) else 0)), sort=_num(r["n"]), cls="num"),
            td(f"<b>{share:.0%}</b>" if share > 0 else "0", sort=share, cls="num"),
            td(esc(r.get("reason", "")), cls="small")])
    return rows


def _num(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def read_pairs(path: str | Path) -> pd.DataFrame:
    """A pair table with pattern and name columns kept as text.

    Parameters
    ----------
    path : str or Path
        ``motif_pair_stats.csv``.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"motifA": str, "motifB": str, "motifA_name": str, "motifB_name": str,
                              "reason": str, "interaction": str})


def write_interaction_page(layer_dir: str | Path, model: str | None = None) -> Path | None:
    """Write ``interaction/conv<L>/index.html`` from the layer's pair tables.

    Parameters
    ----------
    layer_dir : str or Path
        ``results/<model>/interaction/conv<L>``.
    model : str, optional
        Model name shown (default: the folder two levels up).

    Returns
    -------
    Path or None
        The page; None when the layer has no pair table yet.
    """
    layer_dir = Path(layer_dir)
    found = [(layer_dir / rel, title, about) for rel, title, about in PAIR_TABLES if (layer_dir / rel).is_file()]
    if not found:
        return None
    model = model or layer_dir.parent.parent.name
    body = [f'<p class="lead">Which motif pairs of {esc(layer_dir.name)} act together in '
            f"<b>{esc(model)}</b>: epsilon = f(AB) - f(A only) - f(B only) + f(neither), "
            "BH q over the table.</p>"]
    if (layer_dir / "candidates.csv").is_file():
        body.append('<p><a href="candidates.csv">candidates.csv</a>: the candidate family pairs '
                    "(syntax rules, co-occurrence in the neurons' fragments, the families that move the "
                    "output most), how many sequences hold both, and each one's call over whole sequences. "
                    "Families <code>T1, T2, ...</code> are TF-MoDISco patterns of the output that no "
                    'discovery family stands for (<a href="../attribution/patterns.csv">'
                    "attribution/patterns.csv</a>).</p>")
    if (layer_dir / "family_effects.csv").is_file():
        body.append(_effects_section(layer_dir / "family_effects.csv"))
    for path, title, about in found:
        df = read_pairs(path)
        body.append(f"<h2>{esc(title)}</h2>")
        rel = path.relative_to(layer_dir).as_posix()
        drawn = path.parent / "interaction_map.svg"
        link = (f' &middot; <a href="{esc(drawn.relative_to(layer_dir).as_posix())}">'
                "the pairs as a motif x motif map</a>" if drawn.is_file() else "")
        body.append(f'<p class="small muted">{esc(about)}. <a href="{esc(rel)}">{esc(rel)}</a>{link}</p>')
        notes = fallback_notes(df)
        if notes:
            body.append(f'<div class="fallback" style="{NOTE_STYLE}"><p><b>Destruction fell back to random bases</b> '
                        "(the dinucleotide shuffle could not destroy the motif):</p><ul>"
                        + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul></div>")
        body.append(table(PAIR_HEADERS, pair_rows(df), cls="sortable") if len(df)
                    else '<p class="muted">No pair.</p>')
    copy_assets(layer_dir.parent.parent / "assets")
    html = render_page(f"{model} {layer_dir.name}: motif pairs", "\n".join(body), "../../assets",
                       crumbs=[(model, "../../index.html"), (f"interaction {layer_dir.name}", None)],
                       heading=f"{model} {layer_dir.name}: motif pairs")
    out = layer_dir / "index.html"
    write_text(out, html)
    return out


def _effects_section(path: Path) -> str:
    """The families' whole-sequence effects (``family_effects.csv``), strongest first."""
    df = pd.read_csv(path, keep_default_na=False)
    df = df.assign(_abs=-pd.to_numeric(df["effect"], errors="coerce").abs()).sort_values("_abs", kind="stable")
    rows = [[td(esc(r["name"]) + (" <span class='small muted'>(TF-MoDISco)</span>"
                                  if str(r["family"]).startswith("T") else ""), sort=r["name"]),
             td(f"<code>{esc(r['pattern'])}</code>"),
             td(fmt_num(r["effect"]), sort=_num(r["effect"]), cls="num"),
             td(f"[{fmt_num(r['ci_low'])}, {fmt_num(r['ci_high'])}]", cls="num"),
             td(fmt_q(_num(r["q"])), sort=_num(r["q"]), cls="num"),
             td(str(r["n"]), sort=_num(r["n"]), cls="num")] for _, r in df.iterrows()]
    return ("<h2>Families by their effect over whole sequences</h2>"
            '<p class="small muted">Mean change of the prediction when a family\'s first site is '
            "destroyed (negative: the motif raises the output), with a bootstrap 95 % interval; "
            "Wilcoxon signed-rank over sequences, BH over the families. The pairs of the "
            'strongest are candidates. <a href="family_effects.csv">family_effects.csv</a></p>'
            + table(["Family", "Pattern", ("Effect", "num"), ("95% CI", "num"), ("q", "num"), ("n", "num")],
                    rows, cls="sortable"))

