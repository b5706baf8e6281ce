"""NeuronMotif driver: config, one layer at a time, outputs per neuron.

``discover_layer`` samples every selected neuron of conv layer L as one
batched population (:mod:`.sample`), demixes each neuron's samples
(:mod:`.demix`) with the layer's adaptive number of pattern groups, builds
cluster PPMs and segments (:mod:`.ppm`), and writes

``<output_dir>/<model>/discovery/``
    ``anatomy.csv``                      conv layers: RF, jump, offset, pools
    ``conv<L>/layer.json``               anatomy row, neurons, pattern groups and its test
    ``conv<L>/summary.csv``              one row per finished neuron
    ``conv<L>/neuron<k>/samples.npz``    ``codes`` (A, RF) int8, ``act`` (A,) float32,
                                         ``cluster`` (A,) int16 (leaf id, -1 none)
    ``conv<L>/neuron<k>/clusters.json``  per-cluster tree path, size, activations, indicator, segments
    ``conv<L>/neuron<k>/ppms.meme``      one PPM per cluster (id ``conv<L>-n<k>-c<i>``)
    ``conv<L>/neuron<k>/segments.meme``  motif segments (id ``conv<L>-n<k>-c<i>-s<j>``)

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

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..checkpoint import check_device
from ..config import check_selection, load_config, parse_range, path_field, to_dict
from ..errors import ConfigError, InputError
from ..io import (atomic_path, clean_partials, fault_point, read_stamp, save_npz, settings_changes,
                  write_json, write_text)
from ..models.anatomy import Anatomy, ConvCut
from ..models.loader import ModelSpec, model_fingerprint
from ..motifs.match import MatchConfig
from ..sequences import indices_to_one_hot
from .demix import DemixConfig, Leaf, accept_pattern_groups, demix, pool_features
from .ppm import (PPMConfig, consensus, consensus_codes, find_segments, format_meme, information_content,
                  laplace, read_meme, weighted_ppm)
from .sample import NeuronSamples, SamplingConfig, _forward, sample_layer

REPO_ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- config


@dataclass
class LayersConfig:
    """Which neurons to interpret: ``ind`` for every layer, ``per_layer`` overrides."""

    ind: str | list[int] = "all"
    per_layer: dict[str, str | list[int]] = field(default_factory=dict)

    def neurons(self, layer: int, n: int) -> list[int]:
        spec = self.ind
        for key, value in self.per_layer.items():
            if str(key).removeprefix("conv") == str(layer):
                spec = value
        try:
            return parse_range(spec, n)
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"'layers' of conv{layer}: {exc}") from None

    def validate(self) -> None:
        check_selection(self.ind, "layers.ind")
        for key, spec in self.per_layer.items():
            if not str(key).removeprefix("conv").isdigit():
                raise ValueError(f"'layers.per_layer' key {key!r} must be a layer: conv<L> or <L>")
            check_selection(spec, f"layers.per_layer.{key}")


@dataclass
class ReportConfig:
    """Pages written after matching."""

    enabled: bool = True     # match every layer against motif_db and write the HTML pages
    png: bool = True         # a logomaker PNG beside every interactive logo (about 0.3 s each)


@dataclass
class DiscoveryConfig:
    """A discovery config file (``configs/interpreting/*.yaml``)."""

    model: ModelSpec
    name: str | None = None
    output_dir: str | None = path_field(None)
    motif_db: str | list[str] = "curated"  # curated | planted | jaspar:2024:CORE:vertebrates | a file; join with + or list
    data_dir: str | None = path_field(None)  # the synthetic set's folder (planted.meme) for motif_db 'planted'
    matching: MatchConfig = field(default_factory=MatchConfig)
    report: "ReportConfig" = field(default_factory=lambda: ReportConfig())
    seed: int = 0
    device: str = "auto"
    batch_size: int = 2048
    layers: LayersConfig = field(default_factory=LayersConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    demix: DemixConfig = field(default_factory=DemixConfig)
    ppm: PPMConfig = field(default_factory=PPMConfig)

    def validate(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"'batch_size' must be >= 1; got {self.batch_size}")
        check_device(self.device)

    @property
    def model_file(self) -> Path:
        return Path(self.model.checkpoint or self.model.keras_hdf5)

    @property
    def model_name(self) -> str:
        return self.name or self.model.name or self.model_file.stem.removesuffix("-best")

    def discovery_dir(self) -> Path:
        root = Path(self.output_dir) if self.output_dir else REPO_ROOT / "results"
        return root / self.model_name / "discovery"


def load_discovery_config(path: str | Path, overrides: dict | None = None) -> DiscoveryConfig:
    return load_config(path, DiscoveryConfig, overrides)


# --------------------------------------------------------------------------- per-neuron analysis


@dataclass
class NeuronResult:
    samples: NeuronSamples
    leaves: list[Leaf]
    clusters: list[dict]
    ppms: list[np.ndarray]
    indicator: float


def _motif_id(layer: int, neuron: int, cluster: int, seg: int | None = None) -> str:
    base = f"conv{layer}-n{neuron}-c{cluster}"
    return base if seg is None else f"{base}-s{seg}"


def analyse_neuron(cut: ConvCut, s: NeuronSamples, pattern_groups: int, cfg: DiscoveryConfig,
                   layer: int) -> NeuronResult:
    """Demix one neuron's samples and describe every leaf cluster (PPM, IC, segments)."""
    if len(s.act) == 0:
        return NeuronResult(s, [], [], [], float("nan"))
    if cut.pool_sizes:
        feats, sizes = pool_features(cut, s.codes, cfg.batch_size), tuple(cut.pool_sizes)
    elif layer > 1:
        # No max-pool below this layer, so nothing tells apart the arrangements of
        # the layer-1 patterns it combines; k-means on the samples' one-hot does
        # (2 ** P clusters), or their PPM mixes several patterns into none.
        feats, sizes = [indices_to_one_hot(s.codes).transpose(0, 2, 1).reshape(len(s.codes), -1)], (2,)
    else:
        feats, sizes = [], ()
    leaves = demix(feats, s.act, sizes, pattern_groups, cfg.demix, cfg.seed, s.neuron)
    ppms, raw_sizes = [], []
    for leaf in leaves:
        raw = weighted_ppm(s.codes[leaf.index], s.act[leaf.index], cfg.ppm.bins)
        ppms.append(laplace(raw, len(leaf.index), cfg.ppm.pseudocount))
        raw_sizes.append(len(leaf.index))
    device = next(iter(cut.buffers())).device
    cons = torch.as_tensor(np.stack([consensus_codes(p) for p in ppms]), device=device)
    cons_act = _forward(cut, cons, cfg.batch_size)[:, s.neuron].cpu().numpy().astype(np.float64)
    neuron_max = float(s.act.max())
    clusters = []
    for i, (leaf, ppm) in enumerate(zip(leaves, ppms)):
        a = s.act[leaf.index]
        cmax = float(a.max())
        ratio = float(cons_act[i] / cmax) if cmax > 0 else float("nan")
        coverage = cmax / neuron_max
        ic = information_content(ppm)
        segs = find_segments(ic, cfg.ppm)
        seg_dicts = []
        for j, seg in enumerate(segs):
            # Quality: sharp (IC contrast) x faithful (consensus reaches the cluster's max)
            # x important (the cluster reaches the neuron's max).
            seg.quality = max(seg.contrast, 0.0) * min(max(ratio, 0.0), 1.0) * coverage
            d = seg.as_dict()
            d.update(motif_id=_motif_id(layer, s.neuron, i, j), consensus=consensus(ppm[seg.start:seg.end]))
            seg_dicts.append(d)
        clusters.append({
            "id": i, "motif_id": _motif_id(layer, s.neuron, i), "path": list(leaf.path),
            "size": int(len(leaf.index)), "max_activation": round(cmax, 6),
            "mean_activation": round(float(a.mean()), 6), "consensus": consensus(ppm),
            "consensus_activation": round(float(cons_act[i]), 6), "ratio": round(ratio, 6),
            "coverage": round(coverage, 6), "ic_mean": round(float(ic.mean()), 4),
            "segments": sorted(seg_dicts, key=lambda d: -d["quality"]),
        })
    finite = [c["ratio"] for c in clusters if np.isfinite(c["ratio"])]
    indicator = float(max(finite)) if finite else float("nan")
    return NeuronResult(s, leaves, clusters, ppms, indicator)


def _write_neuron(dirpath: Path, res: NeuronResult, layer: int, rf: int, pattern_groups: int,
                  pool_sizes: Sequence[int]) -> None:
    s = res.samples
    cluster_of = np.full(len(s.act), -1, dtype=np.int16)
    for i, leaf in enumerate(res.leaves):
        cluster_of[leaf.index] = i
    best = int(np.nanargmax([c["ratio"] for c in res.clusters])) if res.clusters and np.isfinite(res.indicator) \
        else None
    with atomic_path(dirpath) as tmp:
        tmp.mkdir()
        save_npz(tmp / "samples.npz", codes=s.codes.astype(np.int8), act=s.act.astype(np.float32),
                 cluster=cluster_of)
        write_json(tmp / "clusters.json", {
            "layer": layer, "neuron": s.neuron, "rf": rf, "method": s.method,
            "generations": s.generations, "evaluations": s.evaluations, "n_samples": int(len(s.act)),
            "max_activation": round(s.max_activation, 6), "pattern_groups": pattern_groups,
            "pool_sizes": list(pool_sizes),
            "indicator": round(res.indicator, 6) if np.isfinite(res.indicator) else None,
            "best_cluster": best, "clusters": res.clusters,
        })
        motifs, segs = [], []
        for c, ppm in zip(res.clusters, res.ppms):
            motifs.append((c["motif_id"], f"n={c['size']},max={c['max_activation']:.4g},"
                                          f"cons={c['consensus_activation']:.4g}", ppm, c["size"]))
            for d in c["segments"]:
                segs.append((d["motif_id"], f"pos={d['start']}-{d['end']},ic={d['ic_mean']:.3g},"
                                            f"q={d['quality']:.3g}", ppm[d["start"]:d["end"]], c["size"]))
        write_text(tmp / "ppms.meme", format_meme(motifs))
        write_text(tmp / "segments.meme", format_meme(segs))


SUMMARY_COLUMNS = ["layer", "neuron", "rf", "method", "generations", "evaluations", "n_samples",
                   "max_activation", "pattern_groups", "n_clusters", "indicator", "best_cluster",
                   "best_consensus", "best_segment", "best_segment_consensus", "best_segment_quality"]


def _summary_row(info: dict) -> dict:
    segs = [d for c in info["clusters"] for d in c["segments"]]
    top = max(segs, key=lambda d: d["quality"]) if segs else None
    best = info["best_cluster"]
    return {
        "layer": info["layer"], "neuron": info["neuron"], "rf": info["rf"], "method": info["method"],
        "generations": info["generations"], "evaluations": info["evaluations"],
        "n_samples": info["n_samples"], "max_activation": info["max_activation"],
        "pattern_groups": info["pattern_groups"], "n_clusters": len(info["clusters"]),
        "indicator": info["indicator"], "best_cluster": best,
        "best_consensus": info["clusters"][best]["consensus"] if best is not None else "",
        "best_segment": top["motif_id"] if top else "", "best_segment_consensus": top["consensus"] if top else "",
        "best_segment_quality": top["quality"] if top else None,
    }


def write_summary(layer_dir: Path) -> pd.DataFrame:
    """Rebuild ``summary.csv`` from every finished neuron folder of the layer."""
    rows = []
    for d in layer_dir.glob("neuron*/clusters.json"):
        rows.append(_summary_row(json.loads(d.read_text())))
    df = pd.DataFrame(rows, columns=SUMMARY_COLUMNS).sort_values("neuron", kind="stable").reset_index(drop=True)
    df["best_cluster"] = df["best_cluster"].astype("Int64")   # empty, not NaN, for a dead neuron
    write_text(layer_dir / "summary.csv", df.to_csv(index=False))
    return df


def previous_layer_ppms(discovery_dir: Path, layer: int) -> list[np.ndarray]:
    """Cluster PPMs of every finished neuron of layer ``layer - 1`` (for GA seeding)."""
    prev = discovery_dir / f"conv{layer - 1}"
    files = sorted(prev.glob("neuron*/ppms.meme"), key=lambda p: int(p.parent.name[len("neuron"):]))
    return [ppm for f in files for _, _, ppm in read_meme(f)]


# --------------------------------------------------------------------------- the layer


def discover_layer(model: nn.Module, layer: int, cfg: DiscoveryConfig, discovery_dir: Path | None = None,
                   force: bool = False, progress: bool = True,
                   log: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Interpret the selected neurons of conv ``layer`` of ``model``; returns the layer summary.

    Parameters
    ----------
    model : nn.Module
        A model whose conv trunk :class:`~combmotif.models.anatomy.Anatomy` can walk.
    discovery_dir : Path, optional
        ``results/<model>/discovery`` (default: from ``cfg``).
    force : bool
        Redo finished neurons and re-decide the layer's pattern groups.
    """
    from tqdm import tqdm

    log = log or (lambda msg: print(msg, file=sys.stderr))
    ddir = Path(discovery_dir) if discovery_dir else cfg.discovery_dir()
    device = next(model.parameters()).device
    anatomy = Anatomy(model)
    info = anatomy.layer(layer)
    layer_dir = ddir / f"conv{layer}"
    clean_partials(ddir, depth=0)          # a killed run's half-written units never survive a rerun
    clean_partials(layer_dir, depth=1)
    ddir.mkdir(parents=True, exist_ok=True)
    write_text(ddir / "anatomy.csv", pd.DataFrame(anatomy.table()).to_csv(index=False))
    neurons = cfg.layers.neurons(layer, info.out_channels)
    meta_path = layer_dir / "layer.json"
    weights = model_fingerprint(model)
    record = _config_record(cfg)
    # What the finished neurons were made with: layer.json, or, for a layer whose run
    # was killed before writing it, the record kept beside its neurons.
    made = read_stamp(meta_path) or read_stamp(layer_dir / DEMIX_KEPT)
    if not force and made is not None and made.get("model_fingerprint") != weights:
        log(f"conv{layer}: the model's weights are not those the finished neurons were made with; "
            f"redoing the layer")
        force = True
    elif not force and made is not None and made.get("config") != record:
        # Also when every neuron is finished: outputs never mix two settings.
        log(f"conv{layer}: settings changed since the finished neurons were made "
            f"({settings_changes(made.get('config') or {}, record)}); redoing the layer")
        force = True
    finished = {k for k in neurons if (layer_dir / f"neuron{k}" / "clusters.json").is_file()}
    pending = list(neurons) if force else [k for k in neurons if k not in finished]
    if not pending:
        log(f"conv{layer}: all {len(neurons)} selected neurons already done (use --force to redo)")
        return write_summary(layer_dir)

    # A layer already started keeps its pattern groups (resume).
    fixed = json.loads(meta_path.read_text()).get("pattern_groups") if not force and meta_path.is_file() \
        else None

    cut = anatomy.cut(layer, cfg.sampling.after_activation, cfg.sampling.extra_tracks).to(device)
    seed_ppms = None
    if cfg.sampling.seed_from_previous and layer > 1 and info.rf > cfg.sampling.enumerate_max_rf:
        seed_ppms = previous_layer_ppms(ddir, layer) or None
    bar = tqdm(total=len(pending), desc=f"conv{layer}", unit="neuron", disable=None, file=sys.stderr,
               leave=True, dynamic_ncols=True)

    def on_progress(p: dict) -> None:
        if p["stage"] in ("ga", "screened"):
            bar.n = p["finished"]
            bar.set_postfix_str(f"generation {p['generation']}, {p['active']} evolving", refresh=True)
        else:
            bar.set_postfix_str(f"enumerating {100 * p['done'] // p['total']}%", refresh=True)

    # The layer's sampling is kept on disk until every neuron is written, so a run
    # killed while demixing or writing resumes without sampling again.
    kept = layer_dir / SAMPLES_KEPT
    key = _sampling_key(cfg, layer, weights, seed_ppms, device)
    samples = load_kept_samples(kept, key, pending)
    if samples is not None:
        log(f"conv{layer}: reusing the sampling of {len(pending)} neurons kept by an unfinished run "
            f"({kept.name})")
    else:
        t0 = time.perf_counter()
        samples = sample_layer(cut, pending, cfg.sampling, cfg.seed, layer, cfg.batch_size, seed_ppms,
                               on_progress if progress else None)
        t_sample = time.perf_counter() - t0
        fault_point("sampling")
        save_kept_samples(kept, key, samples)
        method = samples[0].method
        log(f"conv{layer}: RF {info.rf}, sampled {len(pending)} neurons by "
            f"{'enumeration' if method == 'enumerate' else 'GA'} "
            f"({sum(s.evaluations for s in samples):,} evaluations"
            + (f", up to {max(s.generations for s in samples)} generations" if method == "ga" else "")
            + f") in {t_sample:.1f} s" + (" seeded from conv%d PPMs" % (layer - 1) if seed_ppms else ""))
    bar.n = 0

    # Pattern groups: reuse a decision already taken for this layer (resume), else adapt.
    t1 = time.perf_counter()
    groups = fixed or cfg.demix.pattern_groups
    adapt = fixed is None and cfg.demix.adaptive and bool(cut.pool_sizes)
    demixed = layer_dir / DEMIX_KEPT
    indicators = _kept_indicators(demixed, key, groups) if not force else {}

    def write(r: NeuronResult) -> None:
        _write_neuron(layer_dir / f"neuron{r.samples.neuron}", r, layer, info.rf, groups, cut.pool_sizes)
        # exact indicators of written neurons: the layer's test needs them all
        indicators[r.samples.neuron] = r.indicator
        write_json(demixed, {"key": key, "pattern_groups": groups, "config": record,
                             "model_fingerprint": weights,
                             "indicators": {str(k): v for k, v in indicators.items()}})
        bar.update(1)

    tests = []
    if adapt:
        # The layer's test over every neuron's indicator decides the groups, so
        # neurons are written once it has passed.
        while True:
            bar.set_postfix_str(f"demixing, {groups} pattern group(s)", refresh=True)
            results = []
            for s in samples:
                results.append(analyse_neuron(cut, s, groups, cfg, layer))
                fault_point("demixing")
            ok, test = accept_pattern_groups([r.indicator for r in results], cfg.demix)
            test["pattern_groups"] = groups
            tests.append(test)
            if ok or groups >= cfg.demix.max_pattern_groups:
                break
            groups += 1
        _write_layer_meta(meta_path, layer, info, neurons, groups, tests, record, weights)
        for r in results:
            write(r)
    else:
        # The groups are settled: each neuron is written as soon as it is demixed.
        bar.set_postfix_str(f"demixing, {groups} pattern group(s)", refresh=True)
        for s in samples:
            write(analyse_neuron(cut, s, groups, cfg, layer))
            fault_point("demixing")
        if fixed is None:
            ok, test = accept_pattern_groups([indicators.get(k, np.nan) for k in neurons], cfg.demix)
            test["pattern_groups"] = groups
            tests.append(test)
            _write_layer_meta(meta_path, layer, info, neurons, groups, tests, record, weights)
    bar.close()
    if tests:
        log(f"conv{layer}: demixed with {groups} pattern group(s) (mean indicator {tests[-1]['mean']:.3f}"
            + (f", t-test p={tests[-1]['p']:.3g}" if tests[-1]["p"] is not None else "")
            + f") in {time.perf_counter() - t1:.1f} s")
    else:
        log(f"conv{layer}: demixed {len(pending)} neurons with the layer's {groups} pattern group(s) "
            f"in {time.perf_counter() - t1:.1f} s")
    kept.unlink(missing_ok=True)           # the layer is finished: its neuron folders hold the samples
    demixed.unlink(missing_ok=True)
    return write_summary(layer_dir)


#: Files kept in ``conv<L>/`` while a layer is unfinished (removed when it is).
SAMPLES_KEPT = ".samples.npz"
DEMIX_KEPT = ".demixed.json"


def _write_layer_meta(path: Path, layer: int, info, neurons: Sequence[int], groups: int, tests: list,
                      record: dict, weights: str) -> None:
    write_json(path, {
        "layer": layer, "anatomy": info.row(), "neurons": neurons, "pattern_groups": groups,
        "pattern_group_tests": tests, "config": record, "model_fingerprint": weights,
    })


def _sampling_key(cfg: DiscoveryConfig, layer: int, weights: str, seed_ppms, device) -> str:
    """Hash of everything that shapes a layer's samples: weights, layer, sampler settings,
    seed, batch size, device and the previous layer's PPMs that seed the GA."""
    import hashlib

    h = hashlib.sha1()
    h.update(json.dumps([weights, layer, to_dict(cfg.sampling), cfg.seed, cfg.batch_size, str(device)],
                        sort_keys=True, default=str).encode())
    for p in seed_ppms or []:
        h.update(np.ascontiguousarray(p, dtype=np.float64).tobytes())
    return h.hexdigest()


def save_kept_samples(path: Path, key: str, samples: Sequence[NeuronSamples]) -> None:
    """Keep a layer's samples (atomically) until its neurons are written."""
    arrays = {"key": np.array(key), "neurons": np.array([s.neuron for s in samples], dtype=np.int64),
              "method": np.array([s.method for s in samples]),
              "generations": np.array([s.generations for s in samples], dtype=np.int64),
              "evaluations": np.array([s.evaluations for s in samples], dtype=np.int64)}
    for s in samples:
        arrays[f"codes{s.neuron}"] = s.codes
        arrays[f"act{s.neuron}"] = s.act
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)         # uncompressed: written once, read at most once


def load_kept_samples(path: Path, key: str, neurons: Sequence[int]) -> list[NeuronSamples] | None:
    """The kept samples of ``neurons`` when ``path`` was made under ``key`` and holds them all.

    A neuron's samples do not depend on which others shared its batch (the
    sampler's randomness is per neuron), so a subset of a kept layer is exact.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            if str(z["key"]) != key:
                return None
            index = {int(k): i for i, k in enumerate(z["neurons"])}
            if any(k not in index for k in neurons):
                return None
            return [NeuronSamples(int(k), z[f"codes{k}"], z[f"act{k}"], str(z["method"][index[k]]),
                                  int(z["generations"][index[k]]), int(z["evaluations"][index[k]]))
                    for k in neurons]
    except (OSError, ValueError, KeyError):  # unreadable: sample again
        return None


def _kept_indicators(path: Path, key: str, groups: int) -> dict[int, float]:
    """Exact indicators of the neurons an unfinished run wrote under the same sampling and groups."""
    kept = read_stamp(path) or {}
    if kept.get("key") != key or kept.get("pattern_groups") != groups:
        return {}
    return {int(k): float(v) for k, v in kept.get("indicators", {}).items()}


def made_with_other_weights(layer_dir: Path, weights: str | nn.Module) -> bool:
    """Whether a started layer folder was made by a model with other weights.

    ``weights``: a module or its :func:`~combmotif.models.loader.model_fingerprint`.
    A folder without a recorded fingerprint (older outputs) counts as other weights.
    """
    meta_path = Path(layer_dir) / "layer.json"
    if not meta_path.is_file():
        return False
    if isinstance(weights, nn.Module):
        weights = model_fingerprint(weights)
    return json.loads(meta_path.read_text()).get("model_fingerprint") != weights


def _config_record(cfg: DiscoveryConfig) -> dict:
    """Settings that shape a neuron's outputs (not paths, device, batch size or the neuron selection)."""
    d = json.loads(json.dumps(to_dict(cfg)))
    for key in ("output_dir", "name", "device", "batch_size", "layers"):
        d.pop(key, None)
    for key in ("motif_db", "data_dir", "matching", "report"):
        d.pop(key, None)  # matching and pages do not change the neuron folders
    d["model"] = cfg.model_file.name
    return d


def load_model(cfg: DiscoveryConfig) -> nn.Module:
    """The module named by the config's ``model:`` section (our checkpoint or a Keras HDF5 file)."""
    from ..models.loader import load_model as load_spec

    return load_spec(cfg.model, cfg.device).module.eval()


def match_and_report(cfg: DiscoveryConfig, layers: Sequence[int], config_dir: Path | None = None,
                     log: Callable[[str], None] | None = None) -> Path:
    """Tomtom every segment of ``layers`` against ``cfg.motif_db`` in one call per layer, write
    ``tomtom.tsv``/``matches.csv``, the neuron pages, the layer indexes, the collected table
    and the model's front page; return the front page's path."""
    from ..motifs.collect import collect_model
    from ..motifs.databases import motif_db_text, resolve_motif_db
    from ..motifs.match import match_layer
    from ..report.pages import write_layer_report, write_model_index

    log = log or (lambda msg: print(msg, file=sys.stderr))
    ddir = cfg.discovery_dir()
    model_dir = ddir.parent
    targets = resolve_motif_db(cfg.motif_db, data_dir=cfg.data_dir, base_dir=config_dir)
    if cfg.report.png:
        # The PNGs are most of the page time (0.2-0.6 s per cluster logo); the pages'
        # interactive logos do not need them.
        log("pages: a PNG logo per cluster (0.2-0.6 s each) is most of the page time; "
            "'report: {png: false}' in the config skips them (the pages keep their interactive logos)")
    clean_partials(model_dir, depth=0)     # the front page and collected tables of a killed run
    for layer in layers:
        layer_dir = ddir / f"conv{layer}"
        clean_partials(layer_dir, depth=1)
        t0 = time.perf_counter()
        matches = match_layer(layer_dir, targets, cfg.matching)
        contribution = model_dir / "contribution" / f"conv{layer}" / "neuron_contribution.csv"
        write_layer_report(layer_dir, matches, targets, cfg.matching, model=cfg.model_name,
                           png=cfg.report.png,
                           contribution_csv=contribution if contribution.is_file() else None)
        n_sig = int(matches.loc[matches["q"] < cfg.matching.significance, "neuron"].nunique()) \
            if len(matches) else 0
        log(f"conv{layer}: matched against {motif_db_text(cfg.motif_db)} ({len(targets)} motifs): {n_sig} neurons "
            f"with a match at q < {cfg.matching.significance}; pages in {time.perf_counter() - t0:.1f} s")
        fault_point("pages")
    collect_model(model_dir, targets, cfg.matching)
    return write_model_index(model_dir, significance=cfg.matching.significance)


def preflight(cfg: DiscoveryConfig, layers: Sequence[int], source: str | Path,
              config_dir: Path | None = None) -> None:
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
    config_dir : Path, optional
        Folder relative motif files are resolved against.

    Raises
    ------
    combmotif.errors.CombMotifError
        One message naming the file, the key and the value.
    """
    from ..io import check_output_dir
    from ..motifs.databases import check_motif_db

    check_output_dir(cfg.discovery_dir(), str(source), "output_dir")
    model = load_model(cfg)
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
        check_motif_db(cfg.motif_db, str(source), "motif_db", data_dir=cfg.data_dir, base_dir=config_dir)


def run_discovery(cfg: DiscoveryConfig, layers: Sequence[int], force: bool = False,
                  progress: bool = True, config_dir: Path | None = None) -> dict[int, pd.DataFrame]:
    """Load the model once, interpret ``layers`` in order (shallow first), then match and report."""
    torch.manual_seed(cfg.seed)
    model = load_model(cfg)
    n = len(Anatomy(model))
    for layer in layers:
        if not 1 <= layer <= n:
            raise InputError(f"layer {layer} does not exist: {cfg.model_file.name} has conv1..conv{n}")
    out = {layer: discover_layer(model, layer, cfg, force=force, progress=progress) for layer in layers}
    if cfg.report.enabled:
        index = match_and_report(cfg, layers, config_dir)
        print(f"pages: {index}", file=sys.stderr)
    return out
