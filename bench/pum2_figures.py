"""The PUM2 figures of issue 17: a real RNA-binding-protein classifier, interpreted end to end.

    python bench/pum2_figures.py [--work /tmp/pum2_bench] [--reuse] [--compare-layers 1-3]

On the shipped PUM2 classifier (``model_weights/pum2_classifier-best.pth``: 200-nt PAR-CLIP
sites against background, RNA; ``configs/training/pum2_classifier.yaml``), through the
``combmotif`` command as a user runs it, with copies of the shipped configs whose
``results_dir`` is ``--work/results`` (nothing is written into ``results/``):

1. ``combmotif discovery`` conv1-3 (``configs/interpreting/pum2_classifier.yaml``: matched
   against ATtRACT + RBPDB on the given strand);
2. ``combmotif search --stage contribution`` and ``combmotif contribution`` conv1-3
   (``configs/contribution/pum2_classifier.yaml``: sign of each neuron on the binding logit,
   and the knockout check);
3. ``combmotif report`` (the front page ``--work/results/pum2_classifier/index.html``);
4. ``combmotif compare`` (``configs/others/method_compare_pum2.yaml``, on ``--compare-layers``):
   NeuronMotif, max-activation seqlets, TF-MoDISco, class optimisation.

Printed: the model's test AUROC / AUPRC on the held-out chromosomes (from its checkpoint
record, as training measured them); every neuron whose segment matches a PUM motif of ATtRACT or
RBPDB (a database name containing "pum", any case) at q < 0.05 in discovery's matching, with
its contribution sign and effect and its knockout sign and effect (positive: the neuron's
sequences are scored more likely bound); the comparison: per method and layer, the units with a
segment, those with a PUM match at q < 0.05, the best such match; and the distinct database
motifs (near-duplicates merged) and distinct PUM motifs each method matched at q < 0.05.

Without ``--reuse`` the bench's results folder ``--work/results/pum2_classifier`` is removed
first; with it, finished units are kept (the stages skip them by their stamps). Needs
``../shared`` (the PUM2 FASTA files and the motif databases); without it the bench says so
and exits 0.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from combmotif.motifs.databases import rebase_motif_db  # noqa: E402

PUM = "pum"   # a database motif counts as a PUM motif when its name contains this (any case)
METHOD_ORDER = {"neuronmotif": 0, "max_seqlet": 1, "modisco": 2, "class_optimization": 3}
# Config keys holding file paths, resolved against the shipped config's folder in the copies.
PATH_KEYS = (("model", "checkpoint"), ("data_dir",), ("labels_dir",), ("truth",), ("data", "path"),
             ("data", "negatives"))


def combmotif(*args: str, log: Path | None = None) -> float:
    """Run one ``combmotif`` command as a user would; stop on failure.

    Parameters
    ----------
    *args : str
        The command line after ``combmotif``.
    log : Path, optional
        File that receives the command's output (appended).

    Returns
    -------
    float
        Wall seconds.
    """
    t0 = time.time()
    res = subprocess.run([sys.executable, "-m", "combmotif", *args], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"$ combmotif {' '.join(args)}\n{res.stdout}{res.stderr}\n")
    if res.returncode:
        sys.exit(f"failed ({res.returncode}): combmotif {' '.join(args)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    seconds = time.time() - t0
    shown = " ".join(a if len(a) < 60 else "..." + a[-40:] for a in args)
    print(f"  combmotif {shown} ({seconds:.0f} s)", flush=True)
    return seconds


def config_copy(src: Path, dst: Path, work: Path, neuronmotif_config: Path | None = None) -> Path:
    """A copy of a shipped config writing under ``work/results``, its paths made absolute.

    Parameters
    ----------
    src : Path
        The shipped config (its relative paths resolve against its folder).
    dst : Path
        Where the copy goes.
    work : Path
        The bench's folder (``results_dir`` = ``work/results``).
    neuronmotif_config : Path, optional
        A comparison config's ``methods.neuronmotif.config`` (the discovery config copy).

    Returns
    -------
    Path
        ``dst``.
    """
    cfg = yaml.safe_load(src.read_text())
    for keys in PATH_KEYS:
        node = cfg
        for k in keys[:-1]:
            node = node.get(k) if isinstance(node, dict) else None
        if isinstance(node, dict) and isinstance(node.get(keys[-1]), str):
            node[keys[-1]] = str((src.parent / node[keys[-1]]).resolve())
    if "motif_db" in cfg:
        cfg["motif_db"] = rebase_motif_db(cfg["motif_db"], src.parent)
    cfg["results_dir"] = str(work / "results")
    if isinstance(cfg.get("report"), dict):
        cfg["report"]["png"] = False
    if neuronmotif_config is not None:
        cfg["methods"]["neuronmotif"]["config"] = str(neuronmotif_config)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return dst


def test_metrics(model: str) -> str:
    """One line: the shipped model's held-out metrics, from its checkpoint record.

    Parameters
    ----------
    model : str
        The checkpoint's name (``model_weights/<model>-best.json``).

    Returns
    -------
    str
        Test AUROC / AUPRC / accuracy with the held-out chromosomes and class sizes, and the
        validation AUROC.
    """
    import json

    record = json.loads((ROOT / "model_weights" / f"{model}-best.json").read_text())
    m, split = record["metrics"], record["data"]["split"]
    test, valid = m["test"], m["valid"]
    held = (f"held-out chromosomes {', '.join(split['test_chroms'])}" if split.get("kind") == "chromosome"
            else f"held-out {split.get('kind', 'random')} split")
    return (f"{model}: test AUROC {test['auroc']:.3f}, AUPRC {test['auprc']:.3f}, accuracy {test['accuracy']:.3f} "
            f"on {held} ({test['n_pos']} positives + {test['n_neg']} negatives); validation "
            f"({', '.join(split.get('valid_chroms') or ['random'])}) AUROC {valid['auroc']:.3f}")


def is_pum(names: pd.Series) -> pd.Series:
    """Whether each database motif name is a PUM motif (contains ``pum``, any case)."""
    return names.astype(str).str.contains(PUM, case=False, regex=False)


def pum_neurons(model_dir: Path, layers: range, q: float = 0.05) -> pd.DataFrame:
    """Neurons whose segment matches a PUM motif at q < ``q``, best match each, with contribution and knockout.

    Parameters
    ----------
    model_dir : Path
        ``results/<model>`` (discovery and contribution done).
    layers : range
        Conv layers.
    q : float
        Tomtom q-value threshold of discovery's matching.

    Returns
    -------
    pandas.DataFrame
        layer, neuron, segment_consensus, target, target_source, q, orientation, contribution,
        effect, knockout, knockout_effect.
    """
    rows = []
    for L in layers:
        m = pd.read_csv(model_dir / f"discovery/conv{L}/matches.csv")
        best = m[is_pum(m["target"]) & (m["q"] < q)].sort_values("q").groupby("neuron").head(1)
        c = pd.read_csv(model_dir / f"contribution/conv{L}/neuron_contribution.csv")
        k = pd.read_csv(model_dir / f"contribution/conv{L}/neuron_knockout.csv")
        best = best.merge(c[["neuron", "contribution", "effect"]], on="neuron", how="left").merge(
            k[["neuron", "contribution", "effect"]].rename(columns={"contribution": "knockout",
                                                                    "effect": "knockout_effect"}),
            on="neuron", how="left")
        rows.append(best.assign(layer=L))
    cols = ["layer", "neuron", "segment_consensus", "target", "target_source", "q", "orientation",
            "contribution", "effect", "knockout", "knockout_effect"]
    return pd.concat(rows, ignore_index=True)[cols].sort_values(["layer", "q"], kind="stable")


def compare_table(compare_dir: Path, q: float = 0.05) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per method and layer: units with segments, units with a PUM match at q < ``q``, the best one;
    per method: distinct database motifs (``counts.csv``) and distinct PUM motifs matched.

    Parameters
    ----------
    compare_dir : Path
        ``results/<model>/compare``.
    q : float
        Tomtom q-value threshold (the comparison's matching: per segment over the database).

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The per-layer table and ``counts.csv`` with a ``distinct PUM motifs`` column.
    """
    m, seg = pd.read_csv(compare_dir / "matches.csv"), pd.read_csv(compare_dir / "segments.csv")
    pum = m[is_pum(m["target"]) & (m["q"] < q)].sort_values("q", kind="stable")
    units = seg.groupby(["method", "layer"])["neuron"].nunique().rename("units_with_segments")
    best = pum.groupby(["method", "layer"]).agg(
        units_with_PUM_match=("neuron", "nunique"), best_q=("q", "min"), best_target=("target", "first"),
        best_segment=("segment_consensus", "first"))
    t = units.to_frame().join(best, how="left").fillna({"units_with_PUM_match": 0}).reset_index()
    t["units_with_PUM_match"] = t["units_with_PUM_match"].astype(int)
    t = t.sort_values(["layer", "method"], key=lambda s: s.map(METHOD_ORDER) if s.name == "method" else s)
    counts = pd.read_csv(compare_dir / "counts.csv")
    n_pum = pum.groupby("method")["target"].nunique()
    counts["distinct PUM motifs"] = counts["method"].map(n_pum).fillna(0).astype(int)
    return t, counts


def run_all(work: Path, layers: str, log: Path) -> dict[str, float]:
    """The user's commands on config copies in ``work``; wall seconds per command."""
    cfgs = ROOT / "configs"
    disc = config_copy(cfgs / "interpreting/pum2_classifier.yaml", work / "configs/interpreting.yaml", work)
    contrib = config_copy(cfgs / "contribution/pum2_classifier.yaml", work / "configs/contribution.yaml", work)
    comp = config_copy(cfgs / "others/method_compare_pum2.yaml", work / "configs/compare.yaml", work, disc)
    return {
        "discovery": combmotif("discovery", str(disc), "--layers", "1-3", log=log),
        "search": combmotif("search", str(contrib), "--layers", "1-3", "--stage", "contribution", log=log),
        "contribution": combmotif("contribution", str(contrib), "--layers", "1-3", log=log),
        "report": combmotif("report", str(disc), log=log),
        "compare": combmotif("compare", str(comp), "--layers", layers, log=log),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/pum2_bench"))
    ap.add_argument("--reuse", action="store_true", help="keep finished units in --work (skipped by their stamps)")
    ap.add_argument("--compare-layers", default="1-3", help="conv layers of the method comparison (default 1-3)")
    args = ap.parse_args(argv)
    if not (SHARED / "data/pum2_clip").is_dir() or not (SHARED / "motif_db").is_dir():
        print(f"skipped: {SHARED}/data/pum2_clip and {SHARED}/motif_db are needed (the PUM2 CLIP data and "
              "ATtRACT / RBPDB); they are not here")
        return 0
    work = args.work.resolve()
    model_dir = work / "results" / "pum2_classifier"
    if not args.reuse and model_dir.exists():
        shutil.rmtree(model_dir)
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    seconds = run_all(work, args.compare_layers, work / "commands.log")
    pd.set_option("display.width", 250)
    print(f"\n{test_metrics('pum2_classifier')}")
    table = pum_neurons(model_dir, range(1, 4))
    print(f"\nneurons whose segment matches a PUM motif of ATtRACT / RBPDB at q < 0.05 (discovery's matching), "
          f"with their contribution and knockout on the binding logit:\n{table.to_string(index=False)}")
    for L, g in table.groupby("layer"):
        print(f"conv{L}: {len(g)} neurons; contribution "
              + ", ".join(f"{v} {n}" for v, n in g["contribution"].value_counts().items())
              + "; knockout " + ", ".join(f"{v} {n}" for v, n in g["knockout"].value_counts().items()))
    per_layer, counts = compare_table(model_dir / "compare")
    print(f"\nmethod comparison (conv {args.compare_layers} + the model output), units with a PUM match at q < 0.05:\n"
          f"{per_layer.to_string(index=False)}")
    print(f"\ndistinct database motifs matched at q < 0.05 (near-duplicates merged), and distinct PUM motifs:\n"
          f"{counts.to_string(index=False)}")
    print("\nwall seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items())
          + f"; total {time.time() - t0:.0f} (commands' output: {work / 'commands.log'})")
    print(f"pages: {model_dir / 'index.html'}, {model_dir / 'compare/index.html'}")
    print(f"reproduce: python bench/pum2_figures.py --work {args.work}" + (" --reuse" if args.reuse else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
