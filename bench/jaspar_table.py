"""The JASPAR table of issue 17: are the planted JASPAR motifs matched back to their own ID, by every method?

    python bench/jaspar_table.py [--work /tmp/jaspar_bench] [--reuse] [--q 0.05]

On the shipped DNA classifier (``model_weights/dna_classifier-best.pth``, trained on
``data/synthetic_dna``: JASPAR 2024 CORE vertebrate motifs planted on both strands), through
the ``combmotif`` command as a user runs it, with copies of the shipped configs whose
``results_dir`` is ``--work/results`` (nothing is written into ``results/``):

1. ``combmotif discovery`` conv1-3 (``configs/interpreting/dna_classifier.yaml``);
2. ``combmotif compare`` (``configs/others/method_compare_dna.yaml``): max-activation seqlets
   and class optimisation on conv1-3 (class optimisation also on the logit), TF-MoDISco on the
   logit (5,000 training sequences, 2,000 of them attributed);
3. ``combmotif validate jaspar`` on the discovery config: every method folder (discovery and
   each ``baselines/<method>``) scored by :func:`combmotif.validation.jaspar.jaspar_recovery`
   (its per-motif tables go to ``--work/commands.log``).

Printed: the model's test AUROC on the held-out chromosomes (its checkpoint record), then ONE
table, one row per method: segments scored, planted motifs matched by their own JASPAR ID at
q < ``--q`` (count and share), by ID or a matrix of the same TF family (count and share), the
orientation of those matches (``+`` the discovered motif reads as the JASPAR matrix, ``-`` as
its reverse complement; both are right for a DNA model, whose sites are planted on both
strands). The per-motif rows of every method go to ``--work/jaspar_recovery.csv``.

Without ``--reuse`` the bench's results folder ``--work/results/dna_classifier`` is removed
first; with it, finished units are kept (the stages skip them by their stamps). Needs the DNA
set (``bash generate_dataset/make_default.sh``) and pyjaspar (the TF families, offline).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pum2_figures import combmotif, config_copy, test_metrics  # noqa: E402

DATA = ROOT / "data" / "synthetic_dna"
LABELS = {"neuronmotif": "NeuronMotif", "max_seqlet": "max-activation seqlets", "modisco": "TF-MoDISco",
          "class_optimization": "class optimisation"}


def score_methods(config: Path, q: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every method folder of the discovery config, scored against the planted JASPAR motifs.

    Parameters
    ----------
    config : Path
        The discovery config copy (its ``data_dir`` holds truth.json and jaspar.meme).
    q : float
        Tomtom q-value below which a match counts.

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        One row per method (segments, by_id, share_id, by_id_or_family, share_id_or_family,
        orientation), and every method's per-motif rows (``method`` column first).
    """
    from combmotif.motifs.formats import read_motifs
    from combmotif.neuronmotif.discovery_config import load_discovery_config
    from combmotif.validation.jaspar import discovered_motifs, jaspar_recovery, method_folders, with_families

    cfg = load_discovery_config(config)
    truth = Path(cfg.data_dir) / "truth.json"
    database = with_families(read_motifs(Path(cfg.data_dir) / "jaspar.meme", "meme"))
    summary, detail = [], []
    folders = method_folders(config)
    for method in sorted(folders, key=lambda m: (list(LABELS) + [m]).index(m)):
        folder = folders[method]
        motifs = discovered_motifs(folder)
        table = jaspar_recovery(motifs, truth, database, q, cfg.matching.tomtom_backend, cfg.matching.n_jobs)
        hit = table[table["matched"] != "no"]
        n = max(len(table), 1)
        summary.append({
            "method": LABELS.get(method, method), "segments": len(motifs), "planted": len(table),
            "by_id": int((table["matched"] == "id").sum()), "share_id": (table["matched"] == "id").sum() / n,
            "by_id_or_family": len(hit), "share_id_or_family": len(hit) / n,
            "orientation": f"+{int((hit['orientation'] == '+').sum())} -{int((hit['orientation'] == '-').sum())}"})
        detail.append(table.assign(method=method))
    details = pd.concat(detail, ignore_index=True) if detail else pd.DataFrame()
    return pd.DataFrame(summary), details[["method", *[c for c in details.columns if c != "method"]]]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/jaspar_bench"))
    ap.add_argument("--reuse", action="store_true", help="keep finished units in --work (skipped by their stamps)")
    ap.add_argument("--q", type=float, default=0.05, help="Tomtom q-value below which a match counts")
    args = ap.parse_args(argv)
    if not (DATA / "truth.json").is_file() or not (DATA / "jaspar.meme").is_file():
        print(f"skipped: {DATA} has no truth.json / jaspar.meme; make the DNA set with "
              "bash generate_dataset/make_default.sh")
        return 0
    work = args.work.resolve()
    model_dir = work / "results" / "dna_classifier"
    if not args.reuse and model_dir.exists():
        shutil.rmtree(model_dir)
    work.mkdir(parents=True, exist_ok=True)
    log, t0 = work / "commands.log", time.time()
    disc = config_copy(ROOT / "configs/interpreting/dna_classifier.yaml", work / "configs/interpreting.yaml", work)
    comp = config_copy(ROOT / "configs/others/method_compare_dna.yaml", work / "configs/compare.yaml", work, disc)
    seconds = {"discovery": combmotif("discovery", str(disc), "--layers", "1-3", log=log),
               "compare": combmotif("compare", str(comp), log=log),
               "validate jaspar": combmotif("validate", "jaspar", str(disc), "--q", str(args.q), log=log)}
    t1 = time.time()
    summary, details = score_methods(disc, args.q)
    details.to_csv(work / "jaspar_recovery.csv", index=False)
    pd.set_option("display.width", 250)
    print(f"\n{test_metrics('dna_classifier')}")
    print(f"\nplanted JASPAR motifs matched back at q < {args.q:g} (Tomtom vs the {DATA.name} jaspar.meme, "
          f"both strands), by their own JASPAR ID, or by ID or a matrix of the same TF family:")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.0%}"))
    print("\nwall seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in seconds.items())
          + f", scoring {time.time() - t1:.0f}; total {time.time() - t0:.0f} (commands' output: {log})")
    print(f"per-motif rows: {work / 'jaspar_recovery.csv'}; pages: {model_dir / 'index.html'}, "
          f"{model_dir / 'compare/index.html'}")
    print(f"reproduce: python bench/jaspar_table.py --work {args.work}" + (" --reuse" if args.reuse else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
