"""Pair mutagenesis over whole sequences rather than a neuron's fragments.

What the model does with a pair regardless of which neuron carries it; the
check against planted pairs (:mod:`combmotif.validation.interaction`) runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..io import atomic_path
from ..perturb import target_predictor
from ..sequences import decode, onehot_to_codes
from ..stage import Stage
from .epistasis import STATS_COLUMNS, classify, pair_statistics
from .labels import Combination
from .mutagenesis import mutagenesis
from .sites import plan_sites


def sequence_texts(X: np.ndarray) -> list[str]:
    """Decode one-hot sequences to strings.

    Parameters
    ----------
    X : numpy.ndarray
        One-hot sequences, (n, C, L).

    Returns
    -------
    list of str
        One string per sequence.
    """
    return decode(onehot_to_codes(X))


def run_sequence_scope(stage: Stage, combos: Sequence[Combination], tag: str = "sequences",
                       log=print, reference=None, out_dir: Path | None = None,
                       max_sequences: int | None = None, replicates: int | None = None) -> pd.DataFrame:
    """The same mutagenesis and test on whole sequences instead of a neuron's fragments.

    Every scanned sequence holding both motifs is a candidate (the first
    ``max_pair_sequences`` by index are used). This measures what the model
    does with a pair regardless of which neuron carries it; the synthetic
    checks use it with the planted pairs. Writes ``interaction/<tag>/motif_pair_stats.csv``
    (its caller draws ``interaction_map.svg`` beside it).

    ``reference`` (optional) maps the same (n, C, L) variants to a second
    prediction, e.g. a synthetic set's noise-free planted function; its mean
    epsilon on the very same variants (same draws) goes to ``reference_epsilon``.
    It tells a pair the model did not learn apart from one the test missed.

    Parameters
    ----------
    stage : Stage
        The interaction stage (model, data, config, results folder).
    combos : sequence of Combination
        The pairs to test.
    tag : str
        Output folder under ``interaction/``.
    log : callable
        Progress messages.
    reference : callable, optional
        A second ``predict`` run on the same variants.
    out_dir : pathlib.Path, optional
        Where the table goes instead of ``interaction/<tag>/``.
    max_sequences, replicates : int, optional
        Sequences per pair and destruction draws per sequence (default: the config's
        ``max_pair_sequences`` and ``replicates``).

    Returns
    -------
    pandas.DataFrame
        ``<tag>/motif_pair_stats.csv``.
    """
    cfg = stage.cfg
    X, _, _ = stage.data
    texts = sequence_texts(X)
    seq = np.arange(len(texts))
    predict = target_predictor(stage)
    sizes = (max_sequences or cfg.max_pair_sequences, replicates or cfg.replicates)
    spans: dict = {}    # each motif's sites in every sequence, found once for all its pairs
    rows = [_scope_row(cfg, predict, X, texts, seq, ci, combo, tag, log, reference, sizes, spans)
            for ci, combo in enumerate(combos)]
    extra = ["reference_epsilon"] if reference is not None else []
    df = classify(pd.DataFrame(rows), cfg.alpha, cfg.min_relative_epsilon)[STATS_COLUMNS + extra]
    out = Path(out_dir) if out_dir is not None else stage.out / tag
    with atomic_path(out / "motif_pair_stats.csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    return df


def _scope_row(cfg, predict, X, texts, seq, ci, combo, tag, log, reference, sizes, spans) -> dict:
    max_sequences, replicates = sizes
    plan = plan_sites(texts, seq, np.zeros(len(seq), np.int64), combo, max_sequences, spans)
    plan.n_candidates = len(texts)
    rng = np.random.default_rng([cfg.seed, 0, 0, ci])
    obs = mutagenesis(predict, X, texts, plan, combo, replicates, rng, cfg.max_redraws)
    row = pair_statistics(obs, cfg.min_n, cfg.n_boot, seed=cfg.seed + ci)
    if reference is not None:
        # The destruction draws depend only on the seed and the texts, so the
        # same seed rebuilds exactly the variants the model was given.
        ref = mutagenesis(reference, X, texts, plan, combo, replicates,
                          np.random.default_rng([cfg.seed, 0, 0, ci]), cfg.max_redraws)
        row["reference_epsilon"] = float(ref.epsilon.mean()) if len(ref) else np.nan
    row.update({"task": tag, "layer": 0, "neuron": -1, "combination": combo.name,
                "motifA": "|".join(combo.motifA), "motifB": "|".join(combo.motifB),
                "motifA_name": combo.nameA, "motifB_name": combo.nameB})
    log(f"{combo.name} ({combo.nameA} x {combo.nameB}): {len(obs)} sequences, "
        f"{obs.fallbacks} fallbacks")
    return row
