"""Discovery speed: the former path (scikit-learn k-means, PNG logos) against the new one (batched
k-means, no PNGs), in the same run, and how well the two k-means agree.

    python bench/discovery_speed.py [--config configs/interpreting/mrl_predictor.yaml] [--layers 1-4]
                                    [--results /tmp/discovery_speed] [--device cpu] [--out table.md]
                                    [--neurons 0:64] [--paths old,new,new-sklearn]

Each path is the real command (``combmotif discovery <config> --layers A-B --force``) in its own
process, on a copy of the config whose ``results_dir`` is ``--results/<path>``, ``demix.backend``
and ``report.png`` set as above. Per layer it prints the seconds of sampling, demixing and
"Tomtom + syntax + pages" from the command's log lines, then Tomtom alone (re-timed here on the
new path's results: the same segments and database, so the same work for both paths) and the
pages as the rest; the whole command's wall time of each path and their ratio; and the load
average, since other processes on the machine slow both paths.

Then the agreement: for every demixed neuron of the new path's layers, its samples' features
(:func:`combmotif.neuronmotif.units.layer_features`) are demixed with both backends at the layer's
pattern groups and the same seed, and the adjusted Rand index of the two leaf partitions is
summarised (min, quartiles, share >= 0.9), beside scikit-learn at the next seed against itself:
k-means has several local optima on ambiguous neurons, so that reference is the agreement any
other random stream can expect.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PATHS = {"old": {"demix": {"backend": "sklearn"}, "report": {"png": True}},
         "new": {"demix": {"backend": "batched"}, "report": {"png": False}},
         "new-sklearn": {"demix": {"backend": "sklearn"}, "report": {"png": False}}}
LINES = {"sampling": re.compile(r"^conv(\d+): RF .* in ([\d.]+) s"),
         "demixing": re.compile(r"^conv(\d+): demixed .* in ([\d.]+) s"),
         "tomtom+pages": re.compile(r"^conv(\d+): matched against .* pages in ([\d.]+) s")}


def _absolute(cfg: dict, folder: Path) -> dict:
    """The config's file paths made absolute (the copy lives in another folder)."""
    for section, key in (("model", "checkpoint"), ("model", "keras_hdf5")):
        if cfg.get(section, {}).get(key):
            cfg[section][key] = str((folder / cfg[section][key]).resolve())
    if cfg.get("data_dir"):
        cfg["data_dir"] = str((folder / cfg["data_dir"]).resolve())
    db = cfg.get("motif_db")
    parts = db if isinstance(db, list) else str(db).split("+") if db else []
    fixed = [str((folder / p).resolve()) if (folder / p).is_file() else p for p in parts]
    if parts:
        cfg["motif_db"] = fixed if isinstance(db, list) else "+".join(fixed)
    return cfg


def write_config(source: Path, results: Path, name: str, extra: dict) -> Path:
    """A copy of ``source`` under ``results`` with results_dir ``results/<name>`` and ``extra`` set.

    Parameters
    ----------
    source : Path
        The discovery config.
    results : Path
        The bench's scratch folder.
    name : str
        The path's name (``old``, ``new``).
    extra : dict
        Sections merged over the config's.

    Returns
    -------
    Path
        The written config.
    """
    cfg = _absolute(yaml.safe_load(source.read_text()), source.parent)
    cfg["results_dir"] = str(results / name)
    for section, values in extra.items():
        cfg[section] = {**(cfg.get(section) or {}), **values}
    results.mkdir(parents=True, exist_ok=True)
    out = results / f"{name}.yaml"
    out.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out


def run_path(config: Path, layers: str, device: str | None, neurons: str | None) -> tuple[float, dict]:
    """Run the discovery command; return its wall time and per-layer phase seconds.

    Parameters
    ----------
    config : Path
        The config copy.
    layers : str
        ``A-B`` (inclusive, as the command takes it).
    device : str or None
        ``--device`` for the command.
    neurons : str or None
        ``--neurons`` for the command.

    Returns
    -------
    tuple
        Wall seconds, and {layer: {phase: seconds}}.
    """
    cmd = [sys.executable, "-m", "combmotif", "discovery", str(config), "--layers", layers, "--force"]
    cmd += ["--device", device] if device else []
    cmd += ["--neurons", neurons] if neurons else []
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        sys.exit(f"error: {' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    phases: dict[int, dict] = {}
    for line in proc.stderr.splitlines():
        for phase, pattern in LINES.items():
            m = pattern.search(line.strip())
            if m:
                phases.setdefault(int(m.group(1)), {})[phase] = float(m.group(2))
    return wall, phases


def tomtom_seconds(config: Path, layers: list[int]) -> dict[int, float]:
    """Seconds of Tomtom alone per layer, re-run on a finished path's results.

    Parameters
    ----------
    config : Path
        The path's config.
    layers : list of int
        Layers to time.

    Returns
    -------
    dict of int to float
    """
    from combmotif.layout import layer_dir
    from combmotif.motifs.databases import resolve_motif_db
    from combmotif.motifs.match import match_layer
    from combmotif.neuronmotif.discovery_config import load_discovery_config

    cfg = load_discovery_config(config)
    targets = resolve_motif_db(cfg.motif_db, data_dir=cfg.data_dir)
    out = {}
    for layer in layers:
        t0 = time.perf_counter()
        match_layer(layer_dir(cfg.discovery_dir(), layer), targets, cfg.matching)
        out[layer] = time.perf_counter() - t0
    return out


def agreement(config: Path, layers: list[int]) -> list[tuple[int, int, float]]:
    """Adjusted Rand index of the batched against scikit-learn's demixing, per neuron.

    Parameters
    ----------
    config : Path
        A finished path's config (its samples and pattern groups are used).
    layers : list of int
        Layers to compare (layers without features to cluster are skipped).

    Returns
    -------
    list of (layer, neuron, ari, ari_reference)
        ``ari``: batched against scikit-learn at the run's seed; ``ari_reference``: scikit-learn at
        the next seed against scikit-learn at the run's seed (how stable the partition is at all).
    """
    import dataclasses

    from sklearn.metrics import adjusted_rand_score

    from combmotif.layout import layer_dir, neuron_dir
    from combmotif.models.anatomy import Anatomy
    from combmotif.neuronmotif.demix import demix_many
    from combmotif.neuronmotif.discovery_config import load_discovery_config
    from combmotif.neuronmotif.sample import NeuronSamples
    from combmotif.neuronmotif.stage import load_model
    from combmotif.neuronmotif.units import layer_features

    cfg = load_discovery_config(config, {"device": "cpu"})
    anatomy = Anatomy(load_model(cfg))
    out = []
    for layer in layers:
        ldir = layer_dir(cfg.discovery_dir(), layer)
        meta = json.loads((ldir / "layer.json").read_text())
        cut = anatomy.cut(layer, cfg.sampling.after_activation, cfg.sampling.extra_tracks)
        samples = []
        for k in meta["neurons"]:
            npz = np.load(neuron_dir(cfg.discovery_dir(), layer, k) / "samples.npz")
            samples.append(NeuronSamples(k, npz["codes"], npz["act"], "", 0, 0))
        feats, sizes = layer_features(cut, samples, layer, 2048)
        if not sizes:
            continue
        acts, neurons = [s.act for s in samples], [s.neuron for s in samples]
        parts = {}
        for name, backend, seed in (("batched", "batched", cfg.seed), ("sklearn", "sklearn", cfg.seed),
                                    ("sklearn+1", "sklearn", cfg.seed + 1)):
            dcfg = dataclasses.replace(cfg.demix, backend=backend)
            parts[name] = [_labels(len(s.act), leaves) for s, leaves in
                           zip(samples, demix_many(feats, acts, sizes, meta["pattern_groups"], dcfg, seed, neurons))]
        for j, s in enumerate(samples):
            ref = parts["sklearn"][j]
            out.append((layer, s.neuron, float(adjusted_rand_score(ref, parts["batched"][j])),
                        float(adjusted_rand_score(ref, parts["sklearn+1"][j]))))
    return out


def _labels(n: int, leaves) -> np.ndarray:
    lab = np.zeros(n, int)
    for i, leaf in enumerate(leaves):
        lab[leaf.index] = i
    return lab


def _table(layers: list[int], runs: dict, tomtom: dict) -> list[str]:
    head = "| layer | path | sampling s | demixing s | Tomtom s | pages s |"
    rows = [head, "|---|---|---|---|---|---|"]
    for layer in layers:
        for name, (_, phases) in runs.items():
            p = phases.get(layer, {})
            both = p.get("tomtom+pages", float("nan"))
            tt = tomtom.get(layer, float("nan"))
            rows.append(f"| conv{layer} | {name} | {p.get('sampling', float('nan')):.1f} | "
                        f"{p.get('demixing', float('nan')):.1f} | {tt:.1f} | {max(both - tt, 0.0):.1f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run both paths, print the table and the agreement; see the module doc.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments.

    Returns
    -------
    int
        0.
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", type=Path, default=ROOT / "configs/interpreting/mrl_predictor.yaml")
    ap.add_argument("--layers", default="1-4", help="inclusive range A-B")
    ap.add_argument("--results", type=Path, default=Path("/tmp/discovery_speed"))
    ap.add_argument("--device", default=None)
    ap.add_argument("--neurons", default=None, help="neurons of every layer, e.g. 0:16")
    ap.add_argument("--paths", default="old,new", help="among old, new, new-sklearn (no PNGs, sklearn)")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown here")
    args = ap.parse_args(argv)
    first, last = (int(v) for v in args.layers.split("-"))
    layers = list(range(first, last + 1))
    runs = {}
    names = args.paths.split(",")
    if "new" not in names or not set(names) <= set(PATHS):
        sys.exit(f"error: --paths must include new, among {', '.join(PATHS)}; got {args.paths!r}")
    for name in names:
        cfg = write_config(args.config.resolve(), args.results, name, PATHS[name])
        runs[name] = run_path(cfg, args.layers, args.device, args.neurons)
        print(f"{name}: {runs[name][0]:.1f} s", file=sys.stderr)
    new_cfg = args.results / "new.yaml"
    tomtom = tomtom_seconds(new_cfg, layers)
    lines = [f"Discovery speed, {args.config.name} conv{first}-conv{last}, load average "
             f"{' / '.join(f'{v:.2f}' for v in os.getloadavg())} (1/5/15 min), {os.cpu_count()} CPUs", ""]
    lines += _table(layers, runs, tomtom)
    walls = {name: wall for name, (wall, _) in runs.items()}
    lines += ["", "| path | whole command s |", "|---|---|"]
    lines += [f"| {name} | {wall:.1f} |" for name, wall in walls.items()]
    lines += [f"| {name} / new | {wall / walls['new']:.2f}x |" for name, wall in walls.items() if name != "new"]
    ari = agreement(new_cfg, layers)
    if ari:
        lines += ["", "Adjusted Rand index against scikit-learn's partition (same features, run seed); "
                      "reference: scikit-learn at the next seed against the same partition", "",
                  "| layer | neurons | compared | min | q25 | median | q75 | share >= 0.9 |",
                  "|---|---|---|---|---|---|---|---|"]
        for layer in sorted({row[0] for row in ari}) + [None]:
            for col, name in ((2, "batched"), (3, "sklearn, seed + 1")):
                v = np.array([row[col] for row in ari if layer is None or row[0] == layer])
                q = np.quantile(v, [0, 0.25, 0.5, 0.75])
                lines.append(f"| {'all' if layer is None else f'conv{layer}'} | {len(v)} | {name} | {q[0]:.3f} | "
                             f"{q[1]:.3f} | {q[2]:.3f} | {q[3]:.3f} | {np.mean(v >= 0.9):.1%} |")
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
