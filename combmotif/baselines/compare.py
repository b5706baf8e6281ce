"""NeuronMotif against the baselines on one model: runs, one matching step, figures, one page.

``motif_discovery/compare.sh <config>`` (config: ``configs/others/method_compare.yaml``)

1. **Runs** every enabled method on the same layers and neurons (finished
   units are skipped; ``--force`` redoes them), timing each:
   NeuronMotif (:mod:`combmotif.neuronmotif`, into its usual
   ``results/<model>/discovery``), max-activation seqlets, class
   optimization (``results/<model>/baselines/<method>/conv<L>/neuron<k>``;
   ``output/`` for the model output) and TF-MoDISco (``baselines/modisco/output``).
2. **Matching**: every method's motif segments go to one Tomtom call against
   one database, with q-values per segment over the database (MEME tomtom's
   definition, whichever backend runs), so a q-value depends on the match
   alone, not on how many segments a method produced. Nothing is written into
   the methods' own folders (NeuronMotif's ``matches.csv`` stays as its stage
   wrote it; note that its memelite q-values are corrected over a whole layer
   and are therefore larger).
3. **Tables and figures** in ``results/<model>/compare/``:

   - ``counts.csv``: distinct database motifs matched at q < ``significance``
     (0.01) per method and layer; near-duplicate database motifs are merged
     first (:func:`combmotif.motifs.collect.database_groups`), so a method
     gets one count for "HNRNPA1" however many ATtRACT copies it hits.
   - ``best_q.csv`` + ``best_q.png``: per method, -log10 q of its best match
     to each database motif (group) it found; ``tests.csv``: paired Wilcoxon
     signed-rank tests of NeuronMotif against each baseline on the groups
     both found and on the groups every method found (unit of replication: a
     database motif group), BH-corrected over the baselines.
   - ``overlap.csv`` + ``overlap.png``: which methods found which groups (UpSet plot).
   - ``recovery.csv`` (synthetic sets, with ``truth``): each planted motif per
     method: recovered when one of the method's segments matches it (or a
     database motif merged with it) at q < ``recovery_q`` (0.05), or when a
     segment's consensus has >= ``min_identity`` (80 %) identity to it.
   - ``runtime.csv``: seconds per method and layer (of the run that computed it).
   - ``index.html``: all of the above on one page.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..checkpoint import check_device
from ..config import check_selection, load_config, parse_range, path_field, to_dict
from ..errors import ConfigError, InputError
from ..io import atomic_path, check_output_dir, clean_partials, write_json, write_text
from ..maxact import DataSpec, load_dataset
from ..models.anatomy import Anatomy
from ..models.loader import LoadedModel, ModelSpec, load_model, model_fingerprint
from ..motifs.collect import database_groups
from ..motifs.databases import check_motif_db, motif_db_text, resolve_motif_db
from ..motifs.formats import Motif
from ..motifs.match import MatchConfig, load_neuron, neuron_dirs
from ..motifs.tomtom import tomtom
from ..neuronmotif.ppm import PPMConfig
from ..neuronmotif.recovery import load_truth, motif_identity
from .class_optimization import ClassOptConfig, run_class_optimization
from .common import OUTPUT, layer_folder
from .max_seqlet import MaxSeqletConfig, run_max_seqlet
from .modisco import ModiscoConfig, run_modisco

METHODS = ("neuronmotif", "max_seqlet", "modisco", "class_optimization")
LABELS = {"neuronmotif": "NeuronMotif", "max_seqlet": "max-activation seqlets",
          "modisco": "TF-MoDISco", "class_optimization": "class optimization"}
REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- config


@dataclass
class NeuronMotifSection:
    enabled: bool = True
    config: str | None = path_field(None)   # discovery config: its results folder and settings
    run: bool = True                         # run discovery for selected neurons not yet done


@dataclass
class MaxSeqletSection(MaxSeqletConfig):
    enabled: bool = True


@dataclass
class ModiscoSection(ModiscoConfig):
    enabled: bool = True


@dataclass
class ClassOptSection(ClassOptConfig):
    enabled: bool = True


@dataclass
class MethodsConfig:
    neuronmotif: NeuronMotifSection = field(default_factory=NeuronMotifSection)
    max_seqlet: MaxSeqletSection = field(default_factory=MaxSeqletSection)
    modisco: ModiscoSection = field(default_factory=ModiscoSection)
    class_optimization: ClassOptSection = field(default_factory=ClassOptSection)

    def enabled(self) -> list[str]:
        return [m for m in METHODS if getattr(self, m).enabled]


@dataclass
class CompareConfig:
    """``configs/others/method_compare*.yaml``."""

    model: ModelSpec
    layers: list[int]
    name: str | None = None
    output_dir: str | None = path_field(None)      # results root (default: <repo>/results)
    seed: int = 0
    device: str = "auto"
    neurons: str | list[int] = "all"                # the same neurons for every layer-wise method
    data: DataSpec = field(default_factory=DataSpec)
    truth: str | None = path_field(None)            # truth.json of a synthetic set, or a hand-written truth
    motif_db: str | list[str] = "curated"           # e.g. planted+curated or a list; 'planted' reads truth's folder
    significance: float = 0.01                      # q below which a database motif counts as matched
    recovery_q: float = 0.05                        # q below which a planted motif counts as recovered
    min_identity: float = 0.8                       # ... or segment consensus identity at least this
    merge_q: float = 0.01                           # near-duplicate database motifs: mutual Tomtom q
    match: MatchConfig = field(default_factory=MatchConfig)
    ppm: PPMConfig = field(default_factory=PPMConfig)   # segment cutting for the baselines' PPMs
    methods: MethodsConfig = field(default_factory=MethodsConfig)
    batch_size: int = 1024

    def validate(self) -> None:
        if not self.layers or any(L < 1 for L in self.layers):
            raise ValueError("'layers' must list conv layer numbers >= 1")
        if not self.methods.enabled():
            raise ValueError("no method enabled under 'methods'")
        for v in (self.significance, self.recovery_q, self.merge_q):
            if not 0 < v <= 1:
                raise ValueError("'significance', 'recovery_q' and 'merge_q' must be in (0, 1]")
        check_selection(self.neurons, "neurons")
        check_device(self.device)


def load_compare_config(path: str | Path, overrides: dict | None = None) -> CompareConfig:
    return load_config(path, CompareConfig, overrides)


# --------------------------------------------------------------------------- running the methods


class Comparison:
    """One model, its methods' result folders, and the comparison folder."""

    def __init__(self, cfg: CompareConfig, log=None, base_dir: str | Path | None = None,
                 loaded: LoadedModel | None = None, data: np.ndarray | None = None):
        """``loaded`` / ``data`` replace the config's model and sequences (for tests and benches)."""
        self.cfg = cfg
        self.base_dir = Path(base_dir) if base_dir else None   # the config's folder (motif_db files)
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        torch.manual_seed(cfg.seed)
        self.loaded: LoadedModel = loaded or load_model(cfg.model, cfg.device)
        self.name = cfg.name or self.loaded.name
        root = Path(cfg.output_dir) if cfg.output_dir else REPO_ROOT / "results"
        self.model_dir = root / self.name
        self.out = self.model_dir / "compare"
        self.anatomy = Anatomy(self.loaded.module)
        for L in cfg.layers:
            if not 1 <= L <= len(self.anatomy):
                raise InputError(f"'layers' = {cfg.layers}: layer {L} does not exist: "
                                 f"{cfg.model.checkpoint or cfg.model.keras_hdf5 or self.name} "
                                 f"has conv1..conv{len(self.anatomy)}")
        self._data = data
        self._dcfg = None

    # -- selections and folders
    def neurons(self, layer: int, n: int | None = None) -> list[int]:
        n = self.anatomy.layer(layer).out_channels if n is None else n
        try:
            return parse_range(self.cfg.neurons, n)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"'neurons' = {self.cfg.neurons!r} for conv{layer}: {exc}") from None

    def preflight(self, source: str) -> None:
        """Check, before any method runs, what the comparison reads and where it writes:
        the output folder, every layer's neuron selection, the NeuronMotif config, the
        truth file and the motif database (read whole).

        Raises
        ------
        combmotif.errors.CombMotifError
            One message naming ``source`` (the config file), the key and the value.
        """
        cfg = self.cfg
        check_output_dir(self.model_dir, source, "output_dir")
        for L in cfg.layers:
            try:
                self.neurons(L)
            except ConfigError as exc:
                raise ConfigError(f"{source}: {exc}") from None
        if cfg.methods.neuronmotif.enabled:
            self.discovery_config   # reads methods.neuronmotif.config and checks its model
            check_output_dir(self.discovery_dir, source, "methods.neuronmotif.config")
        if cfg.truth:
            try:
                load_truth(cfg.truth)
            except (InputError, ValueError) as exc:   # ValueError: not JSON
                raise InputError(f"{source}: 'truth' = {cfg.truth}: {exc}") from None
        check_motif_db(cfg.motif_db, source, "motif_db", data_dir=_data_dir(self), base_dir=self.base_dir)
        if cfg.methods.modisco.enabled or (cfg.methods.max_seqlet.enabled
                                           and cfg.methods.max_seqlet.source == "data"):
            self.data   # read (and kept) now, not after NeuronMotif has run

    def method_dir(self, method: str) -> Path:
        if method == "neuronmotif":
            return self.discovery_dir
        return self.model_dir / "baselines" / method

    @property
    def discovery_config(self):
        from ..neuronmotif.discover import DiscoveryConfig, load_discovery_config

        if self._dcfg is None:
            sec = self.cfg.methods.neuronmotif
            model_path = self.cfg.model.checkpoint or self.cfg.model.keras_hdf5
            if sec.config:
                dcfg = load_discovery_config(sec.config)
                if model_path and dcfg.model_file.resolve() != Path(model_path).resolve():
                    raise ConfigError(f"methods.neuronmotif.config {sec.config} interprets {dcfg.model_file}, "
                                      f"not this comparison's model {model_path}")
            else:
                dcfg = DiscoveryConfig(model=self.cfg.model, name=self.name,
                                       output_dir=str(self.model_dir.parent), seed=self.cfg.seed)
            dcfg.layers.ind = self.cfg.neurons
            dcfg.layers.per_layer = {}
            self._dcfg = dcfg
        return self._dcfg

    @property
    def discovery_dir(self) -> Path:
        return self.discovery_config.discovery_dir()

    @property
    def data(self) -> np.ndarray:
        if self._data is None:
            X, _, meta = load_dataset(self.cfg.data, self.loaded.ckpt, self.loaded.seq_len,
                                      encode=self.loaded.encode)
            self.log(f"data: {meta['n']:,} sequences from {meta['path']} ({meta['split']})")
            self._data = X
        return self._data

    def layers_of(self, method: str) -> list[int | str]:
        """Layer folders a method produces under this config."""
        if method == "modisco":
            return sorted({t for t in (_target_layer(s) for s in self.cfg.methods.modisco.targets)},
                          key=_layer_order)
        layers: list[int | str] = list(self.cfg.layers)
        if method == "class_optimization" and self.cfg.methods.class_optimization.output:
            layers.append(OUTPUT)
        return layers

    def units(self, method: str, layer: int | str) -> list[int] | None:
        """The unit folders (``neuron<k>``) of a method's layer that this config compares (None: all)."""
        if method == "modisco":
            from .modisco import parse_target
            return [k for L, k in map(parse_target, self.cfg.methods.modisco.targets) if L == layer]
        if layer == OUTPUT:
            idx = self.cfg.methods.class_optimization.output_index
            return None if idx is None else [idx]
        return self.neurons(int(layer))

    # -- runs
    def run(self, force: bool = False) -> list[dict]:
        """Run every enabled method; return run records (method, layer, units, computed, seconds)."""
        cfg = self.cfg
        module = self.loaded.module
        device = next(module.parameters()).device
        records: list[dict] = []
        weights = model_fingerprint(module)
        all_force = force
        # a killed run's temporaries never survive a rerun (NeuronMotif's layers clean their own)
        clean_partials(self.model_dir / "baselines", depth=3)
        clean_partials(self.out, depth=2)
        for method in cfg.methods.enabled():
            self.log(f"{LABELS[method]}: running")
            force = all_force
            if method != "neuronmotif":   # NeuronMotif's layers check their own fingerprint
                stamp = self.method_dir(method) / "run.json"
                record = {"model_fingerprint": weights, "seed": cfg.seed, "ppm": to_dict(cfg.ppm),
                          "data": to_dict(cfg.data, relative_to=stamp.parent),
                          "method": to_dict(getattr(cfg.methods, method), relative_to=stamp.parent)}
                record = json.loads(json.dumps(record))
                old = json.loads(stamp.read_text()) if stamp.is_file() else None
                if old != record and not force:
                    if old is not None or self.method_dir(method).exists():
                        self.log(f"{LABELS[method]}: the model or its settings are not those of the "
                                 f"saved results; redoing them")
                    force = True
            if method == "neuronmotif":
                records += self._run_neuronmotif(force)
            elif method == "max_seqlet":
                sec = cfg.methods.max_seqlet
                for L in cfg.layers:
                    records.append(run_max_seqlet(
                        module, L, self.method_dir(method), sec, self.neurons(L),
                        X=self.data if sec.source == "data" else None,
                        discovery_dir=self.discovery_dir, device=device, ppm_cfg=cfg.ppm, force=force))
            elif method == "modisco":
                records += run_modisco(module, self.method_dir(method), cfg.methods.modisco, self.data,
                                       self.loaded.in_channels, cfg.seed, cfg.ppm, force)
            else:
                records += run_class_optimization(
                    module, self.method_dir(method), cfg.methods.class_optimization, cfg.layers,
                    lambda L, n: self.neurons(L, n), self.loaded.in_channels, self.loaded.seq_len,
                    cfg.seed, cfg.ppm, force)
            if method != "neuronmotif":   # stamped once complete: a killed run redoes it all
                write_json(stamp, record)
        for r in records:
            r["device"] = str(device)
            if r["computed"]:
                write_json(self.out / "runtime" / f"{r['method']}-{layer_folder(r['layer'])}.json",
                           {k: r[k] for k in ("method", "layer", "units", "computed", "seconds", "device")})
        return records

    def _run_neuronmotif(self, force: bool) -> list[dict]:
        from ..neuronmotif.discover import discover_layer, made_with_other_weights

        sec = self.cfg.methods.neuronmotif
        out = []
        for L in self.cfg.layers:
            layer_dir = self.discovery_dir / f"conv{L}"
            want = self.neurons(L)
            missing = [k for k in want if not (layer_dir / f"neuron{k}" / "clusters.json").is_file()]
            redo = force
            if made_with_other_weights(layer_dir, self.loaded.module):
                if sec.run:
                    redo = True
                    self.log(f"NeuronMotif: conv{L} was made with other weights; redoing it")
                else:
                    self.log(f"NeuronMotif: conv{L} was made with other weights than this model's "
                             "(methods.neuronmotif.run is false); comparing it anyway")
            if (missing or redo) and sec.run:
                t0 = time.perf_counter()
                discover_layer(self.loaded.module, L, self.discovery_config, self.discovery_dir, force=redo,
                               progress=True, log=self.log)
                out.append({"method": "neuronmotif", "layer": L, "units": len(want),
                            "computed": len(want) if redo else len(missing),
                            "seconds": time.perf_counter() - t0})
            else:
                if missing:
                    self.log(f"NeuronMotif: conv{L} lacks {len(missing)} selected neurons "
                             "(methods.neuronmotif.run is false); comparing the ones present")
                out.append({"method": "neuronmotif", "layer": L, "units": len(want), "computed": 0,
                            "seconds": None})
        return out


def _target_layer(spec: str) -> int | str:
    from .modisco import parse_target
    return parse_target(spec)[0]


def _layer_order(layer: int | str) -> tuple[int, int]:
    return (1, 0) if layer == OUTPUT else (0, int(layer))


# --------------------------------------------------------------------------- matching


SEGMENT_COLUMNS = ["method", "layer", "neuron", "cluster", "segment", "consensus", "length", "information"]
MATCH_COLUMNS = ["method", "layer", "neuron", "cluster", "segment", "rank", "target", "target_source",
                 "q", "p", "offset", "overlap", "segment_consensus", "target_consensus"]


def layer_segments(layer_dir: str | Path, neurons: Sequence[int] | None = None
                   ) -> tuple[list[Motif], pd.DataFrame]:
    """Every motif segment of a layer folder (query motifs named ``neuron<k>/<segment>``) and a table."""
    queries, rows = [], []
    layer_dir = Path(layer_dir)
    if not layer_dir.is_dir():
        return [], pd.DataFrame(columns=SEGMENT_COLUMNS[2:])
    keep = None if neurons is None else set(int(k) for k in neurons)
    for k, path in neuron_dirs(layer_dir):
        if keep is not None and k not in keep:
            continue
        if not (path / "clusters.json").is_file():
            continue
        nr = load_neuron(path)
        for seg in nr.segments:
            queries.append(dataclasses.replace(seg.motif, name=f"neuron{k}/{seg.name}"))
            rows.append({"neuron": k, "cluster": -1 if seg.cluster is None else seg.cluster,
                         "segment": seg.name, "consensus": seg.motif.consensus, "length": len(seg.motif),
                         "information": round(seg.motif.total_information, 3)})
    return queries, pd.DataFrame(rows, columns=SEGMENT_COLUMNS[2:])


def match_segments(queries: Sequence[Motif], targets: Sequence[Motif], cfg: MatchConfig) -> pd.DataFrame:
    """One Tomtom call; the best ``cfg.top_k`` targets per segment with q <= ``cfg.thresh``.

    With the default ``q_scope: query`` q-values are Benjamini-Hochberg over
    each segment's comparisons with the database (MEME tomtom's own definition,
    whichever backend runs), so a segment's q depends on its match alone: not on
    how many segments its method produced, nor on the other methods' segments.
    """
    cols = [c for c in MATCH_COLUMNS[2:] if c != "cluster"]
    if not queries:
        return pd.DataFrame(columns=cols)
    kw = {"min_query_mean_ic": cfg.min_query_mean_ic} if hasattr(cfg, "min_query_mean_ic") else {}
    df = tomtom(queries, targets, backend=cfg.tomtom_backend, norc=cfg.norc, dist=cfg.dist,
                min_query_ic=cfg.min_query_ic, thresh=None, q_scope=cfg.q_scope,
                n_jobs=cfg.n_jobs, **kw)
    if not len(df):
        return pd.DataFrame(columns=cols)
    df = df[df["q-value"] <= cfg.thresh].sort_values(["Query_ID", "p-value", "Target_ID"], kind="stable")
    # Keep the segments' order of appearance.
    order = {name: i for i, name in enumerate(m.name for m in queries)}
    df = df.assign(_o=df["Query_ID"].map(order)).sort_values(["_o", "p-value"], kind="stable")
    df = df.groupby("Query_ID", sort=False).head(cfg.top_k)
    src = {t.name: t.source for t in targets}
    # Query ids end in "neuron<k>/<segment>"; anything before is kept in front of the segment.
    qid = df["Query_ID"].str.rsplit("/", n=2)
    head = qid.str[0].where(qid.str.len() == 3, "")
    neuron = qid.str[-2]
    out = pd.DataFrame({
        "neuron": neuron.str.removeprefix("neuron").astype(int),
        "segment": (head + "/").where(head != "", "") + qid.str[-1],
        "rank": df.groupby("Query_ID", sort=False).cumcount() + 1, "target": df["Target_ID"],
        "target_source": df["Target_ID"].map(src).fillna(""), "q": df["q-value"], "p": df["p-value"],
        "offset": df["Optimal_offset"], "overlap": df["Overlap"],
        "segment_consensus": df["Query_consensus"], "target_consensus": df["Target_consensus"]})
    return out.reset_index(drop=True)


def match_all(comp: Comparison, targets: Sequence[Motif]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments and matches of every method and layer present (only the selected neurons).

    All methods' segments go to Tomtom in one call (:func:`match_segments`).
    """
    segs, queries = [], []
    for method in comp.cfg.methods.enabled():
        for layer in comp.layers_of(method):
            if method == "neuronmotif" and layer == OUTPUT:
                continue
            layer_dir = comp.method_dir(method) / layer_folder(layer)
            qs, table = layer_segments(layer_dir, comp.units(method, layer))
            prefix = f"{method}/{layer_folder(layer)}/"
            queries += [dataclasses.replace(q, name=prefix + q.name) for q in qs]
            table = table.copy()
            table.insert(0, "layer", layer_folder(layer))
            table.insert(0, "method", method)
            segs.append(table)
    seg = pd.concat(segs, ignore_index=True) if segs else pd.DataFrame(columns=SEGMENT_COLUMNS)
    seg = seg[SEGMENT_COLUMNS].astype({"neuron": int, "cluster": int, "length": int})
    m = match_segments(queries, targets, comp.cfg.match)
    if len(m):
        parts = m["segment"].str.split("/", n=2)
        m = m.assign(method=parts.str[0], layer=parts.str[1], segment=parts.str[2])
        key = seg.set_index(["method", "layer", "neuron", "segment"])["cluster"]
        idx = pd.MultiIndex.from_frame(m[["method", "layer", "neuron", "segment"]])
        m["cluster"] = key.reindex(idx).fillna(-1).astype(int).to_numpy()
    else:
        m = pd.DataFrame(columns=MATCH_COLUMNS)
    m = m[MATCH_COLUMNS].astype({"neuron": int, "cluster": int, "rank": int})
    for method in comp.cfg.methods.enabled():
        for layer in comp.layers_of(method):
            n_seg = int(((seg["method"] == method) & (seg["layer"] == layer_folder(layer))).sum())
            hit = m[(m["method"] == method) & (m["layer"] == layer_folder(layer))]
            comp.log(f"{LABELS[method]}, {layer_folder(layer)}: {n_seg} segments, "
                     f"{hit[['neuron', 'segment']].drop_duplicates().shape[0]} matched at "
                     f"q <= {comp.cfg.match.thresh}")
    return seg, m.reset_index(drop=True)


# --------------------------------------------------------------------------- tables


def best_per_group(matches: pd.DataFrame, groups: dict[str, int], significance: float) -> pd.DataFrame:
    """(method, group) -> best q, its target, where it was found; only q < ``significance``."""
    cols = ["method", "group", "q", "neglog10_q", "target", "layer", "neuron", "segment"]
    hits = matches[matches["q"] < significance]
    if not len(hits):
        return pd.DataFrame(columns=cols)
    hits = hits.assign(group=hits["target"].map(groups))
    if hits["group"].isna().any():
        raise InputError("a match names a target that is not in the database")
    best = hits.sort_values(["method", "group", "q", "layer", "neuron"], kind="stable") \
        .groupby(["method", "group"], sort=False).head(1)
    best = best.assign(group=best["group"].astype(int),
                       # rounded: equal matches must not differ by float noise in the paired tests
                       neglog10_q=np.round(-np.log10(np.clip(best["q"].to_numpy(float), 1e-300, None)), 6))
    return best[cols].reset_index(drop=True)


def count_table(matches: pd.DataFrame, groups: dict[str, int], significance: float,
                methods: Sequence[str], layers: Sequence[str]) -> pd.DataFrame:
    """Distinct database motif groups matched at q < ``significance``, per method and layer (+ all)."""
    hits = matches[matches["q"] < significance]
    hits = hits.assign(group=hits["target"].map(groups))
    rows = []
    for m in methods:
        h = hits[hits["method"] == m]
        row = {"method": m}
        for L in layers:
            row[L] = int(h.loc[h["layer"] == L, "group"].nunique())
        row["all layers"] = int(h["group"].nunique())
        rows.append(row)
    return pd.DataFrame(rows, columns=["method", *layers, "all layers"])


def paired_tests(best: pd.DataFrame, methods: Sequence[str], reference: str = "neuronmotif") -> pd.DataFrame:
    """Wilcoxon signed-rank tests of ``reference`` vs every other method on -log10 q.

    Two families: the groups found by both methods (``both``) and the groups
    found by every method (``all methods``). The unit is a database motif
    group; BH over the baselines within each family. Fewer than 5 pairs or
    no non-zero difference: no test (NaN).
    """
    from scipy.stats import wilcoxon

    from ..stats import bh_qvalues

    cols = ["reference", "method", "set", "n", "median_reference", "median_method", "median_difference",
            "statistic", "p", "q"]
    if reference not in methods:
        return pd.DataFrame(columns=cols)
    wide = best.pivot_table(index="group", columns="method", values="neglog10_q", aggfunc="max")
    everyone = wide.dropna(subset=[m for m in methods if m in wide.columns]).index \
        if all(m in wide.columns for m in methods) else pd.Index([])
    rows = []
    for kind in ("both", "all methods"):
        part = []
        for m in methods:
            if m == reference:
                continue
            if reference in wide.columns and m in wide.columns:
                sub = wide[[reference, m]].dropna()
                if kind == "all methods":
                    sub = sub.loc[sub.index.intersection(everyone)]
            else:
                sub = pd.DataFrame(columns=[reference, m])
            x, y = sub[reference].to_numpy(float), sub[m].to_numpy(float)
            stat = p = float("nan")
            if len(x) >= 5 and np.any(x != y):
                res = wilcoxon(x, y)
                stat, p = float(res.statistic), float(res.pvalue)
            part.append({"reference": reference, "method": m, "set": kind, "n": len(x),
                         "median_reference": float(np.median(x)) if len(x) else float("nan"),
                         "median_method": float(np.median(y)) if len(y) else float("nan"),
                         "median_difference": float(np.median(x - y)) if len(x) else float("nan"),
                         "statistic": stat, "p": p})
        q = bh_qvalues(np.array([r["p"] for r in part], dtype=float)) if part else []
        for r, qq in zip(part, q):
            r["q"] = float(qq)
        rows += part
    return pd.DataFrame(rows, columns=cols)


def overlap_table(best: pd.DataFrame, methods: Sequence[str], representative: dict[int, str]) -> pd.DataFrame:
    """One row per matched group: which methods found it and their best q."""
    cols = ["group", "representative", "n_methods", *[f"q_{m}" for m in methods]]
    if not len(best):
        return pd.DataFrame(columns=cols)
    wide = best.pivot_table(index="group", columns="method", values="q", aggfunc="min")
    rows = []
    for g, r in wide.iterrows():
        row = {"group": int(g), "representative": representative.get(int(g), str(g))}
        row["n_methods"] = int(sum(pd.notna(r.get(m)) for m in methods))
        for m in methods:
            row[f"q_{m}"] = float(r[m]) if m in wide.columns and pd.notna(r[m]) else float("nan")
        rows.append(row)
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values(["n_methods", "group"], ascending=[False, True], kind="stable").reset_index(drop=True)


def recovery_long(truth: str | Path | dict, segments: pd.DataFrame, matches: pd.DataFrame,
                  groups: dict[str, int], methods: Sequence[str], recovery_q: float = 0.05,
                  min_identity: float = 0.8) -> pd.DataFrame:
    """Planted motif x method: recovered by Tomtom (q < ``recovery_q`` against the planted motif or a
    database motif merged with it) or by consensus identity (>= ``min_identity``)."""
    motifs = load_truth(truth)
    cols = ["motif", "consensus", "method", "recovered", "by", "best_q", "q_hit", "identity", "identity_hit"]
    rows = []
    for mt in motifs:
        name = mt.get("name", mt["consensus"])
        pat = mt["consensus"].upper().replace("U", "T")
        g = groups.get(name)
        same = {t for t, gg in groups.items() if g is not None and gg == g} or {name}
        for method in methods:
            mm = matches[(matches["method"] == method) & matches["target"].isin(same)]
            if len(mm):
                b = mm.loc[mm["q"].idxmin()]
                best_q, q_hit = float(b["q"]), f"{b['layer']}/neuron{b['neuron']}/{b['segment']}"
            else:
                best_q, q_hit = float("nan"), ""
            ss = segments[segments["method"] == method]
            ident, ihit = 0.0, ""
            if len(ss):
                scores = [motif_identity(pat, c)[0] for c in ss["consensus"]]
                i = int(np.argmax(scores))
                ident = float(scores[i])
                r = ss.iloc[i]
                ihit = f"{r['layer']}/neuron{r['neuron']}/{r['segment']} ({r['consensus']})"
            by_q = bool(np.isfinite(best_q) and best_q < recovery_q)
            by_id = ident >= min_identity
            rows.append({"motif": name, "consensus": pat, "method": method, "recovered": by_q or by_id,
                         "by": "+".join(w for w, ok in (("tomtom", by_q), ("identity", by_id)) if ok),
                         "best_q": best_q, "q_hit": q_hit, "identity": round(ident, 3), "identity_hit": ihit})
    return pd.DataFrame(rows, columns=cols)


def runtime_table(comp: Comparison, records: Sequence[dict] = ()) -> pd.DataFrame:
    """Seconds per method and layer: this run's records, else what an earlier run stored."""
    rows = {}
    for f in sorted((comp.out / "runtime").glob("*.json")):
        r = json.loads(f.read_text())
        rows[(r["method"], layer_folder(r["layer"]))] = r
    for r in records:
        if r["computed"]:
            rows[(r["method"], layer_folder(r["layer"]))] = r
    out = []
    for method in comp.cfg.methods.enabled():
        for layer in comp.layers_of(method):
            r = rows.get((method, layer_folder(layer)))
            sec = r["seconds"] if r else None
            n = r["computed"] if r else None
            out.append({"method": method, "layer": layer_folder(layer),
                        "units": r["units"] if r else None, "computed": n,
                        "seconds": round(sec, 3) if sec is not None else None,
                        "seconds_per_unit": round(sec / n, 4) if sec is not None and n else None,
                        "device": r.get("device", "") if r else ""})
    return pd.DataFrame(out, columns=["method", "layer", "units", "computed", "seconds", "seconds_per_unit",
                                      "device"])


# --------------------------------------------------------------------------- figures


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110)


def _save_png(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": None})
    return path


def box_plot(best: pd.DataFrame, methods: Sequence[str], path: Path, significance: float) -> Path:
    """-log10 q of each method's best match per database motif group (box + points)."""
    fig = _figure(1.5 + 1.6 * len(methods), 3.6)
    ax = fig.subplots()
    data = [best.loc[best["method"] == m, "neglog10_q"].to_numpy(float) for m in methods]
    pos = np.arange(1, len(methods) + 1)
    nonempty = [i for i, d in enumerate(data) if len(d)]
    if nonempty:
        ax.boxplot([data[i] for i in nonempty], positions=pos[nonempty], widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)   # fixed jitter: same figure every run
    for i, d in enumerate(data):
        ax.scatter(pos[i] + rng.uniform(-0.15, 0.15, len(d)), d, s=12, alpha=0.6, color="#1f5fa8", zorder=3)
    ax.axhline(-math.log10(significance), color="0.6", ls="--", lw=0.8)
    ax.set_ylim(bottom=0)
    ax.set_xticks(pos)
    ax.set_xticklabels([f"{LABELS[m]}\n(n={len(d)})" for m, d in zip(methods, data)], fontsize=8)
    ax.set_ylabel("-log10 q of best match")
    ax.set_title("Best Tomtom match per database motif (group) found", fontsize=9, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _save_png(fig, path)


def upset_plot(best: pd.DataFrame, methods: Sequence[str], path: Path) -> Path:
    """UpSet plot: database motif groups found by exactly each combination of methods."""
    sets = {m: set(best.loc[best["method"] == m, "group"].astype(int)) for m in methods}
    combos = []
    for r in range(len(methods), 0, -1):
        for combo in itertools.combinations(methods, r):
            inside = set.intersection(*(sets[m] for m in combo))
            outside = set().union(*(sets[m] for m in methods if m not in combo))
            n = len(inside - outside)
            if n:
                combos.append((combo, n))
    combos.sort(key=lambda c: (-c[1], -len(c[0])))
    fig = _figure(2.5 + 0.5 * max(len(combos), 3), 1.6 + 0.35 * len(methods) + 1.6)
    gs = fig.add_gridspec(2, 2, height_ratios=[2.2, 0.35 * len(methods) + 0.3], width_ratios=[1, 4],
                          hspace=0.05, wspace=0.05)
    ax_bar = fig.add_subplot(gs[0, 1])
    ax_dot = fig.add_subplot(gs[1, 1], sharex=ax_bar)
    ax_size = fig.add_subplot(gs[1, 0])
    x = np.arange(len(combos))
    if combos:
        ax_bar.bar(x, [n for _, n in combos], color="#444", width=0.6)
        for xi, (_, n) in zip(x, combos):
            ax_bar.text(xi, n, str(n), ha="center", va="bottom", fontsize=8)
    else:
        ax_bar.text(0.5, 0.5, "no database motif matched", transform=ax_bar.transAxes, ha="center")
    ax_bar.set_ylabel("motif groups")
    ax_bar.tick_params(labelbottom=False)
    for side in ("top", "right"):
        ax_bar.spines[side].set_visible(False)
    y = np.arange(len(methods))[::-1]
    for xi, (combo, _) in zip(x, combos):
        on = [y[methods.index(m)] for m in combo]
        ax_dot.scatter(np.full(len(y), xi), y, color="0.85", s=40)
        ax_dot.scatter(np.full(len(on), xi), on, color="#222", s=40)
        if len(on) > 1:
            ax_dot.plot([xi, xi], [min(on), max(on)], color="#222", lw=1.5)
    ax_dot.set_yticks(y)
    ax_dot.set_yticklabels([LABELS[m] for m in methods], fontsize=8)
    ax_dot.set_xticks([])
    ax_dot.set_xlim(-0.6, max(len(combos), 1) - 0.4)
    ax_dot.set_ylim(-0.6, len(methods) - 0.4)
    for side in ("top", "right", "bottom", "left"):
        ax_dot.spines[side].set_visible(False)
    ax_dot.yaxis.tick_right()
    ax_size.barh(y, [len(sets[m]) for m in methods], color="#1f5fa8", height=0.5)
    ax_size.invert_xaxis()
    ax_size.set_ylim(-0.6, len(methods) - 0.4)
    ax_size.set_yticks([])
    ax_size.set_xlabel("found", fontsize=8)
    for side in ("top", "left"):
        ax_size.spines[side].set_visible(False)
    return _save_png(fig, path)


# --------------------------------------------------------------------------- page


def write_page(comp: Comparison, tables: dict[str, pd.DataFrame], figures: dict[str, Path],
               db_summary: str) -> Path:
    from ..report.html import copy_assets, esc, fmt_num, fmt_q, render_page, table, td

    cfg = comp.cfg
    methods = cfg.methods.enabled()
    out = comp.out
    copy_assets(out / "assets")
    parts = [f'<p class="lead">Model <b>{esc(comp.name)}</b>, layers '
             f'{esc(", ".join(f"conv{L}" for L in cfg.layers))}, neurons <code>{esc(cfg.neurons)}</code>; '
             f'database {esc(db_summary)}. Every method\'s PPMs are cut into motif segments by the same '
             f'information rule and matched by the same Tomtom settings '
             f'(backend {esc(cfg.match.tomtom_backend)}, segments below {cfg.match.min_query_ic:g} bits '
             f'not compared).</p>']

    def num_table(df: pd.DataFrame, cols: Sequence[str], labels: Sequence[str] | None = None,
                  qcols: Sequence[str] = ()) -> str:
        rows = []
        for _, r in df.iterrows():
            cells = []
            for c in cols:
                v = r[c]
                if c == "method":
                    cells.append(td(esc(LABELS.get(v, v)), v))
                elif c in qcols:
                    cells.append(td(fmt_q(v), v if pd.notna(v) else "", "num"))
                elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
                    cells.append(td(fmt_num(float(v) if pd.notna(v) else None), v if pd.notna(v) else "",
                                    "num"))
                else:
                    cells.append(td(esc(fmt_num(v) if isinstance(v, bool) else ("" if pd.isna(v) else v))))
            rows.append(cells)
        return table(labels or cols, rows, cls="sortable")

    rec = tables.get("recovery")
    if rec is not None and len(rec):
        parts.append("<h2>Planted motifs recovered</h2>")
        parts.append(f'<p class="small muted">Recovered: a segment matches the planted motif (or a '
                     f'database motif merged with it) at q &lt; {cfg.recovery_q:g}, or a segment\'s '
                     f'consensus has at least {100 * cfg.min_identity:g} % identity to it.</p>')
        rows = []
        for motif, sub in rec.groupby("motif", sort=False):
            cells = [td(esc(motif)), td(f'<span class="seq">{esc(sub["consensus"].iloc[0])}</span>')]
            for m in methods:
                r = sub[sub["method"] == m]
                if not len(r):
                    cells.append(td(""))
                    continue
                r = r.iloc[0]
                text = ("&#10003; " if r["recovered"] else "&ndash; ") + esc(r["by"])
                detail = []
                if pd.notna(r["best_q"]):
                    detail.append(f"q={fmt_q(r['best_q'])} {esc(r['q_hit'])}")
                detail.append(f"id={r['identity']:.2f} {esc(r['identity_hit'])}")
                cells.append(td(f'<span class="{"sig" if r["recovered"] else "nosig"}">{text}</span>'
                                f'<br><span class="small muted">{"<br>".join(detail)}</span>',
                                int(r["recovered"])))
            rows.append(cells)
        total = [td("<b>recovered</b>"), td("")] + [
            td(f"<b>{int(rec.loc[rec['method'] == m, 'recovered'].sum())} / "
               f"{rec['motif'].nunique()}</b>", cls="num") for m in methods]
        rows.append(total)
        parts.append(table(["motif", "consensus", *[LABELS[m] for m in methods]], rows))

    parts.append(f"<h2>Distinct database motifs matched (q &lt; {cfg.significance:g})</h2>")
    counts = tables["counts"]
    parts.append(num_table(counts, list(counts.columns)))

    parts.append("<h2>Strength of the best matches</h2>")
    parts.append(f'<p><img src="{figures["box"].name}" alt="box plot of -log10 q"></p>')
    tests = tables["tests"]
    if len(tests):
        parts.append('<p class="small muted">Wilcoxon signed-rank test of NeuronMotif against each '
                     'baseline on -log10 q of the best match per database motif group; "both": groups '
                     'found by the two methods, "all methods": groups every method found; q: '
                     'Benjamini-Hochberg over the baselines within a set; fewer than 5 pairs: no test.</p>')
        parts.append(num_table(tests, ["method", "set", "n", "median_reference", "median_method",
                                       "median_difference", "statistic", "p", "q"],
                               ["baseline", "set", "n", "median NeuronMotif", "median baseline",
                                "median difference", "W", "p", "q"], qcols=("p", "q")))

    parts.append("<h2>Overlap of matched database motifs</h2>")
    parts.append(f'<p><img src="{figures["upset"].name}" alt="UpSet plot of matched motifs"></p>')
    ov = tables["overlap"]
    if len(ov):
        parts.append(num_table(ov, ["representative", "n_methods", *[f"q_{m}" for m in methods]],
                               ["database motif", "methods", *[LABELS[m] for m in methods]],
                               qcols=[f"q_{m}" for m in methods]))

    parts.append("<h2>Run time</h2>")
    rt = tables["runtime"]
    parts.append('<p class="small muted">Wall-clock seconds of the run that computed each layer '
                 '(empty: computed before timing was recorded, or not run). Side-by-side timings of one '
                 'layer in one run: <code>python bench/method_runtime.py</code>.</p>')
    parts.append(num_table(rt, ["method", "layer", "units", "computed", "seconds", "seconds_per_unit",
                                "device"]))

    parts.append("<h2>Files</h2><ul>")
    for m in methods:
        d = comp.method_dir(m)
        rel = os.path.relpath(d, out)
        parts.append(f'<li>{esc(LABELS[m])}: <code>{esc(rel)}/</code></li>')
    parts.append("</ul><p class=\"small\">Tables: " + ", ".join(
        f'<a href="{n}">{n}</a>' for n in ("counts.csv", "best_q.csv", "tests.csv", "overlap.csv",
                                           "recovery.csv", "runtime.csv", "matches.csv", "segments.csv")
        if (out / n).is_file()) + "</p>")
    page = render_page(f"{comp.name}: NeuronMotif and baselines", "\n".join(parts), "assets",
                       crumbs=[(comp.name, "../index.html" if (comp.model_dir / "index.html").is_file() else None),
                               ("method comparison", None)])
    path = out / "index.html"
    write_text(path, page)
    return path


# --------------------------------------------------------------------------- driver


def _csv(path: Path, df: pd.DataFrame) -> None:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


def _data_dir(comp: Comparison) -> Path | None:
    """The folder ``motif_db: planted`` reads: the truth's, the data's or the checkpoint's data's."""
    cfg = comp.cfg
    data_dir = Path(cfg.truth).parent if cfg.truth else (
        Path(cfg.data.path).parent if cfg.data.path else None)
    if data_dir is None and comp.loaded.ckpt:
        p = ((comp.loaded.ckpt.get("data") or {}).get("path"))
        data_dir = Path(p).parent if p else None
    return data_dir


def compare(comp: Comparison, records: Sequence[dict] = ()) -> dict[str, pd.DataFrame]:
    """Match every method's segments, build the tables and figures, write the page."""
    cfg = comp.cfg
    targets = resolve_motif_db(cfg.motif_db, data_dir=_data_dir(comp), base_dir=comp.base_dir)
    db_summary = f"{motif_db_text(cfg.motif_db)} ({len(targets)} motifs)"
    comp.log(f"database: {db_summary}; grouping near-duplicates")
    groups = database_groups(targets, merge_q=cfg.merge_q, cfg=cfg.match)
    methods = cfg.methods.enabled()
    segments, matches = match_all(comp, targets)
    # A group is shown by its member matched best by any method (else its first member).
    representative: dict[int, str] = {}
    for t in matches.sort_values(["q", "target"], kind="stable")["target"]:
        representative.setdefault(groups[t], t)
    for name, g in groups.items():
        representative.setdefault(g, name)
    layers = sorted({layer_folder(L) for m in methods for L in comp.layers_of(m)},
                    key=lambda s: _layer_order(OUTPUT if s == OUTPUT else int(s[4:])))
    best = best_per_group(matches, groups, cfg.significance)
    tables = {
        "segments": segments, "matches": matches, "best_q": best,
        "counts": count_table(matches, groups, cfg.significance, methods, layers),
        "tests": paired_tests(best, methods),
        "overlap": overlap_table(best, methods, representative),
        "runtime": runtime_table(comp, records),
    }
    if cfg.truth:
        tables["recovery"] = recovery_long(cfg.truth, segments, matches, groups, methods, cfg.recovery_q,
                                           cfg.min_identity)
    out = comp.out
    out.mkdir(parents=True, exist_ok=True)
    for key, df in tables.items():
        _csv(out / f"{key}.csv", df)
    figures = {"box": box_plot(best, methods, out / "best_q.png", cfg.significance),
               "upset": upset_plot(best, methods, out / "overlap.png")}
    write_json(out / "settings.json", to_dict(cfg, relative_to=out) | {"database": db_summary})
    write_page(comp, tables, figures, db_summary)
    return tables


def recovery_wide(rec: pd.DataFrame) -> pd.DataFrame:
    """Planted motif x method table of 'yes (how)' / 'no', plus a total row (for printing)."""
    if rec is None or not len(rec):
        return pd.DataFrame()
    wide = rec.assign(cell=np.where(rec["recovered"], "yes (" + rec["by"] + ")", "no")) \
        .pivot(index="motif", columns="method", values="cell")
    wide = wide.loc[list(dict.fromkeys(rec["motif"]))][list(dict.fromkeys(rec["method"]))]
    total = rec.groupby("method", sort=False)["recovered"].sum().astype(int).astype(str) \
        + f" / {rec['motif'].nunique()}"
    wide.loc["recovered"] = total
    return wide


def run_compare(cfg: CompareConfig, force: bool = False, run: bool = True, log=None,
                base_dir: str | Path | None = None, source: str = "config"
                ) -> tuple[Comparison, dict[str, pd.DataFrame]]:
    """Check every input (:meth:`Comparison.preflight`), run the methods (unless ``run``
    is False), then :func:`compare`.

    ``base_dir``: folder that relative motif files in ``motif_db`` are resolved
    against (the config file's folder); ``source``: the config file, for messages.
    """
    comp = Comparison(cfg, log, base_dir)
    comp.preflight(source)
    records = comp.run(force) if run else []
    return comp, compare(comp, records)
