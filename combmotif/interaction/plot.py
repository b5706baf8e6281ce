"""The interaction map: motif x motif grid coloured by interaction class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..io import atomic_path
from .epistasis import CLASS_COLOURS, CLASSES, pair_summary


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
