"""The model comparison's figures and page: ``results/compare_models/<name>/index.html``.

Figures (drawn here from the tables :func:`combmotif.compare_models.stage.run_compare_models`
returns; matplotlib, no other dependency):

* ``venn.png``: shared and model-specific motif groups, circles drawn directly
  for two or three models; ``upset.png`` instead for more (one column per
  combination of models: a bar of its groups over a dot matrix);
* ``significance.png``: -log10 q of each group's neurons' database matches,
  one box per group and model (groups held by several models first);
* ``signs.png``: each group's contribution sign per model (red +, blue -, grey 0),
  the median effect written in the cell.

:func:`compare_models_command` is ``combmotif compare-models <config>``: it runs
the comparison, draws, writes the page and refreshes each model's front page.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path, write_text
from .html import copy_assets, esc, fmt_num, fmt_q, render_page, table, td

MAX_BOX_GROUPS = 30        # boxes per figure: the groups held by most models, most neurons first
SIGN_COLOURS = {"+": "#d6604d", "-": "#4393c3", "0": "#dddddd", "": "#ffffff"}
MODEL_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> None:
    """Write a figure atomically, without the time stamp metadata (same tables, same bytes)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    _pyplot().close(fig)


def _tick(group: str, name: str) -> str:
    """A group's axis label: its name, prefixed by its id unless the name already starts with it."""
    return str(name) if str(name).startswith(f"{group}-") else f"{group} {name}"


def region_counts(membership: pd.DataFrame, labels: list[str]) -> dict[tuple[str, ...], int]:
    """Groups per exact combination of models holding them (the Venn / UpSet regions).

    Parameters
    ----------
    membership : pandas.DataFrame
        ``membership.csv``: one 0/1 column per model label.
    labels : list of str
        The model labels.

    Returns
    -------
    dict
        Tuple of labels (config order) -> number of groups held by exactly those models.
    """
    out: dict[tuple[str, ...], int] = {}
    for r in range(1, len(labels) + 1):
        for combo in itertools.combinations(labels, r):
            mask = np.ones(len(membership), dtype=bool)
            for lab in labels:
                mask &= (membership[lab].to_numpy() == 1) == (lab in combo)
            out[combo] = int(mask.sum())
    return out


def plot_venn(membership: pd.DataFrame, labels: list[str], path: str | Path) -> None:
    """Circles of two or three models with the number of groups in each region.

    Parameters
    ----------
    membership : pandas.DataFrame
        ``membership.csv``.
    labels : list of str
        Two or three model labels.
    path : str or Path
        The PNG.
    """
    from matplotlib.patches import Circle

    plt = _pyplot()
    counts = region_counts(membership, labels)
    # Centres and region label spots of the classic layouts (unit circles).
    if len(labels) == 2:
        centres = [(-0.55, 0.0), (0.55, 0.0)]
        spots = {(0,): (-0.95, 0), (1,): (0.95, 0), (0, 1): (0, 0)}
    else:
        centres = [(-0.5, 0.35), (0.5, 0.35), (0.0, -0.5)]
        spots = {(0,): (-0.95, 0.6), (1,): (0.95, 0.6), (2,): (0, -1.0), (0, 1): (0, 0.75),
                 (0, 2): (-0.6, -0.35), (1, 2): (0.6, -0.35), (0, 1, 2): (0, 0.05)}
    fig, ax = plt.subplots(figsize=(5, 4.4))
    for (x, y), lab, col in zip(centres, labels, MODEL_COLOURS):
        ax.add_patch(Circle((x, y), 1.0, alpha=0.3, color=col, lw=2))
        # names above the upper circles, below the lower one
        ax.text(x, y + 1.08 if y >= 0 else y - 1.18, lab, ha="center", fontsize=11, color=col, weight="bold")
    for idx, (x, y) in spots.items():
        ax.text(x, y, str(counts[tuple(labels[i] for i in idx)]), ha="center", va="center", fontsize=13)
    ax.set_xlim(-1.8, 1.8)
    ax.set_ylim(-1.8, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("Motif groups: shared and model-specific")
    _save(fig, Path(path))


def plot_upset(membership: pd.DataFrame, labels: list[str], path: str | Path) -> None:
    """UpSet-style matrix: one column per non-empty combination of models, its group count above.

    Parameters
    ----------
    membership : pandas.DataFrame
        ``membership.csv``.
    labels : list of str
        The model labels.
    path : str or Path
        The PNG.
    """
    plt = _pyplot()
    combos = sorted(((c, n) for c, n in region_counts(membership, labels).items() if n),
                    key=lambda cn: (-cn[1], -len(cn[0])))
    fig, (top, low) = plt.subplots(2, 1, figsize=(max(4, 0.5 * len(combos) + 2), 2.5 + 0.35 * len(labels)),
                                   gridspec_kw={"height_ratios": [2, 1]}, sharex=True)
    x = np.arange(len(combos))
    top.bar(x, [n for _, n in combos], color="#555555")
    for xi, (_, n) in zip(x, combos):
        top.text(xi, n, str(n), ha="center", va="bottom", fontsize=8)
    top.set_ylabel("motif groups")
    for yi, lab in enumerate(labels):
        on = [lab in c for c, _ in combos]
        low.scatter(x, np.full(len(x), yi), c=["#222222" if o else "#dddddd" for o in on], s=40)
    low.set_yticks(range(len(labels)), labels)
    low.set_xticks([])
    _save(fig, Path(path))


def plot_significance(significance: pd.DataFrame, groups: pd.DataFrame, labels: list[str],
                      path: str | Path) -> None:
    """-log10 q box plots: one box per group and model (the first :data:`MAX_BOX_GROUPS` groups).

    Parameters
    ----------
    significance : pandas.DataFrame
        ``significance.csv``.
    groups : pandas.DataFrame
        ``groups.csv`` (its order: more models, more neurons first).
    labels : list of str
        The model labels.
    path : str or Path
        The PNG.
    """
    plt = _pyplot()
    shown = [g for g in groups["group"] if g in set(significance["group"])][:MAX_BOX_GROUPS]
    names = dict(zip(groups["group"], groups["name"]))
    fig, ax = plt.subplots(figsize=(max(6, 0.3 * len(shown) * len(labels) + 2), 4.5))
    width = 0.8 / len(labels)
    for j, (lab, col) in enumerate(zip(labels, MODEL_COLOURS * 4)):
        data, pos = [], []
        for i, g in enumerate(shown):
            v = significance.loc[(significance["group"] == g) & (significance["model"] == lab), "neg_log10_q"]
            if len(v):
                data.append(v.to_numpy(float))
                pos.append(i + (j - (len(labels) - 1) / 2) * width)
        if data:
            bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=True)
            for box in bp["boxes"]:
                box.set(facecolor=col, alpha=0.6)
        ax.plot([], [], color=col, lw=8, alpha=0.6, label=lab)
    ax.axhline(-np.log10(0.05), color="grey", ls="--", lw=0.8)
    ax.set_xticks(range(len(shown)), [_tick(g, names[g]) for g in shown], rotation=60, ha="right", fontsize=8)
    ax.set_xlim(-0.7, max(len(shown), 1) - 0.3)
    ax.set_ylabel("-log10 q of the neurons' best database match")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, Path(path))


def plot_signs(signs: pd.DataFrame, labels: list[str], path: str | Path) -> None:
    """The sign table as a grid: groups (rows) x models, coloured by sign, median effect written.

    Parameters
    ----------
    signs : pandas.DataFrame
        ``signs.csv``.
    labels : list of str
        The model labels.
    path : str or Path
        The PNG.
    """
    plt = _pyplot()
    rows = signs[[any(str(s) in ("+", "-", "0") for s in r) for r in
                  signs[[f"{lab}_sign" for lab in labels]].astype(str).to_numpy()]].head(60)
    fig, ax = plt.subplots(figsize=(2 + 1.3 * len(labels), 0.8 + 0.26 * max(len(rows), 1)))
    for i, (_, r) in enumerate(rows.iterrows()):
        for j, lab in enumerate(labels):
            sign = "" if pd.isna(r[f"{lab}_sign"]) else str(r[f"{lab}_sign"])
            ax.add_patch(plt.Rectangle((j, i), 1, 1, color=SIGN_COLOURS.get(sign, "#ffffff"), ec="white"))
            ax.text(j + 0.5, i + 0.5, fmt_num(r[f"{lab}_effect"], 2) or sign, ha="center", va="center", fontsize=7)
    ax.set_xlim(0, len(labels))
    ax.set_ylim(max(len(rows), 1), 0)
    ax.set_xticks(np.arange(len(labels)) + 0.5, labels)
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(len(rows)) + 0.5, [_tick(g, n) for g, n in zip(rows["group"], rows["name"])],
                  fontsize=7)
    ax.tick_params(length=0)
    fig.tight_layout()
    _save(fig, Path(path))


def draw_figures(out: str | Path, tables: dict[str, pd.DataFrame], labels: list[str]) -> list[str]:
    """Every figure of the comparison that its tables support.

    Parameters
    ----------
    out : str or Path
        The comparison's folder.
    tables : dict of str to pandas.DataFrame
        From :func:`combmotif.compare_models.stage.run_compare_models`.
    labels : list of str
        The model labels.

    Returns
    -------
    list of str
        The PNG file names written.
    """
    out = Path(out)
    names = []
    if len(tables["membership"]):
        name = "venn.png" if len(labels) <= 3 else "upset.png"
        (plot_venn if len(labels) <= 3 else plot_upset)(tables["membership"], labels, out / name)
        names.append(name)
    if len(tables["significance"]):
        plot_significance(tables["significance"], tables["groups"], labels, out / "significance.png")
        names.append("significance.png")
    if len(tables["signs"]) and (tables["signs"][[f"{lab}_sign" for lab in labels]].astype(str)
                                 .isin(["+", "-", "0"]).any().any()):
        plot_signs(tables["signs"], labels, out / "signs.png")
        names.append("signs.png")
    return names


def _groups_html(groups: pd.DataFrame, labels: list[str]) -> str:
    """The groups table: class, match q and each model's families side by side."""
    heads = ["Group", "Name", "Class", ("Match q", "num"), "Matched by", "Consensus"]
    for lab in labels:
        heads += [f"{lab}: families", (f"{lab}: neurons", "num"), f"{lab}: best database q"]
    rows = []
    for _, g in groups.iterrows():
        cells = [td(esc(g["group"]), sort=int(str(g["group"])[1:])), td(esc(g["name"])), td(esc(g["class"])),
                 td(fmt_q(g["match_q"]), sort=g["match_q"], cls="num"),
                 td(esc(_via(g.get("match_via", "")))), td(f"<code>{esc(g['consensus'])}</code>")]
        for lab in labels:
            fams = "" if pd.isna(g[f"{lab}_families"]) else str(g[f"{lab}_families"])
            named = "" if pd.isna(g[f"{lab}_name"]) else str(g[f"{lab}_name"])
            cells += [td(esc(f"{fams} ({named})" if fams else "")),
                      td(fmt_num(g[f"{lab}_n_neurons"]), sort=g[f"{lab}_n_neurons"], cls="num"),
                      td(fmt_q(g[f"{lab}_q"]), sort=g[f"{lab}_q"], cls="num")]
        rows.append(cells)
    return table(heads, rows, cls="sortable")


def _via(via) -> str:
    """``motif`` -> "motifs"; ``database:<motif>`` -> "database (<motif>)"; empty when unmatched."""
    via = "" if pd.isna(via) else str(via)
    if via.startswith("database:"):
        return f"database ({via.split(':', 1)[1]})"
    return "motifs" if via == "motif" else via


def _side_by_side_html(df: pd.DataFrame, first: list[str], per_model: list[str], labels: list[str],
                       last: list[str]) -> str:
    """A table of ``first`` columns, each model's ``per_model`` columns, then ``last``."""
    cols = first + [f"{lab}_{c}" for lab in labels for c in per_model] + last
    rows = [[td(fmt_q(v) if c.endswith("_q") else esc(fmt_num(v)),
                sort=v if isinstance(v, (int, float)) and not pd.isna(v) else None)
             for c, v in zip(cols, r)] for r in df[cols].itertuples(index=False)]
    heads = [c.replace("_", " ") for c in cols]
    return table(heads, rows, cls="sortable")


def _checks_html(checks: pd.DataFrame | None) -> str:
    """The site checks: per group some models lack, each model's push and the call."""
    if checks is None or not len(checks):
        return '<p class="muted">No group was checked (site_check off, or no group some models lack has enough ' \
               'neurons).</p>'
    lead = ("<p>Groups some models lack, checked on every model's own sequences: the first site of the "
            "pattern destroyed (dinucleotide shuffle), push = f(original) &minus; f(destroyed) per sequence, "
            "Wilcoxon signed-rank, BH over each model's checks. <i>sites</i>: the model uses the motif "
            "without a family of its own (significant, and comparable to the holders' push).</p>")
    rows = [[td(esc(r["group"]), sort=int(str(r["group"])[1:])), td(esc(r["name"])),
             td(f"<code>{esc(r['pattern'])}</code>"),
             td(esc(r["model"])), td(fmt_num(r["n"]), sort=r["n"], cls="num"),
             td(fmt_num(r["push"]), sort=r["push"], cls="num"),
             td(f"{fmt_num(r['ci_low'])} to {fmt_num(r['ci_high'])}"),
             td(fmt_num(r["push_sd"]), sort=r["push_sd"], cls="num"), td(fmt_q(r["q"]), sort=r["q"], cls="num"),
             td(esc(r["learned"] or "holds")), td(esc(r["reason"]))] for _, r in checks.iterrows()]
    heads = ["Group", "Name", "Pattern", "Model", ("n", "num"), ("Push", "num"), "95% CI", ("Push / SD", "num"),
             ("q", "num"),
             "Learned", "Why"]
    return lead + table(heads, rows, cls="sortable")


def write_compare_models_page(out: str | Path, tables: dict[str, pd.DataFrame], labels: list[str],
                              figures: list[str], title: str) -> Path:
    """``index.html`` of a comparison: counts, figures, the groups, signs and pairs tables.

    Parameters
    ----------
    out : str or Path
        The comparison's folder.
    tables : dict of str to pandas.DataFrame
        From :func:`combmotif.compare_models.stage.run_compare_models`.
    labels : list of str
        The model labels.
    figures : list of str
        PNG names from :func:`draw_figures`.
    title : str
        The comparison's name.

    Returns
    -------
    Path
        The page.
    """
    out = Path(out)
    copy_assets(out / "assets")
    groups = tables["groups"]
    counts = groups["class"].value_counts() if len(groups) else pd.Series(dtype=int)
    summary = ", ".join(f"{n} {esc(c)}" for c, n in counts.items())
    body = [f'<p class="lead">What {", ".join(f"<b>{esc(lab)}</b>" for lab in labels)} learned, side by side: '
            f"{len(groups)} motif groups ({summary}).</p>",
            "<p>Families of different models are one group when Tomtom matches their representatives "
            "(mutual q below the match q), or when each matches (q below the match q) one database "
            "motif or its near-duplicates: a motif one model learned shorter than the other is too short "
            "for a direct match but keeps its database name (the <i>Matched by</i> column). CSV: " + " ".join(
                f'<a href="{t}.csv">{t}.csv</a>' for t in ("groups", "members", "membership", "significance",
                                                          "signs", "pairs", "site_checks")) + "</p>"]
    body += [f'<p><img src="{esc(f)}" alt="{esc(f)}" style="max-width:100%"></p>' for f in figures]
    body += ["<h2>Motif groups</h2>", _groups_html(groups, labels) if len(groups) else
             '<p class="muted">No families.</p>', "<h2>Contribution signs</h2>"]
    signs = tables["signs"]
    body.append(_side_by_side_html(signs, ["group", "name", "class"], ["sign", "effect", "called", "knockout_sign"],
                                   labels, ["agreement"]) if len(signs) else '<p class="muted">None.</p>')
    body += ["<h2>Site checks</h2>", _checks_html(tables.get("site_checks"))]
    body.append("<h2>Pair classes</h2>")
    pairs = tables["pairs"]
    body.append(_side_by_side_html(pairs, ["groupA", "groupB", "nameA", "nameB"], ["class", "epsilon", "q"],
                                   labels, ["agreement"]) if len(pairs) else
                '<p class="muted">No interaction outputs (pairs --scope sequence) for these models.</p>')
    html = render_page(f"{title}: model comparison", "\n".join(body), "assets",
                       crumbs=[(title, None)], heading=f"{title}: model comparison")
    write_text(out / "index.html", html)
    return out / "index.html"


def compare_models_command(config: str | Path, overrides: dict | None = None, print_=print) -> int:
    """``combmotif compare-models <config>``: compare, draw, write the page, relink the front pages.

    Parameters
    ----------
    config : str or Path
        The comparison's config (``configs/others/compare_models_*.yaml``).
    overrides : dict, optional
        Config keys set over the file's.
    print_ : callable
        Where the summary goes.

    Returns
    -------
    int
        0.
    """
    from ..compare_models.config import load_compare_models_config
    from ..compare_models.stage import comparison_dir, run_compare_models
    from .model_page import write_model_index

    cfg, models = load_compare_models_config(config, overrides)
    labels = [m.label for m in models]
    tables = run_compare_models(cfg, models)
    out = comparison_dir(cfg)
    figures = draw_figures(out, tables, labels)
    page = write_compare_models_page(out, tables, labels, figures, cfg.name)
    for m in models:
        write_model_index(m.model_dir)
    groups = tables["groups"]
    cols = ["group", "name", "class", "match_q", "match_via"] + [f"{lab}_families" for lab in labels]
    print_(groups[cols].to_string(index=False) if len(groups) else "no motif families")
    print_(f"\n{len(groups)} groups: " + ", ".join(f"{n} {c}" for c, n in groups["class"].value_counts().items()))
    print_(f"wrote {page}")
    return 0
