"""A model's front page: ``results/<model>/index.html`` (layers, stages, distinct
database motifs found)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import layout
from ..io import write_text
from ..motifs.collect import layer_dirs
from ..motifs.match import neuron_dirs, read_matches
from .fields import _file_links, _slug
from .html import copy_assets, esc, fmt_q, render_page, table, td


def write_model_index(model_dir: str | Path, title: str | None = None,
                      significance: float = 0.05) -> Path:
    """Write ``results/<model>/index.html``: links to every layer and stage, and the
    distinct database motifs found (``discovery/collected_motifs.csv``) when collected.

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.
    title : str, optional
        Model name shown (default: the folder's name).
    significance : float
        q-value under which a neuron counts as matched.

    Returns
    -------
    Path
        The written ``index.html``.
    """
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
    body.append(_families_section(model_dir))
    for stage, label in (("contribution", "Motif contribution"),
                         ("interaction", "Motif interaction")):
        body.append(f"<h2>{label}</h2>")
        if stage == "interaction":
            body.append(_pairs_section(model_dir))
        folder = layout.model_stage_dir(model_dir, stage)
        if (folder / "index.html").is_file():
            body.append(f'<p><a href="{stage}/index.html">{label} results</a></p>')
        elif folder.is_dir():
            # Per-layer tables and plots first (what a reader opens), then the stage's own files.
            items = []
            for sub in sorted((p for p in folder.iterdir() if p.is_dir()),
                              key=lambda p: (len(p.name), p.name)):
                names = sorted(p.name for p in sub.iterdir()
                               if p.is_file() and p.suffix in (".csv", ".png", ".yaml", ".html"))
                links = _file_links(sub, names, prefix=f"{stage}/{sub.name}/")
                if links:
                    items.append(f"<li>{esc(sub.name)}: {links}</li>")
            top = _file_links(folder, sorted(p.name for p in folder.iterdir() if p.is_file()),
                              prefix=f"{stage}/")
            if top:
                items.append(f"<li>{top}</li>")
            body.append(f"<ul>{''.join(items)}</ul>" if items else '<p class="muted">Not run yet.</p>')
        else:
            body.append('<p class="muted">Not run yet.</p>')
    if (layout.model_stage_dir(model_dir, "compare") / "index.html").is_file():
        body.append("<h2>Method comparison</h2>")
        body.append('<p><a href="compare/index.html">NeuronMotif against max-activation seqlets, '
                    "TF-MoDISco and class optimization</a></p>")
    body.append(_comparisons_section(model_dir))
    html = render_page(f"{name}: CombMotif results", "\n".join(b for b in body if b), "assets",
                       crumbs=[(name, None)], heading=f"{name}: CombMotif results")
    index = model_dir / "index.html"
    write_text(index, html)
    return index


def _collected_section(model_dir: Path) -> str:
    path = layout.collected_motifs(model_dir)
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


def _pairs_section(model_dir: Path) -> str:
    """Per interaction layer: the pairs that interact, and every pair whose motif the
    dinucleotide shuffle could not destroy (so its "destroyed" variants were random bases)."""
    from .interaction_page import NOTE_STYLE, PAIR_HEADERS, fallback_notes, pair_rows, read_pairs

    out = []
    folder = layout.model_stage_dir(model_dir, "interaction")
    for path in sorted(folder.glob("conv*/sequences/motif_pair_stats.csv")) + sorted(
            folder.glob("conv*/motif_pair_stats.csv")):
        layer = path.relative_to(folder).parts[0]
        scope = "over whole sequences" if path.parent.name == "sequences" else "in the neurons' fragments"
        df = read_pairs(path)
        counts = df["interaction"].value_counts() if len(df) else pd.Series(dtype=int)
        page = folder / layer / "index.html"
        link = f'<a href="interaction/{layer}/index.html">{esc(layer)}</a>' if page.is_file() else esc(layer)
        out.append(f"<h3>{link}: {len(df)} pairs {esc(scope)}</h3><p>" + ", ".join(
            f"{int(counts.get(k, 0))} {k}" for k in ("synergistic", "antagonistic", "additive", "untested"))
            + "</p>")
        notes = fallback_notes(df)
        if notes:
            shown = "".join(f"<li>{esc(n)}</li>" for n in notes[:8])
            more = f"<li>... and {len(notes) - 8} more (see the layer page)</li>" if len(notes) > 8 else ""
            out.append(f'<div class="fallback" style="{NOTE_STYLE}"><p><b>Destruction fell back to random '
                       f"bases</b> in {len(notes)} of {len(df)} pairs:</p><ul>{shown}{more}</ul></div>")
        hits = df[df["interaction"].isin(["synergistic", "antagonistic"])] if len(df) else df
        if len(hits):
            out.append(table(PAIR_HEADERS, pair_rows(hits), cls="sortable"))
    return "\n".join(out)


def _families_section(model_dir: Path) -> str:
    """The model's motif families (:mod:`combmotif.motifs.families`), those usable as labels."""
    path = layout.model_stage_dir(model_dir, "discovery") / "families.csv"
    if not path.is_file():
        return ""
    df = pd.read_csv(path, keep_default_na=False)
    use = df[df["usable"].astype(str) == "True"]
    out = ["<h3>Motif families</h3>",
           f'<p class="small muted">{len(df)} families of near-duplicate segments over all layers '
           f"({len(use)} usable as pair labels; a name is a database motif only where the "
           'representative matched it at q &lt; 0.05). <a href="discovery/families.csv">families.csv</a>, '
           '<a href="discovery/families.meme">families.meme</a></p>']
    rows = [[td(esc(r["family"]), sort=int(str(r["family"]).lstrip("F") or 0)), td(esc(r["name"])),
             td(f"<code>{esc(r['pattern'])}</code>"), td(str(r["n_members"]), sort=r["n_members"], cls="num"),
             td(str(r["n_neurons"]), sort=r["n_neurons"], cls="num"), td(esc(str(r["layers"]).replace(";", ", ")))]
            for _, r in use.iterrows()]
    if rows:
        out.append(table(["Family", "Name", "Pattern", ("Segments", "num"), ("Neurons", "num"), "Layers"],
                         rows, cls="sortable"))
    return "\n".join(out)


def _comparisons_section(model_dir: Path) -> str:
    """Links to the model comparisons (``combmotif compare-models``) that include this model."""
    from ..compare_models.stage import comparisons_of

    found = comparisons_of(model_dir)
    if not found:
        return ""
    items = "".join(f'<li><a href="{esc(c["index"])}">{esc(c["name"])}</a>: '
                    f'{esc(" vs ".join(c["labels"]))}</li>' for c in found)
    return f"<h2>Model comparisons</h2><ul>{items}</ul>"
