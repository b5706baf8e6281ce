"""The runs of a method comparison: one model, its methods' result folders, and the comparison folder.

:class:`Comparison` checks every input before any work, runs every enabled method
(NeuronMotif, max-activation seqlets, class optimization, TF-MoDISco) on the same
layers and neurons, and names the folders each one writes. The matching, tables and
driver are in :mod:`combmotif.baselines.compare`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from .. import layout
from ..config import parse_range, to_dict
from ..data.truth import load_truth
from ..errors import ConfigError, InputError
from ..io import check_output_dir, clean_partials, write_json
from ..models.anatomy import Anatomy
from ..models.loader import LoadedModel, load_model, model_fingerprint
from ..motifs.databases import check_motif_db
from ..stage import load_dataset
from ..stamps import make_stamp, read_stamp, write_stamp
from .class_optimization import run_class_optimization
from .common import LABELS, OUTPUT, layer_folder
from .compare_config import CompareConfig
from .max_seqlet import run_max_seqlet
from .modisco import run_modisco


class Comparison:
    """One model, its methods' result folders, and the comparison folder."""

    def __init__(self, cfg: CompareConfig, log=None, loaded: LoadedModel | None = None,
                 data: np.ndarray | None = None):
        """``loaded`` / ``data`` replace the config's model and sequences (for tests and benches)."""
        self.cfg = cfg
        self.log = log or (lambda msg: print(msg, file=sys.stderr))
        torch.manual_seed(cfg.seed)
        self.loaded: LoadedModel = loaded or load_model(cfg.model, cfg.device)
        self.name = cfg.model_name
        self.model_dir = layout.model_dir(cfg.results_dir, self.name)
        self.out = layout.model_stage_dir(self.model_dir, "compare")
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
        """The neurons of ``layer`` that every layer-wise method compares (the config's ``neurons``).

        Parameters
        ----------
        layer : int
            The conv layer (1-based).
        n : int, optional
            Neurons in the layer; ``None`` reads the layer's ``out_channels``.

        Returns
        -------
        list of int
            The selected indices, in the order given (:func:`combmotif.config.parse_range`).

        Raises
        ------
        combmotif.errors.ConfigError
            ``'neurons' = <value> for conv<layer>: ...`` when the selection is unreadable,
            empty or outside ``0..n-1``.
        """
        n = self.anatomy.layer(layer).out_channels if n is None else n
        try:
            return parse_range(self.cfg.neurons, n)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"'neurons' = {self.cfg.neurons!r} for conv{layer}: {exc}") from None

    def preflight(self, source: str) -> None:
        """Check, before any method runs, what the comparison reads and where it writes:
        the output folder, every layer's neuron selection, the NeuronMotif config, the
        truth file and the motif database (read whole).

        Parameters
        ----------
        source : str
            The config file, named in every message.

        Raises
        ------
        combmotif.errors.CombMotifError
            One message naming ``source`` (the config file), the key and the value.
        """
        cfg = self.cfg
        check_output_dir(self.model_dir, source, "results_dir")
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
        check_motif_db(cfg.motif_db, source, "motif_db", data_dir=_data_dir(self))
        if cfg.methods.modisco.enabled or (cfg.methods.max_seqlet.enabled
                                           and cfg.methods.max_seqlet.source == "data"):
            self.data   # read (and kept) now, not after NeuronMotif has run

    def method_dir(self, method: str) -> Path:
        """The folder a method writes its results into (and the comparison reads them from).

        Parameters
        ----------
        method : str
            A method name of :data:`combmotif.baselines.common.METHODS`.

        Returns
        -------
        pathlib.Path
            NeuronMotif's ``discovery_dir``, else ``results/<model>/baselines/<method>``.
        """
        if method == "neuronmotif":
            return self.discovery_dir
        return self.model_dir / "baselines" / method

    @property
    def discovery_config(self):
        """NeuronMotif's discovery config, restricted to this comparison's neurons (built once).

        Read from ``methods.neuronmotif.config`` when set (it must interpret this
        comparison's model, else :class:`~combmotif.errors.ConfigError`), else built from
        the comparison's model, name, results folder and seed.
        """
        from ..neuronmotif.discovery_config import DiscoveryConfig, load_discovery_config

        if self._dcfg is None:
            sec = self.cfg.methods.neuronmotif
            model_path = self.cfg.model.checkpoint or self.cfg.model.keras_hdf5
            if sec.config:
                dcfg = load_discovery_config(sec.config)
                if model_path and dcfg.model_file.resolve() != Path(model_path).resolve():
                    raise ConfigError(f"methods.neuronmotif.config {sec.config} interprets {dcfg.model_file}, "
                                      f"not this comparison's model {model_path}")
            else:
                # batch_size: discovery's own chunk size before the run section was shared.
                dcfg = DiscoveryConfig(model=self.cfg.model, name=self.name,
                                       results_dir=str(self.model_dir.parent), seed=self.cfg.seed,
                                       batch_size=2048)
            dcfg.layers.ind = self.cfg.neurons
            dcfg.layers.per_layer = {}
            self._dcfg = dcfg
        return self._dcfg

    @property
    def discovery_dir(self) -> Path:
        """NeuronMotif's ``results/<model>/discovery`` folder, as its stage names it."""
        return self.discovery_config.discovery_dir()

    @property
    def data(self) -> np.ndarray:
        """(N, C, L) sequences of the config's data split, read on first use and kept.

        The ``data`` given to the constructor, if any; else read with
        :func:`combmotif.stage.load_dataset` (for max-activation seqlets and TF-MoDISco).
        """
        if self._data is None:
            X, _, meta = load_dataset(self.cfg.data, self.loaded.ckpt, self.loaded.seq_len,
                                      encode=self.loaded.encode)
            self.log(f"data: {meta['n']:,} sequences from {meta['path']} ({meta['split']})")
            self._data = X
        return self._data

    def layers_of(self, method: str) -> list[int | str]:
        """Layer folders a method produces under this config.

        Parameters
        ----------
        method : str
            A method name of :data:`combmotif.baselines.common.METHODS`.

        Returns
        -------
        list of int or str
            The config's layers; for TF-MoDISco its targets' layers (sorted, the model
            output last); class optimization adds ``"output"`` when it optimizes the output.
        """
        if method == "modisco":
            return sorted({t for t in (_target_layer(s) for s in self.cfg.methods.modisco.targets)},
                          key=_layer_order)
        layers: list[int | str] = list(self.cfg.layers)
        if method == "class_optimization" and self.cfg.methods.class_optimization.output:
            layers.append(OUTPUT)
        return layers

    def units(self, method: str, layer: int | str) -> list[int] | None:
        """The unit folders (``neuron<k>``) of a method's layer that this config compares (None: all).

        Parameters
        ----------
        method : str
            A method name of :data:`combmotif.baselines.common.METHODS`.
        layer : int or str
            A layer of :meth:`layers_of`: a conv layer or ``"output"``.

        Returns
        -------
        list of int or None
            The unit indices: TF-MoDISco's targets in that layer, the output index of class
            optimization (``None``: every output), else :meth:`neurons` of the layer.

        Raises
        ------
        combmotif.errors.ConfigError
            When the config's ``neurons`` selection does not fit the layer.
        """
        if method == "modisco":
            from .modisco import parse_target
            return [k for L, k in map(parse_target, self.cfg.methods.modisco.targets) if L == layer]
        if layer == OUTPUT:
            idx = self.cfg.methods.class_optimization.output_index
            return None if idx is None else [idx]
        return self.neurons(int(layer))

    # -- runs
    def run(self, force: bool = False) -> list[dict]:
        """Run every enabled method; return run records (method, layer, units, computed, seconds).

        A method whose saved results were made with other weights or settings (its
        ``run.json`` stamp) is redone whole; timings of computed runs are stored under
        ``compare/runtime/`` for :func:`combmotif.baselines.compare.runtime_table`.

        Parameters
        ----------
        force : bool, default False
            Redo finished units of every method.

        Returns
        -------
        list of dict
            One record per method and layer: ``method``, ``layer``, ``units`` (selected),
            ``computed`` (units computed by this run), ``seconds`` (``None`` when nothing
            ran) and ``device``.
        """
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
                record = make_stamp(weights, {
                    "seed": cfg.seed, "ppm": to_dict(cfg.ppm),
                    "data": to_dict(cfg.data, relative_to=stamp.parent),
                    "method": to_dict(getattr(cfg.methods, method), relative_to=stamp.parent)})
                old = read_stamp(stamp)
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
                write_stamp(stamp, record)
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
            layer_dir = layout.layer_dir(self.discovery_dir, L)
            want = self.neurons(L)
            missing = [k for k in want if not (layout.neuron_dir(self.discovery_dir, L, k) / "clusters.json").is_file()]
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


def _data_dir(comp: Comparison) -> Path | None:
    """The folder ``motif_db: planted`` reads: the truth's, the data's or the checkpoint's data's."""
    cfg = comp.cfg
    data_dir = Path(cfg.truth).parent if cfg.truth else (
        Path(cfg.data.path).parent if cfg.data.path else None)
    if data_dir is None and comp.loaded.ckpt:
        p = ((comp.loaded.ckpt.get("data") or {}).get("path"))
        data_dir = Path(p).parent if p else None
    return data_dir
