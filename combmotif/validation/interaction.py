"""Interaction calls against planted pairs (``python -m combmotif.validation interaction``).

    combmotif validate interaction <config> [--layers 4] [--truth truth.json]

Runs the mutagenesis and the epistasis test over whole sequences for each
planted pair of ``truth.json`` (``interaction/truth_pairs/``), beside the
planted rule itself on the very same variants, and compares the calls with
the planted classes (:func:`compare_with_truth`).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import load_config
from ..errors import InputError
from ..interaction.labels import Combination, same_motif
from ..interaction.scope import run_sequence_scope
from ..interaction.stage import InteractionConfig
from ..report.plots import plot_interaction_map
from ..stage import Stage
from .recovered import MIN_IDENTITY, RECOVERY_Q, motif_identity


def truth_labels(truth: dict) -> list[Combination]:
    """The planted pairs of a synthetic set's ``truth.json`` as combination labels.

    Parameters
    ----------
    truth : dict
        A loaded truth (:func:`combmotif.data.truth.load_truth`).

    Returns
    -------
    list of Combination
        One per planted pair, patterns the motifs' consensus sequences.
    """
    cons = {m["name"]: m["consensus"] for m in truth["motifs"]}
    return [Combination(p["name"], [cons[p["motifA"]]], [cons[p["motifB"]]], p["motifA"], p["motifB"])
            for p in truth["pairs"]]


def _label_is(label: str, consensus: str) -> bool:
    """Whether a label (patterns joined by '|') names the motif ``consensus``.

    One IUPAC pattern inside the other, or the project's one definition of a
    recovered motif (:func:`~combmotif.validation.recovered.motif_identity` >= 80 %:
    a family pattern cut at other places, ``CTAAAGNS`` for ``CCTAAAG``).
    """
    iupac = re.compile(r"[ACGTRYSWKMBDHVN]+")
    return any(p == consensus or (iupac.fullmatch(p) and (
        same_motif(p, consensus) or motif_identity(consensus, p)[0] >= MIN_IDENTITY))
        for p in label.split("|"))


def planted_function(truth: dict):
    """The noise-free planted label of a synthetic set as a ``predict`` for :func:`mutagenesis`.

    Parameters
    ----------
    truth : dict
        A synthetic set's truth (with ``task``).

    Returns
    -------
    callable
        (n, C, L) -> (n,) float64.
    """
    import importlib

    from ..evaluate import SYNTHETIC_MODULES

    synth = importlib.import_module(SYNTHETIC_MODULES[truth["task"]])

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(synth.noiseless(x, truth), dtype=np.float64)
    return predict


def family_aliases(model_dir: str | Path, names: set[str], recovery_q: float = RECOVERY_Q) -> dict[str, set[str]]:
    """Which planted motifs each family recovers by Tomtom, keyed by the family's label pattern.

    The project's one definition of *recovered* accepts a Tomtom match at
    q < ``recovery_q`` besides consensus identity; a family's label pattern can be
    too degenerate (or fused from two planted motifs) for identity while its
    representative matches the planted motif. The Tomtom runs are the family's own
    (its core against the discovery's database, ``families.json`` matches) and the
    one discovery made for its leader (the rows in its neuron's ``tomtom.tsv``).

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>`` (with ``discovery/families.csv``).
    names : set of str
        The planted motif names (Tomtom targets of the ``planted`` database).
    recovery_q : float
        Tomtom q below which a match recovers.

    Returns
    -------
    dict
        Label pattern -> planted names its family's representative matches.
    """
    from ..motifs.families import read_families
    from ..motifs.tomtom import read_tomtom_tsv

    out: dict[str, set[str]] = {}
    disc = Path(model_dir) / "discovery"
    for fam in read_families(model_dir):
        found = out.setdefault(fam.pattern, set())
        found.update({t for t, q in fam.matches if q < recovery_q} & names)
        leader = fam.leader or fam.representative.name
        m = re.fullmatch(r"conv(\d+)-n(\d+)-.*", leader)
        path = disc / f"conv{m.group(1)}" / f"neuron{m.group(2)}" / "tomtom.tsv" if m else None
        if path is None or not path.is_file():
            continue
        tt = read_tomtom_tsv(path)
        hit = tt[(tt["Query_ID"] == leader) & (tt["q-value"] < recovery_q)]
        found.update(set(hit["Target_ID"]) & names)
    return out


def compare_with_truth(df: pd.DataFrame, truth: dict, aliases: dict[str, set[str]] | None = None
                       ) -> pd.DataFrame:
    """One row per planted pair: the planted class and the calls of the rows testing it.

    A row tests a planted pair when its two motifs are the pair's two
    consensus sequences, in either order, up to flanks: one IUPAC pattern
    inside the other (so proposed labels such as ``GACTTCCG`` count for
    ``ACTTCCG``; a regex label counts only when equal). ``called`` is the most common class
    among the tested rows (ties: the class with more sequences behind it);
    ``agree`` the fraction of tested rows with the planted class; ``epsilon``,
    ``q`` and ``n`` describe the row with the most sequences, and
    ``planted_epsilon`` is that row's ``reference_epsilon`` where the table has one
    (what the planted rule itself gives on the same variants).

    Parameters
    ----------
    df : pandas.DataFrame
        Classified pair rows (``motif_pair_stats.csv``).
    truth : dict
        A loaded truth.
    aliases : dict, optional
        Label pattern -> planted names it also recovers (:func:`family_aliases`).

    Returns
    -------
    pandas.DataFrame
    """
    cons = {m["name"]: m["consensus"].upper().replace("U", "T") for m in truth["motifs"]}
    aliases = aliases or {}

    def names(label: str, motif: str) -> bool:
        return _label_is(label, cons[motif]) or motif in aliases.get(label, ())

    out = []
    for p in truth["pairs"]:
        ma, mb = p["motifA"], p["motifB"]
        mine = df[[(names(a, ma) and names(b, mb)) or (names(a, mb) and names(b, ma))
                   for a, b in zip(df["motifA"].astype(str), df["motifB"].astype(str))]]
        tested = mine[mine["interaction"] != "untested"]
        row = {"pair": p["name"], "motifA": p["motifA"], "motifB": p["motifB"], "planted": p["class"],
               "planted_interaction": p["interaction"], "rows": len(mine), "tested": len(tested),
               "called": "untested", "agree": np.nan, "epsilon": np.nan, "q": np.nan, "n": 0}
        if len(tested):
            votes = tested.groupby("interaction")["n"].agg(["size", "sum"])
            called = votes.sort_values(["size", "sum"], ascending=False, kind="stable").index[0]
            best = tested.sort_values(["n", "q"], ascending=[False, True], kind="stable").iloc[0]
            row.update(called=called, epsilon=best["epsilon"], q=best["q"], n=int(best["n"]),
                       agree=float((tested["interaction"] == p["class"]).mean()))
            if "reference_epsilon" in tested:
                row["planted_epsilon"] = best["reference_epsilon"]
        out.append(row)
    return pd.DataFrame(out)


def check_interaction(config: str | Path, truth: str | Path | None = None, layers: list[int] | None = None,
                      device: str | None = None) -> int:
    """Test the planted pairs of a synthetic set (or of a hand-written truth) and print how the
    calls compare with their classes.

    Parameters
    ----------
    config : str or Path
        The interaction config.
    truth : str or Path, optional
        A truth file (default: ``truth.json`` next to the config's data file).
    layers : list of int, optional
        Conv layers whose neuron-level rows (``motif_pair_stats.csv``) are summarised too.
    device : str, optional
        Overrides the config's ``device``.

    Returns
    -------
    int
        0.
    """
    from ..data.truth import is_planted, load_truth

    layers = list(layers or [])
    cfg = load_config(config, InteractionConfig, {"device": device} if device else None)
    stage = Stage(cfg, config, "interaction")
    stage.check_layers(layers, key=None)
    _, _, meta = stage.data
    source = truth
    truth = load_truth(source or Path(meta["path"]).parent / "truth.json")
    if not truth["pairs"]:
        raise InputError(f"{truth.get('source') or source}: 'pairs' is empty: no pair to check")
    # A hand-written truth has no planted rule: no planted_epsilon column then.
    reference = planted_function(truth) if is_planted(truth) else None
    df = run_sequence_scope(stage, truth_labels(truth), "truth_pairs", reference=reference)
    plot_interaction_map(df, stage.out / "truth_pairs" / "interaction_map.svg",
                         f"{stage.name}: motif pairs over whole sequences")
    cmp = compare_with_truth(df, truth)
    print("planted pairs tested over whole sequences (epsilon: the model's; planted_epsilon: the "
          "planted rule's on the same variants):")
    print(cmp.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    hits = int((cmp["called"] == cmp["planted"]).sum())
    print(f"{hits}/{len(cmp)} planted pairs get their planted class "
          f"(-> {stage.out / 'truth_pairs' / 'motif_pair_stats.csv'})")
    aliases = family_aliases(stage.out.parent, {m["name"] for m in truth["motifs"]}) if layers else {}
    for L in layers:
        _print_layer_rows(stage.layer_dir(L), L, truth, aliases)
    return 0


def _print_layer_rows(layer_dir: Path, layer: int, truth: dict, aliases: dict[str, set[str]]) -> None:
    """The default run's calls for the planted pairs: candidates over whole sequences, then neurons."""
    path = layer_dir / "sequences" / "motif_pair_stats.csv"
    if path.is_file():
        cmp = compare_with_truth(pd.read_csv(path), truth, aliases)
        hits = int((cmp["called"] == cmp["planted"]).sum())
        print(f"conv{layer} candidate pairs over whole sequences (pairs --scope sequence, no hand labels):")
        print(cmp.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        print(f"{hits}/{len(cmp)} planted pairs tested and called right by the default run ({path})")
    path = layer_dir / "motif_pair_stats.csv"
    if path.is_file():
        print(f"conv{layer} neuron-level rows testing planted pairs:")
        print(compare_with_truth(pd.read_csv(path), truth).to_string(index=False))
