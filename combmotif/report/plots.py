"""The figures the pipeline stages' tables are drawn as.

Pipeline modules return tables and write no figure; the command of each stage
(:mod:`combmotif.commands`) or the check that ran it (:mod:`combmotif.validation`)
draws the figure right after it:

- :func:`plot_contribution`: ``contribution/conv<L>/neuron_contribution.png``;
- :func:`plot_interaction_map`: ``interaction/conv<L>/interaction_map.png`` and
  ``interaction/<tag>/interaction_map.png`` (the sequence scope);
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
    """Motif x motif grid coloured by interaction class (:func:`pair_summary` per cell).

    Parameters
    ----------
    df : pandas.DataFrame
        Classified rows.
    path : str or Path
        PNG written (atomically).
    title : str
        Plot title.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    summ = pair_summary(df)
    names = sorted(set(summ["motifA_name"]) | set(summ["motifB_name"]))
    k = max(1, len(names))
    index = {n: i for i, n in enumerate(names)}
    grid = np.full((k, k), CLASSES.index("untested"))
    label = np.full((k, k), "", dtype=object)
    for r in summ.itertuples(index=False):
        i, j = index[r.motifA_name], index[r.motifB_name]
        text = f"{r.epsilon:+.2g}\n{r.agreeing}/{r.tested}" if r.tested else f"0/{r.rows}"
        grid[i, j] = grid[j, i] = CLASSES.index(r.interaction)
        label[i, j] = label[j, i] = text
    cmap = ListedColormap([CLASS_COLOURS[c] for c in CLASSES])
    size = min(12.0, 2.5 + 0.6 * k)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=len(CLASSES) - 0.5)
    for i in range(k):
        for j in range(k):
            if label[i, j]:
                ax.text(j, i, label[i, j], ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(names)))
    ax.set_yticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xticks(np.arange(-0.5, k), minor=True)
    ax.set_yticks(np.arange(-0.5, k), minor=True)
    ax.grid(which="minor", color="#757575", lw=0.4)
    ax.tick_params(which="minor", length=0)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=CLASS_COLOURS[c], edgecolor="#757575") for c in CLASSES]
    ax.legend(handles, CLASSES, bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=7, frameon=False)
    ax.set_title(title or "motif interactions", fontsize=9)
    ax.set_xlabel("cell: majority class over the neurons testing the pair; "
                  "mean epsilon; rows agreeing / tested", fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


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
