"""NeuronMotif's discovery stage: config, one layer at a time, resume, matching and pages.

``discover_layer`` samples every selected neuron of conv layer L as one
batched population (:mod:`.sample`), demixes each neuron's samples
(:mod:`.demix`) with the layer's adaptive number of pattern groups, builds
cluster PPMs and segments (:mod:`.ppm`, :mod:`.units`), and writes

``<results_dir>/<model>/discovery/``
    ``anatomy.csv``                      conv layers: RF, jump, offset, pools
    ``conv<L>/layer.json``               anatomy row, neurons, pattern groups and its test
    ``conv<L>/summary.csv``              one row per finished neuron
    ``conv<L>/neuron<k>/``               one unit (:mod:`.units`)

Each neuron folder is written under a temporary name and renamed when
complete, so a rerun skips finished neurons (``force`` redoes them) and a
killed run resumes. Until every selected neuron of a layer is written, the
layer's samples are kept in ``conv<L>/.samples.npz`` (keyed by the weights and
the sampling settings) and the written neurons' exact indicators in
``conv<L>/.demixed.json``, so a run killed while demixing or writing does not
sample again and recomputes no written neuron. Neurons are written as soon as
they are demixed where the layer's pattern groups are settled beforehand (no
max-pool below, ``demix.adaptive: false``, or a resumed layer); otherwise once
the layer's test over all neurons has chosen them. A layer made with other
weights or other settings (``layer.json``) is redone, also when all its neurons
are finished. No timings go into files: the same seed gives byte-identical
outputs on the same machine.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import layout
from ..config import to_dict
from ..errors import ConfigError, InputError
from ..io import clean_partials, fault_point, write_json, write_text
from ..models.anatomy import Anatomy, ConvCut
from ..models.loader import model_fingerprint
from ..stamps import read_stamp, settings_changes
from .demix import accept_pattern_groups
from .discovery_config import DiscoveryConfig
from .kept import DEMIX_KEPT, SAMPLES_KEPT, kept_indicators, load_kept_samples, sampling_key, save_kept_samples
from .kmeans import auto_batch_size, memory_budget
from .sample import NeuronSamples, sample_layer
from .units import NeuronResult, analyse_layer, layer_features, previous_layer_ppms, write_neuron, write_summary

# --------------------------------------------------------------------------- the layer


def _redo_reason(layer_dir: Path, weights: str, record: dict) -> str | None:
    """Why the finished neurons of a layer must be redone (other weights or settings), or None."""
    # What the finished neurons were made with: layer.json, or, for a layer whose run
    # was killed before writing it, the record kept beside its neurons.
    made = read_stamp(layer_dir / "layer.json") or read_stamp(layer_dir / DEMIX_KEPT)
    if made is not None and made.get("model_fingerprint") != weights:
        return "the model's weights are not those the finished neurons were made with; redoing the layer"
    if made is not None and made.get("config") != record:
        # Also when every neuron is finished: outputs never mix two settings.
        return (f"settings changed since the finished neurons were made "
                f"({settings_changes(made.get('config') or {}, record)}); redoing the layer")
    return None


def _progress_bar(layer: int, total: int):
    """A tqdm bar on a terminal (quiet in CI) and the sampler's progress callback that drives it."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=f"conv{layer}", unit="neuron", disable=None, file=sys.stderr,
               leave=True, dynamic_ncols=True)

    def on_progress(p: dict) -> None:
        if p["stage"] in ("ga", "screened"):
            bar.n = p["finished"]
            bar.set_postfix_str(f"generation {p['generation']}, {p['active']} evolving", refresh=True)
        else:
            bar.set_postfix_str(f"enumerating {100 * p['done'] // p['total']}%", refresh=True)

    return bar, on_progress


def _sample_or_reuse(cut: ConvCut, layer: int, rf: int, pending: list[int], cfg: DiscoveryConfig,
                     kept: Path, key: str, seed_ppms, on_progress, log) -> list[NeuronSamples]:
    """The layer's samples: those an unfinished run kept under ``key``, else sampled and kept."""
    # The layer's sampling is kept on disk until every neuron is written, so a run
    # killed while demixing or writing resumes without sampling again.
    samples = load_kept_samples(kept, key, pending)
    if samples is not None:
        log(f"conv{layer}: reusing the sampling of {len(pending)} neurons kept by an unfinished run "
            f"({kept.name})")
        return samples
    t0 = time.perf_counter()
    samples = sample_layer(cut, pending, cfg.sampling, cfg.seed, layer, cfg.batch_size, seed_ppms, on_progress)
    t_sample = time.perf_counter() - t0
    fault_point("sampling")
    save_kept_samples(kept, key, samples)
    method = samples[0].method
    log(f"conv{layer}: RF {rf}, sampled {len(pending)} neurons by "
        f"{'enumeration' if method == 'enumerate' else 'GA'} "
        f"({sum(s.evaluations for s in samples):,} evaluations"
        + (f", up to {max(s.generations for s in samples)} generations" if method == "ga" else "")
        + f") in {t_sample:.1f} s" + (" seeded from conv%d PPMs" % (layer - 1) if seed_ppms else ""))
    return samples


@dataclass
class _LayerRun:
    """What demixing and writing one layer needs (one call of :func:`discover_layer`)."""

    cut: ConvCut
    cfg: DiscoveryConfig
    layer: int
    info: object
    neurons: list[int]
    layer_dir: Path
    key: str
    record: dict
    weights: str
    bar: object

    def write(self, r: NeuronResult, groups: int, indicators: dict[int, float]) -> None:
        folder = layout.neuron_dir(self.layer_dir.parent, self.layer, r.samples.neuron)
        write_neuron(folder, r, self.layer, self.info.rf, groups, self.cut.pool_sizes)
        # exact indicators of written neurons: the layer's test needs them all
        indicators[r.samples.neuron] = r.indicator
        write_json(self.layer_dir / DEMIX_KEPT, {"key": self.key, "pattern_groups": groups, "config": self.record,
                                                 "model_fingerprint": self.weights,
                                                 "indicators": {str(k): v for k, v in indicators.items()}})
        self.bar.update(1)

    def meta(self, groups: int, tests: list) -> None:
        _write_layer_meta(self.layer_dir / "layer.json", self.layer, self.info, self.neurons, groups, tests,
                          self.record, self.weights)


def _demix_and_write(run: _LayerRun, samples: list[NeuronSamples], force: bool, log) -> None:
    """Demix every sampled neuron with the layer's pattern groups and write it."""
    cfg, cut, layer = run.cfg, run.cut, run.layer
    t1 = time.perf_counter()
    meta_path = run.layer_dir / "layer.json"
    # A layer already started keeps its pattern groups (resume).
    fixed = json.loads(meta_path.read_text()).get("pattern_groups") if not force and meta_path.is_file() \
        else None
    # Pattern groups: reuse a decision already taken for this layer (resume), else adapt.
    groups = fixed or cfg.demix.pattern_groups
    adapt = fixed is None and cfg.demix.adaptive and bool(cut.pool_sizes)
    indicators = kept_indicators(run.layer_dir / DEMIX_KEPT, run.key, groups) if not force else {}
    tests = []
    if adapt:
        # The layer's test over every neuron's indicator decides the groups, so
        # neurons are written once it has passed.
        cache: dict = {}
        while True:
            run.bar.set_postfix_str(f"demixing, {groups} pattern group(s)", refresh=True)
            results = []
            for r in _analyse_all(run, samples, groups, cache):
                results.append(r)
                fault_point("demixing")
            ok, test = accept_pattern_groups([r.indicator for r in results], cfg.demix)
            test["pattern_groups"] = groups
            tests.append(test)
            if ok or groups >= cfg.demix.max_pattern_groups:
                break
            groups += 1
        run.meta(groups, tests)
        for r in results:
            run.write(r, groups, indicators)
    else:
        # The groups are settled: each neuron is written as soon as it is demixed.
        run.bar.set_postfix_str(f"demixing, {groups} pattern group(s)", refresh=True)
        for r in _analyse_all(run, samples, groups, {}):
            run.write(r, groups, indicators)
            fault_point("demixing")
        if fixed is None:
            ok, test = accept_pattern_groups([indicators.get(k, np.nan) for k in run.neurons], cfg.demix)
            test["pattern_groups"] = groups
            tests.append(test)
            run.meta(groups, tests)
    run.bar.close()
    log(_demix_line(layer, len(samples), groups, tests, time.perf_counter() - t1))


def _analyse_all(run: _LayerRun, samples: list[NeuronSamples], groups: int, cache: dict):
    """Every neuron's :class:`NeuronResult`, demixed together in chunks of neurons whose features
    fit the device's memory budget; ``cache`` keeps the features when one chunk holds the layer."""
    cut, cfg = run.cut, run.cfg
    first = next((s for s in samples if len(s.act)), None)     # one sample row gives the feature width
    probe = [dataclasses.replace(first, codes=first.codes[:1], act=first.act[:1])] if first else []
    width = sum(int(f.shape[1]) for f in layer_features(cut, probe, run.layer, cfg.batch_size)[0])
    budget = memory_budget(next(iter(cut.buffers())).device)
    start = 0
    while start < len(samples):
        size, end = 0, start
        while end < len(samples) and (end == start or size + len(samples[end].act) * width * 4 <= budget):
            size += len(samples[end].act) * width * 4
            end += 1
        chunk = samples[start:end]
        feats = cache.get((start, end)) or layer_features(cut, chunk, run.layer, cfg.batch_size)
        if start == 0 and end == len(samples):
            cache[(start, end)] = feats      # the adaptive passes reuse the layer's features
        yield from analyse_layer(cut, chunk, groups, cfg, run.layer, feats)
        start = end


def _prepare_folders(ddir: Path, layer_dir: Path, anatomy: Anatomy) -> None:
    """Drop a killed run's half-written units and (re)write ``anatomy.csv``."""
    clean_partials(ddir, depth=0)          # a killed run's half-written units never survive a rerun
    clean_partials(layer_dir, depth=1)
    ddir.mkdir(parents=True, exist_ok=True)
    write_text(ddir / "anatomy.csv", pd.DataFrame(anatomy.table()).to_csv(index=False))


def _demix_line(layer: int, n: int, groups: int, tests: list, seconds: float) -> str:
    """The log line of a demixed layer."""
    if tests:
        return (f"conv{layer}: demixed with {groups} pattern group(s) (mean indicator {tests[-1]['mean']:.3f}"
                + (f", t-test p={tests[-1]['p']:.3g}" if tests[-1]["p"] is not None else "")
                + f") in {seconds:.1f} s")
    return (f"conv{layer}: demixed {n} neurons with the layer's {groups} pattern group(s) "
            f"in {seconds:.1f} s")


def discover_layer(model: nn.Module, layer: int, cfg: DiscoveryConfig, discovery_dir: Path | None = None,
                   force: bool = False, progress: bool = True,
                   log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Interpret the selected neurons of conv ``layer`` of ``model``; returns the layer summary.

    Parameters
    ----------
    model : nn.Module
        A model whose conv trunk :class:`~combmotif.models.anatomy.Anatomy` can walk.
    layer : int
        The conv layer (1-based).
    cfg : DiscoveryConfig
        The discovery settings.
    discovery_dir : Path, optional
        ``results/<model>/discovery`` (default: from ``cfg``).
    force, progress : bool
        Redo finished neurons and re-decide the layer's pattern groups; show the sampler's progress.
    log : callable, optional
        Receives one line per step (default: standard error).

    Returns
    -------
    pandas.DataFrame
        The layer's ``summary.csv``.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    ddir = Path(discovery_dir) if discovery_dir else cfg.discovery_dir()
    device = next(model.parameters()).device
    anatomy = Anatomy(model)
    info = anatomy.layer(layer)
    layer_dir = layout.layer_dir(ddir, layer)
    _prepare_folders(ddir, layer_dir, anatomy)
    neurons = cfg.layers.neurons(layer, info.out_channels)
    weights = model_fingerprint(model)
    record = _config_record(cfg)
    reason = None if force else _redo_reason(layer_dir, weights, record)
    if reason:
        log(f"conv{layer}: {reason}")
    force = force or reason is not None
    pending = [k for k in neurons
               if force or not (layout.neuron_dir(ddir, layer, k) / "clusters.json").is_file()]
    if not pending:
        log(f"conv{layer}: all {len(neurons)} selected neurons already done (use --force to redo)")
        return write_summary(layer_dir)

    cut, cfg = _layer_cut(anatomy, layer, cfg, device)
    seeded = cfg.sampling.seed_from_previous and layer > 1 and info.rf > cfg.sampling.enumerate_max_rf
    seed_ppms = (previous_layer_ppms(ddir, layer) or None) if seeded else None
    bar, on_progress = _progress_bar(layer, len(pending))
    kept = layer_dir / SAMPLES_KEPT
    key = sampling_key(cfg, layer, weights, seed_ppms, device)
    samples = _sample_or_reuse(cut, layer, info.rf, pending, cfg, kept, key, seed_ppms,
                               on_progress if progress else None, log)
    bar.n = 0

    run = _LayerRun(cut, cfg, layer, info, neurons, layer_dir, key, record, weights, bar)
    _demix_and_write(run, samples, force, log)
    for name in (SAMPLES_KEPT, DEMIX_KEPT):   # the layer is finished: its neuron folders hold the samples
        (layer_dir / name).unlink(missing_ok=True)
    return write_summary(layer_dir)


def _layer_cut(anatomy: Anatomy, layer: int, cfg: DiscoveryConfig, device) -> tuple:
    """The layer's cut on ``device`` and ``cfg`` with ``batch_size: auto`` resolved for it."""
    cut = anatomy.cut(layer, cfg.sampling.after_activation, cfg.sampling.extra_tracks).to(device)
    if cfg.batch_size == "auto":
        channels = sum(anatomy.layer(i).out_channels for i in range(1, layer + 1))
        cfg = dataclasses.replace(cfg, batch_size=auto_batch_size(device, anatomy.layer(layer).rf, channels))
    return cut, cfg


def _write_layer_meta(path: Path, layer: int, info, neurons: Sequence[int], groups: int, tests: list,
                      record: dict, weights: str) -> None:
    write_json(path, {
        "layer": layer, "anatomy": info.row(), "neurons": neurons, "pattern_groups": groups,
        "pattern_group_tests": tests, "config": record, "model_fingerprint": weights,
    })


def made_with_other_weights(layer_dir: Path, weights: str | nn.Module) -> bool:
    """Whether a started layer folder was made by a model with other weights.

    ``weights``: a module or its :func:`~combmotif.models.loader.model_fingerprint`.
    A folder without a recorded fingerprint (older outputs) counts as other weights.

    Parameters
    ----------
    layer_dir : Path
        A ``conv<L>`` folder.
    weights : str or nn.Module
        The model or its fingerprint.

    Returns
    -------
    bool
        True when its ``layer.json`` names other (or no) weights.
    """
    meta_path = Path(layer_dir) / "layer.json"
    if not meta_path.is_file():
        return False
    made = read_stamp(meta_path)
    if made is None:   # unreadable: nothing says these are the weights
        return True
    if isinstance(weights, nn.Module):
        weights = model_fingerprint(weights)
    return made.get("model_fingerprint") != weights


def _config_record(cfg: DiscoveryConfig) -> dict:
    """Settings that shape a neuron's outputs (not paths, device, batch size or the neuron selection)."""
    d = json.loads(json.dumps(to_dict(cfg)))
    for key in ("results_dir", "data", "name", "device", "batch_size", "layers"):
        d.pop(key, None)
    for key in ("motif_db", "data_dir", "matching", "report"):
        d.pop(key, None)  # matching and pages do not change the neuron folders
    d["model"] = cfg.model_file.name
    return d


def load_model(cfg: DiscoveryConfig) -> nn.Module:
    """The module named by the config's ``model:`` section (our checkpoint or a Keras HDF5 file).

    Parameters
    ----------
    cfg : DiscoveryConfig
        Its ``model`` and ``device``.

    Returns
    -------
    nn.Module
        The model in eval mode.
    """
    from ..models.loader import load_model as load_spec

    return load_spec(cfg.model, cfg.device).module.eval()


def preflight(cfg: DiscoveryConfig, layers: Sequence[int], source: str | Path,
              model: nn.Module | None = None) -> nn.Module:
    """Check everything a discovery run of ``layers`` needs before it samples or writes anything.

    The output folder, the model, every layer (that the model has it, and its
    neuron selection against its size) and, when pages are on, the motif
    database (read whole) and the Tomtom backend (checked as the config is read).

    Parameters
    ----------
    cfg : DiscoveryConfig
        The loaded config.
    layers : sequence of int
        Conv layers the run will interpret.
    source : str or Path
        The config file, for the messages.
    model : nn.Module, optional
        The model, when the caller has loaded it already (else loaded here).

    Returns
    -------
    nn.Module
        The loaded model, for :func:`run_discovery`, so a run loads it once.

    Raises
    ------
    combmotif.errors.CombMotifError
        One message naming the file, the key and the value.
    """
    from ..io import check_output_dir
    from ..motifs.databases import check_motif_db

    check_output_dir(cfg.discovery_dir(), str(source), "results_dir")
    model = model if model is not None else load_model(cfg)
    anatomy = Anatomy(model)
    n = len(anatomy)
    for layer in layers:
        if not 1 <= layer <= n:
            raise InputError(f"layer {layer} does not exist: {cfg.model_file.name} has conv1..conv{n}")
        try:
            cfg.layers.neurons(layer, anatomy.layer(layer).out_channels)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    if cfg.report.enabled:
        check_motif_db(cfg.motif_db, str(source), "motif_db", data_dir=cfg.data_dir)
    return model


def run_discovery(cfg: DiscoveryConfig, layers: Sequence[int], force: bool = False,
                  progress: bool = True, model: nn.Module | None = None,
                  on_layer: Callable[[int], None] | None = None) -> dict[int, pd.DataFrame]:
    """Load the model once and interpret ``layers`` in order (shallow first).

    The matching and pages follow (:class:`combmotif.report.pipeline.LayerPages`, beside the
    sampling through ``on_layer`` or after it).

    Parameters
    ----------
    cfg : DiscoveryConfig
        The discovery settings.
    layers : sequence of int
        Conv layers, interpreted in this order.
    force : bool
        Redo finished neurons.
    progress : bool
        Show the sampler's progress.
    model : nn.Module, optional
        The model returned by :func:`preflight` (else loaded here).
    on_layer : callable, optional
        Called with each layer once its neuron folders are written (the command hands the
        layer to :class:`~combmotif.report.pipeline.LayerPages`).

    Returns
    -------
    dict of int to pandas.DataFrame
        Each layer's summary.
    """
    torch.manual_seed(cfg.seed)
    model = model if model is not None else load_model(cfg)
    n = len(Anatomy(model))
    for layer in layers:
        if not 1 <= layer <= n:
            raise InputError(f"layer {layer} does not exist: {cfg.model_file.name} has conv1..conv{n}")
    summaries = {}
    for layer in layers:
        summaries[layer] = discover_layer(model, layer, cfg, force=force, progress=progress)
        if on_layer is not None:
            on_layer(layer)
    return summaries
