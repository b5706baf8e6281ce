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
import json
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch

from ..config import parse_range, to_dict
from ..data.truth import load_truth
from ..errors import ConfigError, InputError
from ..io import atomic_path, check_output_dir, clean_partials, write_json
from ..models.anatomy import Anatomy
from ..models.loader import LoadedModel, load_model, model_fingerprint
from ..motifs.collect import database_groups
from ..motifs.databases import check_motif_db, motif_db_text, resolve_motif_db
from ..motifs.formats import Motif
from ..motifs.tomtom import tomtom
from ..paths import repo_root
from ..stage import load_dataset
from .class_optimization import run_class_optimization
from .common import LABELS, OUTPUT, layer_folder
from .compare_config import CompareConfig, load_compare_config  # noqa: F401  (load_compare_config: old path)
from .compare_tables import (MATCH_COLUMNS, SEGMENT_COLUMNS, best_per_group, count_table,  # noqa: F401
                             layer_segments, match_segments, overlap_table, paired_tests)
from .max_seqlet import run_max_seqlet
from .modisco import run_modisco

REPO_ROOT = repo_root()


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
        from ..neuronmotif.stage import DiscoveryConfig, load_discovery_config

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
        from ..neuronmotif.stage import discover_layer, made_with_other_weights

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


# --------------------------------------------------------------------------- driver


def match_all(comp: Comparison, targets: Sequence[Motif]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments and matches of every method and layer present (only the selected neurons).

    All methods' segments go to Tomtom in one call (:func:`match_segments`).

    Parameters
    ----------
    comp : Comparison
        The comparison.
    targets : sequence of Motif
        The database.

    Returns
    -------
    tuple of pandas.DataFrame
        (segments, matches) of every method.
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


def runtime_table(comp: Comparison, records: Sequence[dict] = ()) -> pd.DataFrame:
    """Seconds per method and layer: this run's records, else what an earlier run stored.

    Parameters
    ----------
    comp : Comparison
        The comparison.
    records : sequence of dict
        This run's timings (:meth:`Comparison.run`).

    Returns
    -------
    pandas.DataFrame
        method, layer, units, computed, seconds, seconds_per_unit, device.
    """
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
    """Match every method's segments, build the tables and figures, write the page.

    Parameters
    ----------
    comp : Comparison
        The comparison (methods already run).
    records : sequence of dict
        This run's timings.

    Returns
    -------
    dict of str to pandas.DataFrame
        Every table written (segments, matches, best_q, counts, tests, overlap, runtime[, recovery]).
    """
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
        from ..validation.discovery import recovery_long

        tables["recovery"] = recovery_long(cfg.truth, segments, matches, groups, methods, cfg.recovery_q,
                                           cfg.min_identity)
    out = comp.out
    out.mkdir(parents=True, exist_ok=True)
    for key, df in tables.items():
        _csv(out / f"{key}.csv", df)
    from ..report.compare_page import box_plot, upset_plot, write_page

    figures = {"box": box_plot(best, methods, out / "best_q.png", cfg.significance),
               "upset": upset_plot(best, methods, out / "overlap.png")}
    write_json(out / "settings.json", to_dict(cfg, relative_to=out) | {"database": db_summary})
    write_page(comp, tables, figures, db_summary)
    return tables


def run_compare(cfg: CompareConfig, force: bool = False, run: bool = True, log=None,
                base_dir: str | Path | None = None, source: str = "config"
                ) -> tuple[Comparison, dict[str, pd.DataFrame]]:
    """Check every input (:meth:`Comparison.preflight`), run the methods (unless ``run``
    is False), then :func:`compare`.

    ``base_dir``: folder that relative motif files in ``motif_db`` are resolved
    against (the config file's folder); ``source``: the config file, for messages.

    Parameters
    ----------
    cfg : CompareConfig
        The comparison config.
    force : bool
        Redo finished units.
    run : bool
        Run the methods (False: compare what exists).
    log : callable, optional
        Receives progress lines.
    base_dir : str or Path, optional
        The config file's folder.
    source : str
        The config file, for messages.

    Returns
    -------
    tuple
        The :class:`Comparison` and :func:`compare`'s tables.
    """
    comp = Comparison(cfg, log, base_dir)
    comp.preflight(source)
    records = comp.run(force) if run else []
    return comp, compare(comp, records)
