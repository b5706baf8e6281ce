"""The interaction stage: config, fragment location, per-neuron pair mutagenesis, the layer merge.

Outputs (``results/<model>/interaction/conv<L>/``): ``fragments.npz``,
``neuron<k>/fragment_location.yaml``, ``neuron<k>/labels.yaml`` (the labels
used), ``neuron<k>/pairs.csv`` and ``neuron<k>/observations.npz`` (per-sequence
f values, the unit files), and the merged ``motif_pair_stats.csv``,
``motif_pair_summary.csv`` (one row per motif pair over all neurons); the
command draws ``interaction_map.svg`` from the merged table
(:func:`combmotif.report.plots.plot_interaction_map`). ``pairs --scope sequence``
tests the layer's candidate motif-family pairs over whole sequences instead
(:func:`combmotif.interaction.candidates.run_layer_sequences` -> ``conv<L>/candidates.csv``,
``conv<L>/sequences/``). Automatic labels speak of the model's motif families
(:mod:`combmotif.motifs.families`, read from ``<model>/discovery/families.json``
or made on demand) when the discovery folder is the model's ``discovery``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from .. import layout
from ..config import path_field
from ..errors import InputError
from ..io import atomic_path, clean_partials, fault_point, save_npz, write_text
from ..maxact import MaxAct
from ..motifs.families import Family, FamilySettings, ensure_families, read_families
from ..paths import relative_path
from ..perturb import target_predictor
from ..run import RunConfig
from ..sequences import onehot_to_codes
from ..stage import Stage
from ..stamps import make_stamp, settings_of, unit_is_fresh, write_stamp
from .epistasis import CLASSES, STATS_COLUMNS, classify, pair_statistics, pair_summary
from .fragments import Fragments, fragment_codes, fragment_yaml, locate_fragments
from .labels import Combination, dedupe, family_labels, labels_yaml, propose_labels, read_labels
from .mutagenesis import mutagenesis
from .scope import sequence_texts
from .sites import plan_sites


@dataclass
class InteractionConfig(RunConfig):
    """``configs/interaction/<model>.yaml``: the run section (:class:`~combmotif.run.RunConfig`) and:"""

    fragment_threshold: float = 0.9
    max_fragment_sequences: int = 2000
    labels_dir: str | None = path_field(None)
    label_sources: list[str] = field(default_factory=lambda: ["hand", "auto", "template"])
    template: str | None = path_field(None)
    discovery_dir: str | None = path_field(None)
    label_ic: float = 0.5
    label_max_length: int = 8
    max_segments: int = 4
    min_cooccurrence: int = 10
    family_min_neurons: int = 2
    importance_top: int = 10                         # candidates: every pair of the top families by effect
    attribution_sequences: int = 1000                # TF-MoDISco on the output over this many (0: off)
    sequence_max_pair_sequences: int | None = None   # --scope sequence; None: max_pair_sequences
    sequence_replicates: int | None = None           # --scope sequence; None: replicates
    tomtom_q: float = 0.05
    replicates: int = 10
    max_redraws: int = 50
    max_pair_sequences: int = 500
    min_n: int = 6
    alpha: float = 0.05
    min_relative_epsilon: float = 0.0
    n_boot: int = 2000
    target_index: int = 0
    activation_tracks: Literal["zero", "keep"] = "zero"
    spacing_backgrounds: int = 100          # shuffled backgrounds per spacing scan
    spacing_max_gap: int | None = None      # None: the layer's receptive field minus both motifs
    spacing_anchor: int | Literal["centre"] = "centre"   # centre of the pair; negative: from the 3' end

    def validate(self) -> None:
        """Reject settings out of range (the config loader turns the error into one line)."""
        if not 0 < self.fragment_threshold <= 1:
            raise ValueError(f"'fragment_threshold' must be in (0, 1]; got {self.fragment_threshold}")
        bad = [s for s in self.label_sources if s not in ("hand", "auto", "template")]
        if bad or not self.label_sources:
            raise ValueError(f"'label_sources' entries must be hand, auto or template; got {bad or '[]'}")
        if self.replicates < 1 or self.max_redraws < 1 or self.min_n < 2:
            raise ValueError("'replicates' and 'max_redraws' must be >= 1, 'min_n' >= 2")
        if not 0 < self.alpha < 1 or self.min_relative_epsilon < 0:
            raise ValueError("'alpha' must be in (0, 1) and 'min_relative_epsilon' >= 0")
        # A count below 1 would select nothing and "finish" with empty tables.
        for key in ("max_fragment_sequences", "max_pair_sequences", "n_boot", "label_max_length",
                    "max_segments", "batch_size", "min_cooccurrence", "family_min_neurons",
                    "sequence_max_pair_sequences", "sequence_replicates"):
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise ValueError(f"'{key}' must be >= 1; got {getattr(self, key)}")
        if not 0 < self.tomtom_q <= 1:
            raise ValueError(f"'tomtom_q' must be in (0, 1]; got {self.tomtom_q}")
        if self.attribution_sequences < 0:
            raise ValueError(f"'attribution_sequences' must be >= 0 (0: no attribution motifs); got "
                             f"{self.attribution_sequences}")
        if self.importance_top < 0:
            raise ValueError(f"'importance_top' must be >= 0 (0: no importance pairs); got {self.importance_top}")
        if self.label_ic < 0 or self.target_index < 0:
            raise ValueError("'label_ic' and 'target_index' must be >= 0")
        if self.spacing_backgrounds < 2 or (self.spacing_max_gap or 0) < 0:
            raise ValueError(f"'spacing_backgrounds' must be >= 2 and 'spacing_max_gap' >= 0; got "
                             f"{self.spacing_backgrounds}, {self.spacing_max_gap}")
        self.validate_run()

    def check_inputs(self, source: str) -> None:
        """Check the label sources' files before any work (a template is read whole).

        A folder that does not exist yet is fine (no hand-written labels, no discovery
        run): those sources are skipped; one that is a file is an error.

        Parameters
        ----------
        source : str
            The config file, for the messages.
        """
        for key, wanted in (("labels_dir", "hand"), ("discovery_dir", "auto")):
            folder = getattr(self, key)
            if folder and wanted in self.label_sources and Path(folder).exists() and not Path(folder).is_dir():
                raise InputError(f"{source}: '{key}' = {folder}: is a file, not a folder")
        if self.template and "template" in self.label_sources:
            try:
                read_labels(self.template)
            except InputError as exc:
                raise InputError(f"{source}: 'template': {exc}") from None


def neuron_dir(stage: Stage, layer: int, neuron: int) -> Path:
    """``<results>/<model>/interaction/conv<L>/neuron<k>``.

    Parameters
    ----------
    stage : Stage
        The interaction stage.
    layer, neuron : int
        1-based conv layer, 0-based neuron.

    Returns
    -------
    Path
    """
    return layout.neuron_dir(stage.out, layer, neuron)


def discovery_dir(stage: Stage) -> Path:
    """The discovery results the labels and families come from (``discovery_dir`` or the model's).

    Parameters
    ----------
    stage : Stage
        The interaction stage.

    Returns
    -------
    Path
    """
    cfg = stage.cfg
    return Path(cfg.discovery_dir) if cfg.discovery_dir else layout.model_stage_dir(stage.out.parent,
                                                                                     "discovery")


def stage_families(stage: Stage, log=print) -> list[Family]:
    """The model's families: read, or made now from the discovery when missing.

    Parameters
    ----------
    stage : Stage
        The interaction stage.
    log : callable
        Told when they are made.

    Returns
    -------
    list of Family
        Empty without a discovery.
    """
    model_dir = discovery_dir(stage).parent
    found = read_families(model_dir)
    if found:
        return found
    cfg = stage.cfg
    settings = FamilySettings(q_max=cfg.tomtom_q, label_ic=cfg.label_ic,
                              label_max_length=cfg.label_max_length)
    return ensure_families(model_dir, settings, log=log)


def run_fragment_location(stage: Stage, layer: int, force: bool = False) -> Fragments:
    """``conv<L>/fragments.npz`` and ``neuron<k>/fragment_location.yaml`` for every neuron.

    Parameters
    ----------
    stage : Stage
        The interaction stage (model, data, config, results folder).
    layer : int
        1-based conv layer.
    force : bool
        Recompute even when fresh.

    Returns
    -------
    Fragments
    """
    cfg: InteractionConfig = stage.cfg
    clean_partials(stage.out, depth=0)   # a killed run's temporaries never survive a rerun
    clean_partials(stage.layer_dir(layer), depth=1)
    path = stage.layer_dir(layer) / "fragments.npz"
    if path.is_file() and not force and stage._fresh(path):
        with np.load(path) as z:
            same = ("max_sequences" in z.files and float(z["threshold"]) == cfg.fragment_threshold
                    and int(z["max_sequences"]) == cfg.max_fragment_sequences)
        if same:
            return Fragments.load(path)
    stage.search([layer])
    res = MaxAct.load(stage.maxact_path(layer))
    X, _, _ = stage.data
    frags = locate_fragments(stage.loaded.module, X, res, cfg.fragment_threshold,
                             max_sequences=cfg.max_fragment_sequences, batch_size=cfg.batch_size,
                             device=stage.device, zero_extra_tracks=cfg.activation_tracks == "zero",
                             progress=True)
    for k in range(len(res.neuron_max)):
        write_text(neuron_dir(stage, layer, k) / "fragment_location.yaml", fragment_yaml(frags.of(k)))
    codes = fragment_codes(onehot_to_codes(X), frags)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, fingerprint=np.array(stage.fingerprint), codes=codes,
                                max_sequences=np.array(cfg.max_fragment_sequences),
                                **{f: np.asarray(getattr(frags, f)) for f in
                                   ("layer", "threshold", "rf") + Fragments._ROWS})
    return frags


def resolve_labels(stage: Stage, layer: int, neuron: int,
                   families: Sequence | None = None) -> tuple[list[Combination], str]:
    """Combination labels of a neuron and where they came from (first source that has them).

    Proposed labels speak of the model's motif families when ``families`` are
    given (:func:`~combmotif.interaction.labels.family_labels`), else of the
    neuron's own segments (:func:`~combmotif.interaction.labels.propose_labels`).

    Parameters
    ----------
    stage : Stage
        The interaction stage (model, data, config, results folder).
    layer, neuron : int
        1-based conv layer, 0-based neuron.
    families : sequence of Family, optional
        The model's families (:mod:`combmotif.motifs.families`).

    Returns
    -------
    combos : list of Combination
    source : str
        Where they came from, paths relative to the neuron's folder.
    """
    cfg: InteractionConfig = stage.cfg
    # Sources are named relative to the neuron's folder, where labels.yaml records them.
    here = neuron_dir(stage, layer, neuron)
    for source in cfg.label_sources:
        if source == "hand" and cfg.labels_dir:
            for name in (f"conv{layer}_neuron{neuron}.yaml", f"conv{layer}/neuron{neuron}.yaml"):
                path = Path(cfg.labels_dir) / name
                if path.is_file():
                    return dedupe(read_labels(path)), f"hand-written {relative_path(path, here)}"
        if source == "auto":
            disc = discovery_dir(stage)
            ndir = layout.neuron_dir(disc, layer, neuron)
            if (ndir / "segments.meme").is_file() and families:
                seg_family = {m: f.id for f in families for m in f.members}
                combos = family_labels(ndir / "segments.meme", seg_family, families, cfg.max_segments)
                seg = relative_path(ndir / "segments.meme", here)
                return dedupe(combos), f"proposed from {seg} and the model's motif families"
            if (ndir / "segments.meme").is_file():
                combos = propose_labels(ndir / "segments.meme", ndir / "tomtom.tsv", cfg.label_ic,
                                        cfg.max_segments, cfg.tomtom_q, max_length=cfg.label_max_length)
                seg = relative_path(ndir / "segments.meme", here)
                return dedupe(combos), f"proposed from {seg} and tomtom.tsv"
        if source == "template" and cfg.template:
            return dedupe(read_labels(cfg.template)), f"template {relative_path(cfg.template, here)}"
    return [], "no labels (no hand-written file, no NeuronMotif segments, no template)"


def neuron_pairs(stage: Stage, layer: int, neuron: int, frags: Fragments,
                 combos: Sequence[Combination], texts: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    """Mutagenesis and raw statistics of every combination of one neuron.

    Parameters
    ----------
    stage : Stage
        The interaction stage (model, data, config, results folder).
    layer, neuron : int
        1-based conv layer, 0-based neuron.
    frags : Fragments
        The layer's fragments.
    combos : sequence of Combination
        The neuron's labels.
    texts : sequence of str
        The scanned sequences as text.

    Returns
    -------
    rows : pandas.DataFrame
        One row per combination (``pairs.csv``).
    arrays : dict
        Per-sequence predictions (``observations.npz``).
    """
    cfg: InteractionConfig = stage.cfg
    X, _, _ = stage.data
    mine = frags.of(neuron)
    ftexts = [texts[s][max(0, st):en] for s, st, en in zip(mine.seq.tolist(), mine.start.tolist(),
                                                          mine.end.tolist())]
    predict = target_predictor(stage)
    rows, arrays = [], {}
    for ci, combo in enumerate(combos):
        plan = plan_sites(ftexts, mine.seq, mine.start, combo, cfg.max_pair_sequences)
        rng = np.random.default_rng([cfg.seed, layer, neuron, ci])
        obs = mutagenesis(predict, X, texts, plan, combo, cfg.replicates, rng, cfg.max_redraws)
        row = pair_statistics(obs, cfg.min_n, cfg.n_boot, seed=cfg.seed + ci)
        row.update({"task": f"conv{layer}_neuron{neuron}", "layer": layer, "neuron": neuron,
                    "combination": combo.name, "motifA": "|".join(combo.motifA),
                    "motifB": "|".join(combo.motifB), "motifA_name": combo.nameA,
                    "motifB_name": combo.nameB})
        rows.append(row)
        for key in ("seq", "f_orig", "f_scrA", "f_scrB", "f_scrAB"):
            arrays[f"{combo.name}.{key}"] = getattr(obs, key)
    cols = [c for c in STATS_COLUMNS if c not in ("q", "interaction", "direction")]
    return pd.DataFrame(rows, columns=cols), arrays


UNIT_SETTINGS = ("fragment_threshold", "max_fragment_sequences", "replicates", "max_redraws",
                 "max_pair_sequences", "min_n", "n_boot", "seed", "target_index")


def run_pairs(stage: Stage, layer: int, neurons: Sequence[int], force: bool = False,
            log=print) -> pd.DataFrame:
    """Mutagenesis of the given neurons, then the layer merge.

    One neuron is a unit: ``labels.yaml``, ``observations.npz`` and ``pairs.csv``,
    then ``stamp.json`` (the weights and data fingerprint, the labels and the
    settings that shape it) written last and removed before the unit is redone.
    A unit whose stamp matches is skipped unless ``force``; one made otherwise,
    or without its stamp (a killed run's), is redone.

    Parameters
    ----------
    stage : Stage
        The interaction stage (model, data, config, results folder).
    layer : int
        1-based conv layer.
    neurons : sequence of int
        0-based neurons.
    force : bool
        Redo finished neurons.
    log : callable
        Progress messages.

    Returns
    -------
    pandas.DataFrame
        The merged layer (:func:`merge_layer`).
    """
    frags = run_fragment_location(stage, layer)
    X, _, _ = stage.data
    texts = None
    skipped = []
    families = stage_families(stage, log) if "auto" in stage.cfg.label_sources else []
    for k in neurons:
        ndir = neuron_dir(stage, layer, k)
        combos, source = resolve_labels(stage, layer, k, families)
        stamp = make_stamp(stage.fingerprint, settings_of(stage.cfg, UNIT_SETTINGS),
                           labels=labels_yaml(combos, ""))
        if unit_is_fresh(ndir / "stamp.json", stamp, force, output=ndir / "pairs.csv",
                         name=f"conv{layer} neuron{k}", log=log):
            skipped.append(k)
            continue
        (ndir / "stamp.json").unlink(missing_ok=True)   # unmarked until the unit is whole again
        n_frag = int((frags.neuron == k).sum())
        if combos and n_frag and texts is None:
            texts = sequence_texts(X)
        _write_pair_unit(stage, layer, k, frags, combos, source, texts, stamp, log)
    if skipped:
        log(f"conv{layer}: {len(skipped)} neurons already done, skipped "
            f"({_ranges(skipped)}; use --force to redo)")
    return merge_layer(stage, layer)


def _write_pair_unit(stage: Stage, layer: int, k: int, frags: Fragments, combos, source: str, texts,
                     stamp: dict, log) -> None:
    ndir = neuron_dir(stage, layer, k)
    n_frag = int((frags.neuron == k).sum())
    if combos and n_frag:
        df, arrays = neuron_pairs(stage, layer, k, frags, combos, texts)
    else:
        df, arrays = pd.DataFrame(columns=[c for c in STATS_COLUMNS
                                           if c not in ("q", "interaction", "direction")]), {}
    write_text(ndir / "labels.yaml", labels_yaml(combos, f"conv{layer} neuron{k}: {source}"))
    save_npz(ndir / "observations.npz", **arrays)
    with atomic_path(ndir / "pairs.csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    # The stamp goes last: it marks the unit whole.
    write_stamp(ndir / "stamp.json", stamp)
    tested = int(np.isfinite(pd.to_numeric(df["interaction-p"], errors="coerce")).sum()) if len(df) else 0
    log(f"conv{layer} neuron{k}: {n_frag} fragments, {len(combos)} combinations ({source}); "
        f"{tested} tested")
    fault_point("mutagenesis")


def _ranges(values: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    out, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            out.append(f"{start}-{v}" if v != start else f"{v}")
            start = None
    return ", ".join(out)


def _read_pairs(path: Path) -> pd.DataFrame:
    # Patterns such as "NA" must stay strings: only empty cells are missing.
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"motifA": str, "motifB": str, "motifA_name": str, "motifB_name": str,
                              "reason": str, "task": str, "combination": str})


def merge_layer(stage: Stage, layer: int) -> pd.DataFrame:
    """BH over every pair tested in the layer's neuron units -> motif_pair_stats.csv and summary.

    Parameters
    ----------
    stage : Stage
        The interaction stage (model, data, config, results folder).
    layer : int
        1-based conv layer.

    Returns
    -------
    pandas.DataFrame
        ``motif_pair_stats.csv``.
    """
    cfg: InteractionConfig = stage.cfg
    ldir = stage.layer_dir(layer)
    parts = [_read_pairs(p) for p in sorted(ldir.glob("neuron*/pairs.csv"),
                                            key=lambda p: int(p.parent.name.removeprefix("neuron")))]
    parts = [p for p in parts if len(p)]
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=[c for c in STATS_COLUMNS if c not in ("q", "interaction", "direction")])
    df = classify(df, cfg.alpha, cfg.min_relative_epsilon)[STATS_COLUMNS]
    with atomic_path(ldir / "motif_pair_stats.csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(ldir / "motif_pair_summary.csv") as tmp:
        pair_summary(df).to_csv(tmp, index=False, float_format="%.6g")
    return df


def summary_line(df: pd.DataFrame, layer: int) -> str:
    """One line counting a layer's pairs per class.

    Parameters
    ----------
    df : pandas.DataFrame
        The layer's ``motif_pair_stats.csv``.
    layer : int
        1-based conv layer.

    Returns
    -------
    str
    """
    c = df["interaction"].value_counts() if len(df) else {}
    return (f"conv{layer}: {len(df)} pairs: " +
            ", ".join(f"{c.get(k, 0)} {k}" for k in CLASSES))
