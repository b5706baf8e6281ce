"""One layer's discovery split into neuron shards that run apart (a workflow's jobs), then merged.

A one-process run (:func:`.stage.discover_layer`) takes one decision per layer:
the number of pattern groups P, raised from ``demix.pattern_groups`` while the
one-sided t-test over every neuron's indicator fails (:func:`.demix.accept_pattern_groups`).
Sharded, that decision is still taken once per layer, over all shards:

``--step shard --neurons A:B [--groups P]``
    samples the shard's neurons (kept in ``conv<L>/.shards/<first>-<last>/.samples.npz``),
    demixes them with P groups, stages each neuron's folder under ``<first>-<last>/P<P>/``
    and writes the shard's record ``<first>-<last>.P<P>.json`` (exact indicators).
``--step decide [--groups P]``
    runs the test at P over the records of every shard, neuron order, and writes
    ``conv<L>/.shards/decision.json`` (the tests so far; ``decided`` false: the shards run
    again at P + 1 from their kept samples, as one run demixes again).
``--step merge``
    copies the decided P's staged folders into ``conv<L>/neuron<k>/``, writes ``layer.json``
    and ``summary.csv`` and removes ``.shards/``.
``--step plan``
    prints each layer's selection and candidate P values (JSON), from which a workflow cuts
    its shards.

A neuron's samples and demixing depend only on the seed, the neuron and its branch path
(counter-based streams), so the merged layer is byte-identical to a one-process run.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Callable, Sequence

import pandas as pd
from torch import nn

from .. import layout
from ..errors import InputError
from ..io import atomic_path, clean_partials, write_json, write_text
from ..models.anatomy import Anatomy
from ..models.loader import model_fingerprint
from ..stamps import read_stamp
from .demix import accept_pattern_groups
from .discovery_config import DiscoveryConfig
from .kept import SAMPLES_KEPT, sampling_key
from .stage import (
    _analyse_all,
    _config_record,
    _layer_cut,
    _LayerRun,
    _progress_bar,
    _sample_or_reuse,
    _write_layer_meta,
)
from .units import previous_layer_ppms, write_neuron, write_summary

SHARDS = ".shards"


def shard_name(neurons: Sequence[int]) -> str:
    """``<first>-<last>``: a shard's folder and record name (inclusive neuron ids).

    Parameters
    ----------
    neurons : sequence of int
        The shard's neurons, ascending.

    Returns
    -------
    str
        The name.
    """
    return f"{min(neurons)}-{max(neurons)}"


def candidate_groups(cfg: DiscoveryConfig, pooled: bool) -> list[int]:
    """The pattern groups the layer's decision may pick: all the adaptive test may reach, else one.

    Parameters
    ----------
    cfg : DiscoveryConfig
        Its ``demix`` settings.
    pooled : bool
        Whether a max-pool lies below the layer (only then do the groups adapt).

    Returns
    -------
    list of int
        Ascending P values.
    """
    d = cfg.demix
    if d.adaptive and pooled:
        return list(range(d.pattern_groups, d.max_pattern_groups + 1))
    return [d.pattern_groups]


def layer_plan(model: nn.Module, cfg: DiscoveryConfig, layers: Sequence[int]) -> dict:
    """Each layer's neuron selection, for a workflow to cut into shards.

    Parameters
    ----------
    model : nn.Module
        The model.
    cfg : DiscoveryConfig
        Its ``layers`` selection.
    layers : sequence of int
        Conv layers.

    Returns
    -------
    dict
        ``neurons``: ``"<L>"`` -> the layer's selected neurons; ``groups``: ``"<L>"`` -> the
        pattern groups its decision may try, in order.
    """
    anatomy = Anatomy(model)
    return {"neurons": {str(L): cfg.layers.neurons(L, anatomy.layer(L).out_channels) for L in layers},
            "groups": {str(L): candidate_groups(cfg, bool(anatomy.cut(L).pool_sizes)) for L in layers}}


def _prepared(model: nn.Module, layer: int, cfg: DiscoveryConfig):
    """The layer's cut, resolved config, sampling key and the settings record (as a one-process run)."""
    device = next(model.parameters()).device
    anatomy = Anatomy(model)
    # The record is of the settings as written (``batch_size: auto``), as a one-process run keeps it.
    record = _config_record(cfg)
    cut, cfg = _layer_cut(anatomy, layer, cfg, device)
    return anatomy, anatomy.layer(layer), cut, cfg, device, record


def _stage_dir(layer_dir: Path, neurons: Sequence[int]) -> Path:
    return layer_dir / SHARDS / shard_name(neurons)


def shard_record(layer_dir: Path, neurons: Sequence[int], groups: int) -> Path:
    """``conv<L>/.shards/<first>-<last>.P<groups>.json``: a shard's record at ``groups`` pattern groups.

    Parameters
    ----------
    layer_dir : Path
        The layer's ``conv<L>`` folder.
    neurons : sequence of int
        The shard's neurons.
    groups : int
        The pattern groups it was demixed with.

    Returns
    -------
    Path
        The record's path.
    """
    return layer_dir / SHARDS / f"{shard_name(neurons)}.P{groups}.json"


def run_shard(model: nn.Module, layer: int, cfg: DiscoveryConfig, neurons: Sequence[int], groups: int | None = None,
              discovery_dir: Path | None = None, log: Callable[[str], None] | None = None) -> Path:
    """Sample (or reuse the kept samples of) one shard of conv ``layer``, demix it with ``groups``
    pattern groups and stage its neuron folders.

    Parameters
    ----------
    model : nn.Module
        The model.
    layer : int
        The conv layer (the layer below must be merged already when it seeds the sampler).
    cfg : DiscoveryConfig
        The discovery settings.
    neurons : sequence of int
        The shard's neurons.
    groups : int, optional
        Pattern groups (default: the first the layer's decision tries, ``demix.pattern_groups``).
    discovery_dir : Path, optional
        ``results/<model>/discovery`` (default: from ``cfg``).
    log : callable, optional
        Receives one line per step (default: standard error).

    Returns
    -------
    Path
        The shard's record (:func:`shard_record`): ``key``, ``config``, ``model_fingerprint``,
        ``neurons``, ``pattern_groups`` and ``indicators`` (neuron -> exact indicator).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    ddir = Path(discovery_dir) if discovery_dir else cfg.discovery_dir()
    neurons = sorted(int(k) for k in neurons)
    anatomy, info, cut, cfg, device, record = _prepared(model, layer, cfg)
    groups = groups or cfg.demix.pattern_groups
    if groups not in candidate_groups(cfg, bool(cut.pool_sizes)):
        raise InputError(f"--groups {groups}: conv{layer}'s decision tries only "
                         f"{candidate_groups(cfg, bool(cut.pool_sizes))} (demix settings of the config)")
    weights = model_fingerprint(model)
    layer_dir = layout.layer_dir(ddir, layer)
    stage = _stage_dir(layer_dir, neurons)
    clean_partials(stage, depth=2)      # only this shard's own leftovers: other shards may be writing
    seeded = cfg.sampling.seed_from_previous and layer > 1 and info.rf > cfg.sampling.enumerate_max_rf
    seed_ppms = (previous_layer_ppms(ddir, layer) or None) if seeded else None
    key = sampling_key(cfg, layer, weights, seed_ppms, device)
    bar, on_progress = _progress_bar(layer, len(neurons))
    stage.mkdir(parents=True, exist_ok=True)
    # Kept beside the staged folders: a later P of the layer's decision reuses them.
    samples = _sample_or_reuse(cut, layer, info.rf, neurons, cfg, stage / SAMPLES_KEPT, key, seed_ppms,
                               on_progress, log)
    run = _LayerRun(cut, cfg, layer, info, neurons, layer_dir, key, record, weights, bar)
    bar.set_postfix_str(f"demixing, {groups} pattern group(s)", refresh=True)
    indicators = {}
    for r in _analyse_all(run, samples, groups, {}):
        write_neuron(stage / f"P{groups}" / f"neuron{r.samples.neuron}", r, layer, info.rf, groups, cut.pool_sizes)
        indicators[str(r.samples.neuron)] = r.indicator
    bar.close()
    path = shard_record(layer_dir, neurons, groups)
    write_json(path, {"key": key, "config": record, "model_fingerprint": weights, "neurons": neurons,
                      "pattern_groups": groups, "indicators": indicators})
    log(f"conv{layer}: shard {shard_name(neurons)} staged {len(neurons)} neurons with {groups} pattern group(s)")
    return path


def _read_shards(layer_dir: Path, neurons: Sequence[int], groups: int, record: dict, weights: str) -> tuple:
    """Every neuron's indicator at ``groups`` from the shards' records, and their sampling key."""
    merged: dict[str, float] = {}
    keys = set()
    for path in sorted((layer_dir / SHARDS).glob(f"*.P{groups}.json")):
        r = read_stamp(path) or {}
        if r.get("config") != record or r.get("model_fingerprint") != weights:
            raise InputError(f"{path}: staged with other settings or weights; rerun its shard")
        keys.add(r.get("key"))
        merged.update(r.get("indicators", {}))
    if len(keys) > 1:
        raise InputError(f"{layer_dir / SHARDS}: shards sampled under different keys "
                         "(device, batch size or seeding layer); rerun them")
    missing = [k for k in neurons if str(k) not in merged]
    if missing:
        raise InputError(f"{layer_dir / SHARDS}: no shard staged neurons {missing[:10]} of {layer_dir.name} "
                         f"with {groups} pattern group(s); run their shards first")
    return merged, keys.pop()


def decide_groups(indicators: dict[str, float], neurons: Sequence[int], groups: int, cfg: DiscoveryConfig,
                  pooled: bool) -> tuple[bool, dict]:
    """One step of the layer's decision, as one run over the layer takes it: the pattern-groups
    test over every neuron's indicator at ``groups``, in neuron order.

    Parameters
    ----------
    indicators : dict
        ``"<neuron>"`` -> the neuron's exact indicator at ``groups``.
    neurons : sequence of int
        The layer's selection, in order (the test's order).
    groups : int
        The pattern groups tested.
    cfg : DiscoveryConfig
        Its ``demix`` settings.
    pooled : bool
        Whether a max-pool lies below the layer.

    Returns
    -------
    tuple
        Whether ``groups`` is the layer's (the test passed, the last candidate, or the groups do
        not adapt), and the test record (``layer.json``'s ``pattern_group_tests`` entry).
    """
    ok, test = accept_pattern_groups([indicators[str(k)] for k in neurons], cfg.demix)
    test["pattern_groups"] = groups
    return ok or groups >= candidate_groups(cfg, pooled)[-1], test


def decide_layer(model: nn.Module, layer: int, cfg: DiscoveryConfig, groups: int | None = None,
                 discovery_dir: Path | None = None) -> dict:
    """Test conv ``layer``'s shards at ``groups`` pattern groups; record the decision so far.

    Parameters
    ----------
    model : nn.Module
        The model.
    layer : int
        The conv layer; every selected neuron must be staged at ``groups``.
    cfg : DiscoveryConfig
        The discovery settings (its selection is the layer's).
    groups : int, optional
        Pattern groups (default the first tried); a later one needs the decision at the one before.
    discovery_dir : Path, optional
        ``results/<model>/discovery`` (default: from ``cfg``).

    Returns
    -------
    dict
        ``conv<L>/.shards/decision.json``: ``pattern_groups``, ``decided`` (false: the layer
        needs its shards at ``groups + 1``), ``tests`` (every test so far), ``key``, ``neurons``.
    """
    ddir = Path(discovery_dir) if discovery_dir else cfg.discovery_dir()
    anatomy, info, cut, cfg, _, record = _prepared(model, layer, cfg)
    groups = groups or cfg.demix.pattern_groups
    layer_dir = layout.layer_dir(ddir, layer)
    neurons = cfg.layers.neurons(layer, info.out_channels)
    indicators, key = _read_shards(layer_dir, neurons, groups, record, model_fingerprint(model))
    path = layer_dir / SHARDS / "decision.json"
    tests = []
    if groups > cfg.demix.pattern_groups:
        before = read_stamp(path) or {}
        if before.get("pattern_groups") != groups - 1 or before.get("decided") or before.get("key") != key:
            raise InputError(f"{path}: no open decision at {groups - 1} pattern group(s); decide that first")
        tests = before["tests"]
    decided, test = decide_groups(indicators, neurons, groups, cfg, bool(cut.pool_sizes))
    decision = {"pattern_groups": groups, "decided": decided, "tests": tests + [test], "key": key,
                "neurons": neurons}
    write_json(path, decision)
    return decision


def merge_layer(model: nn.Module, layer: int, cfg: DiscoveryConfig, discovery_dir: Path | None = None,
                log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Publish conv ``layer``'s staged neurons at its decided pattern groups.

    Parameters
    ----------
    model : nn.Module
        The model.
    layer : int
        The conv layer; :func:`decide_layer` must have decided it.
    cfg : DiscoveryConfig
        The discovery settings.
    discovery_dir : Path, optional
        ``results/<model>/discovery`` (default: from ``cfg``).
    log : callable, optional
        Receives one line per step (default: standard error).

    Returns
    -------
    pandas.DataFrame
        The layer's ``summary.csv``.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    ddir = Path(discovery_dir) if discovery_dir else cfg.discovery_dir()
    anatomy, info, cut, cfg, _, record = _prepared(model, layer, cfg)
    layer_dir = layout.layer_dir(ddir, layer)
    decision = read_stamp(layer_dir / SHARDS / "decision.json") or {}
    neurons = cfg.layers.neurons(layer, info.out_channels)
    if not decision.get("decided") or decision.get("neurons") != neurons:
        raise InputError(f"{layer_dir / SHARDS / 'decision.json'}: conv{layer}'s pattern groups are not "
                         "decided for these neurons (run --step decide)")
    groups = decision["pattern_groups"]
    write_text(ddir / "anatomy.csv", pd.DataFrame(anatomy.table()).to_csv(index=False))
    _write_layer_meta(layer_dir / "layer.json", layer, info, neurons, groups, decision["tests"], record,
                      model_fingerprint(model))
    staged = {p.name: p for p in (layer_dir / SHARDS).glob(f"*/P{groups}/neuron*")}
    for k in neurons:
        # copied, not moved: a merge killed half-way and rerun still finds every staged neuron
        with atomic_path(layout.neuron_dir(ddir, layer, k)) as tmp:
            shutil.copytree(staged[f"neuron{k}"], tmp)
    summary = write_summary(layer_dir)
    # Last: a merge killed before this point is rerun whole from the staged shards.
    shutil.rmtree(layer_dir / SHARDS)
    log(f"conv{layer}: merged {len(neurons)} neurons with {groups} pattern group(s)")
    return summary


def run_step(step: str, cfg: DiscoveryConfig, layers: Sequence[int], model: nn.Module,
             groups: int | None = None) -> int:
    """``combmotif discovery --step plan|shard|decide|merge``: one step of a sharded run.

    Parameters
    ----------
    step : {"plan", "shard", "decide", "merge"}
        ``plan``: print each layer's selection and candidate pattern groups (JSON); ``shard``:
        :func:`run_shard` of the selected neurons; ``decide``: :func:`decide_layer` (prints the
        decision); ``merge``: :func:`merge_layer`.
    cfg : DiscoveryConfig
        The discovery settings (``--neurons`` already applied).
    layers : sequence of int
        Conv layers; ``shard``, ``decide`` and ``merge`` take one.
    model : nn.Module
        The model (checked by :func:`.stage.preflight`).
    groups : int, optional
        ``--groups``: the pattern groups a shard stages or a decision tests.

    Returns
    -------
    int
        0.
    """
    import json

    import torch

    if step == "plan":
        print(json.dumps(layer_plan(model, cfg, layers)))
        return 0
    if len(layers) != 1:
        raise InputError(f"--step {step} takes one layer (--layers L); got {len(layers)} layers")
    torch.manual_seed(cfg.seed)
    layer = layers[0]
    if step == "shard":
        neurons = cfg.layers.neurons(layer, Anatomy(model).layer(layer).out_channels)
        print(f"wrote {run_shard(model, layer, cfg, neurons, groups)}")
    elif step == "decide":
        print(json.dumps(decide_layer(model, layer, cfg, groups)))
    else:
        merge_layer(model, layer, cfg)
        print(f"wrote {layout.layer_dir(cfg.discovery_dir(), layer)}")
    return 0
