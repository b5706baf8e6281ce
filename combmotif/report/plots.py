"""The figures the pipeline stages' tables are drawn as.

Pipeline modules return tables and write no figure; the command of each stage
(:mod:`combmotif.commands`) or the check that ran it (:mod:`combmotif.validation`)
draws the figure right after it:

- :func:`plot_contribution`: ``contribution/conv<L>/neuron_contribution.png``;
- :func:`plot_interaction_map`: ``interaction/conv<L>/interaction_map.svg`` and
  ``interaction/conv<L>/sequences/interaction_map.svg`` (the sequence scope);
- :func:`scatter_plot`: ``evaluation/scatter_test.png``;
- :func:`roc_pr_plot`: ``evaluation/roc_pr.png`` (a classifier's ROC and PR curves);
- :func:`plot_spacing`: ``interaction/conv<L>/spacing/<pair>.png``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..contribution.association import CLASS_COLOURS as CONTRIBUTION_COLOURS
from ..evaluate import classification_metrics, regression_metrics
from ..interaction.epistasis import CLASS_COLOURS, CLASSES, pair_summary
from ..io import atomic_path


def plot_contribution(df: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Effect (difference of means) per neuron, coloured by contribution class.

    Parameters
    ----------
    df : pandas.DataFrame
        ``neuron_contribution.csv``.
    path : str or Path
        PNG written (atomically).
    title : str
        Plot title.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(6.0, 0.12 * len(df) + 2), 3.2))
    effect = df["effect"].fillna(0.0).to_numpy()
    colours = [CONTRIBUTION_COLOURS[c] for c in df["contribution"]]
    ax.bar(np.arange(len(df)), effect, color=colours, width=0.8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("neuron")
    ax.set_ylabel("mean(activated) - mean(not)")
    step = max(1, len(df) // 16)
    ax.set_xticks(np.arange(len(df))[::step])
    ax.set_xticklabels(df["neuron"].to_numpy()[::step])
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in CONTRIBUTION_COLOURS.values()]
    counts = df["contribution"].value_counts()
    ax.legend(handles, [f"{k} ({counts.get(k, 0)})" for k in CONTRIBUTION_COLOURS], fontsize=7, frameon=False)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


def plot_interaction_map(df: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Motif x motif grid coloured by interaction class (:func:`pair_summary` per cell), as SVG.

    Written as SVG elements directly (milliseconds, where a matplotlib PNG of a few
    dozen families took seconds of every pairs run), so it zooms in a browser.

    Parameters
    ----------
    df : pandas.DataFrame
        Classified rows.
    path : str or Path
        SVG written (atomically).
    title : str
        Plot title.
    """
    from .html import esc

    summ = pair_summary(df)
    names = sorted(set(summ["motifA_name"]) | set(summ["motifB_name"]))
    index = {n: i for i, n in enumerate(names)}
    cells: dict[tuple[int, int], tuple[str, list[str], str]] = {}
    for r in summ.itertuples(index=False):
        i, j = index[r.motifA_name], index[r.motifB_name]
        lines = [f"{r.epsilon:+.2g}", f"{r.agreeing}/{r.tested}"] if r.tested else [f"0/{r.rows}"]
        tip = f"{r.motifA_name} x {r.motifB_name}: {r.interaction}"
        cells[i, j] = cells[j, i] = (r.interaction, lines, tip)
    cell, left, top = 34.0, 10.0 + 6.2 * max((len(n) for n in names), default=1), 30.0
    top += 6.2 * max((len(n) for n in names), default=1)
    k = len(names)
    legend_x = left + k * cell + 16
    width = legend_x + 14 + 6.2 * max(len(c) for c in CLASSES) + 10
    height = max(top + k * cell + 34, top + 14 * len(CLASSES) + 10)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
           f'viewBox="0 0 {width:g} {height:g}" font-family="Helvetica, Arial, sans-serif" '
           f'font-size="9" fill="#333333">',
           f'<rect width="{width:g}" height="{height:g}" fill="#ffffff"/>',
           f'<text x="{left:g}" y="16" font-size="11">{esc(title or "motif interactions")}</text>']
    for i in range(k):
        for j in range(k):
            cls, lines, tip = cells.get((i, j), ("untested", [], ""))
            x, y = left + j * cell, top + i * cell
            out.append(f'<rect x="{x:g}" y="{y:g}" width="{cell:g}" height="{cell:g}" '
                       f'fill="{CLASS_COLOURS[cls]}" stroke="#757575" stroke-width="0.4">'
                       + (f"<title>{esc(tip)}</title>" if tip else "") + "</rect>")
            ink = "#ffffff" if cls in ("synergistic", "antagonistic") else "#333333"   # on the dark fills
            for n, line in enumerate(lines):
                out.append(f'<text x="{x + cell / 2:g}" y="{y + cell / 2 + (n - (len(lines) - 1) / 2) * 9 + 3:g}" '
                           f'font-size="7.5" text-anchor="middle" fill="{ink}">{esc(line)}</text>')
    for i, name in enumerate(names):
        mid = i * cell + cell / 2
        out.append(f'<text x="{left - 4:g}" y="{top + mid + 3:g}" text-anchor="end">{esc(name)}</text>')
        out.append(f'<text transform="translate({left + mid + 3:g},{top - 4:g}) rotate(-90)">{esc(name)}</text>')
    for n, c in enumerate(CLASSES):
        y = top + n * 14
        out.append(f'<rect x="{legend_x:g}" y="{y:g}" width="10" height="10" fill="{CLASS_COLOURS[c]}" '
                   f'stroke="#757575" stroke-width="0.4"/>')
        out.append(f'<text x="{legend_x + 14:g}" y="{y + 9:g}">{esc(c)}</text>')
    out.append(f'<text x="{left:g}" y="{top + k * cell + 16:g}" font-size="8">cell: majority class over the '
               "neurons testing the pair; mean epsilon; rows agreeing / tested</text>")
    with atomic_path(path) as tmp:
        Path(tmp).write_text("\n".join(out + ["</svg>"]) + "\n")


def scatter_plot(path: str | Path, observed: np.ndarray, predicted: np.ndarray, title: str,
                 label: str = "label") -> None:
    """Predicted vs observed (hexbin density for large sets), written atomically as PNG.

    The title carries r, r² and n, so the figure reads on its own.

    Parameters
    ----------
    path : str or Path
        The PNG file to write (replaced as one unit).
    observed : numpy.ndarray
        (N,) observed labels.
    predicted : numpy.ndarray
        (N,) predictions on the same scale.
    title : str
        First line of the plot title.
    label : str, default "label"
        The label's name, for the axis titles.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = regression_metrics(observed, predicted)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=120)
    if len(observed) > 5000:
        ax.hexbin(observed, predicted, gridsize=60, bins="log", cmap="viridis", mincnt=1)
    else:
        ax.scatter(observed, predicted, s=4, alpha=0.4, linewidths=0)
    lo = float(min(np.min(observed), np.min(predicted)))
    hi = float(max(np.max(observed), np.max(predicted)))
    ax.plot([lo, hi], [lo, hi], color="0.5", lw=0.8, ls="--")
    ax.set_xlabel(f"observed {label}")
    ax.set_ylabel(f"predicted {label}")
    ax.set_title(f"{title}\nr = {m['pearson_r']:.3f}, r² = {m['r2']:.3f}, n = {m['n']}", fontsize=9)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def roc_pr_plot(path: str | Path, observed: np.ndarray, scores: np.ndarray, title: str) -> None:
    """ROC and precision-recall curves of a classifier side by side, written atomically as PNG.

    The panel titles carry AUROC and AUPRC; the PR panel's dashed line is the share of
    positives (a random classifier's precision).

    Parameters
    ----------
    path : str or Path
        The PNG file to write (replaced as one unit).
    observed : numpy.ndarray
        (N,) labels, 0 or 1 (both present).
    scores : numpy.ndarray
        (N,) the classifier's logits (or any score that ranks positives higher).
    title : str
        The figure's title.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import precision_recall_curve, roc_curve

    m = classification_metrics(observed, scores)
    fpr, tpr, _ = roc_curve(observed, scores)
    precision, recall, _ = precision_recall_curve(observed, scores)
    fig, (roc, pr) = plt.subplots(1, 2, figsize=(8, 4), dpi=120)
    roc.plot(fpr, tpr, lw=1.2)
    roc.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--")
    roc.set_xlabel("false positive rate")
    roc.set_ylabel("true positive rate")
    roc.set_title(f"ROC: AUROC = {m['auroc']:.3f}", fontsize=9)
    pr.step(recall, precision, where="post", lw=1.2)
    pr.axhline(m["n_pos"] / max(m["n"], 1), color="0.5", lw=0.8, ls="--")
    pr.set_xlabel("recall")
    pr.set_ylabel("precision")
    pr.set_ylim(0, 1.02)
    pr.set_title(f"PR: AUPRC = {m['auprc']:.3f}", fontsize=9)
    fig.suptitle(f"{title} (n = {m['n_pos']} pos + {m['n_neg']} neg)", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)


def draw_evaluation(folder: str | Path, observed: np.ndarray, predicted: np.ndarray, title: str,
                    label: str = "label", task: str = "regression") -> None:
    """The evaluation's figures in its folder: ``scatter_test.png`` (:func:`scatter_plot`),
    or for a classifier ``roc_pr.png`` (:func:`roc_pr_plot`).

    Passed to :func:`combmotif.evaluate.evaluate_checkpoint` as ``draw``, so the
    figure is written inside the evaluation's one atomic unit.

    Parameters
    ----------
    folder : str or Path
        The (temporary) evaluation folder.
    observed : numpy.ndarray
        (N,) observed labels of the test split.
    predicted : numpy.ndarray
        (N,) predictions on the same scale.
    title : str
        First line of the plot title.
    label : str, default "label"
        The label's name, for the axis titles.
    task : {"regression", "classification"}, default "regression"
        Which figure: a classifier's ``predicted`` are its logits.
    """
    if task == "classification":
        roc_pr_plot(Path(folder) / "roc_pr.png", observed, predicted, title)
        return
    scatter_plot(Path(folder) / "scatter_test.png", observed, predicted, title, label=label)


def plot_spacing(scan: pd.DataFrame, path: str | Path, title: str = "", tree: dict | None = None) -> None:
    """Epsilon against gap for both orders of a spacing scan, with its bootstrap band.

    Significant gaps (BH q and effect floor) are marked with filled dots, gap-specific
    ones with rings; the syntax tree's gap range, when known, is shaded in the
    colour of its order.

    Parameters
    ----------
    scan : pandas.DataFrame
        A scan table (:data:`combmotif.interaction.spacing.SCAN_COLUMNS`).
    path : str or Path
        PNG written (atomically).
    title : str
        Plot title.
    tree : dict, optional
        ``order`` ("AB" or "BA"), ``gap_min``, ``gap_max`` of the syntax rule.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"AB": "#c0392b", "BA": "#2471a3"}
    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    if tree:
        ax.axvspan(tree["gap_min"] - 0.5, tree["gap_max"] + 0.5, color=colours[tree["order"]], alpha=0.12,
                   label=f"tree {tree['order']} gaps {tree['gap_min']}-{tree['gap_max']}")
    for order, colour in colours.items():
        part = scan[scan["order"] == order].sort_values("gap")
        gap = part["gap"].to_numpy()
        ax.fill_between(gap, part["eps_lo"], part["eps_hi"], color=colour, alpha=0.2, lw=0)
        ax.plot(gap, part["epsilon"], color=colour, lw=1.2, label=f"{order} (A {'5' if order == 'AB' else '3'}')")
        sig = part["significant"].astype(bool).to_numpy()
        ax.plot(gap[sig], part["epsilon"].to_numpy()[sig], "o", color=colour, ms=4)
        if "specific" in part:
            spec = part["specific"].astype(bool).to_numpy()
            ax.plot(gap[spec], part["epsilon"].to_numpy()[spec], "o", mfc="none", color=colour, ms=8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xlabel("gap (bases between the 5' motif's end and the 3' motif's start)", fontsize=8)
    ax.set_ylabel("epsilon (mean, 95% CI)", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title((title + "\n" if title else "") + "dots: significant (BH q, effect floor); "
                 "rings: gap-specific (beyond the pair's level)", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
