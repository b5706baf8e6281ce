"""Planted motifs of a synthetic set -> the layer, neuron and cluster that found them.

    python bench/recovery_table.py [--config configs/interpreting/mrl_predictor.yaml]
                                   [--truth data/synthetic_mrl/truth.json] [--layers 1-5] [--per-layer]

Reads the discovery outputs (run ``motif_discovery/main.sh`` first). A planted
motif is found when some cluster PPM consensus contains it (IUPAC-aware) or a
motif segment has >= 80 % identity to it; see combmotif/neuronmotif/recovery.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.cli import run_cli  # noqa: E402
from combmotif.config import parse_range  # noqa: E402
from combmotif.errors import ConfigError, InputError  # noqa: E402
from combmotif.motifs.databases import check_motif_db, motif_db_text  # noqa: E402
from combmotif.neuronmotif.discover import load_discovery_config  # noqa: E402
from combmotif.neuronmotif.recovery import load_truth, recovery_hits, recovery_table, tomtom_table  # noqa: E402


def main(args: argparse.Namespace) -> int:
    cfg = load_discovery_config(args.config)
    # Every input is checked before the first table is printed.
    if not 0 < args.min_identity <= 1:
        raise ConfigError(f"--min-identity must be in (0, 1]; got {args.min_identity}")
    try:
        wanted = set(parse_range(args.layers)) if args.layers else None
    except ConfigError as exc:
        raise ConfigError(f"--layers {args.layers!r}: {exc}") from None
    try:
        load_truth(args.truth)
    except (InputError, ValueError) as exc:   # ValueError: not JSON
        raise InputError(f"--truth {args.truth}: {exc}") from None
    ddir = Path(args.results) if args.results else cfg.discovery_dir()
    layers = sorted(int(p.name[4:]) for p in ddir.glob("conv*") if p.name[4:].isdigit())
    if wanted is not None:
        layers = [L for L in layers if L in wanted]
    if not layers:
        raise InputError(f"{ddir}: no discovery outputs (run motif_discovery/main.sh first)")
    targets = check_motif_db(cfg.motif_db, args.config, "motif_db", data_dir=cfg.data_dir,
                             base_dir=Path(args.config).resolve().parent) if args.tomtom else None
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.max_colwidth", 40)
    print(f"discovery: {ddir} (layers {', '.join(f'conv{L}' for L in layers)})")
    table = recovery_table(ddir, args.truth, layers, args.min_identity)
    print(table.drop(columns=["planted"]).to_string(index=False))
    print(f"found {int(table['found'].sum())} of {len(table)} planted motifs")
    if args.per_layer:
        hits = recovery_hits(ddir, args.truth, layers, args.min_identity)
        print(hits.pivot(index="motif", columns="layer", values="match").fillna("").to_string())
    if args.tomtom:
        tt = tomtom_table(ddir, args.truth, layers, targets=targets, match=cfg.matching)
        family = ("each segment's comparisons" if cfg.matching.q_scope == "query"
                  else "all comparisons of a layer")
        print(f"\nTomtom against {motif_db_text(cfg.motif_db)} ({len(targets)} motifs; q: Benjamini-Hochberg over "
              f"{family}): planted motif -> best neuron segment")
        print("ceiling_q: the planted PPM itself as the query (no segment can do better)")
        print(tt.to_string(index=False))
        reachable = tt["ceiling_q"] < 0.05
        print(f"matched at q < 0.05: {int(tt['matched'].sum())} of {len(tt)} planted motifs "
              f"({int((tt['matched'] & reachable).sum())} of the {int(reachable.sum())} whose "
              f"ceiling_q < 0.05)")
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs/interpreting/mrl_predictor.yaml"))
    ap.add_argument("--truth", default=str(ROOT / "data/synthetic_mrl/truth.json"),
                    help="a generator's truth.json or a hand-written truth (generate_dataset/README.md)")
    ap.add_argument("--results", help="a discovery folder (default: the config's)")
    ap.add_argument("--layers", help="layers to consider, e.g. 1-5 (half-open) or 1,2,3")
    ap.add_argument("--min-identity", type=float, default=0.8)
    ap.add_argument("--per-layer", action="store_true", help="also print the best match per layer")
    ap.add_argument("--tomtom", action="store_true",
                    help="also print planted motif -> best Tomtom match (q) from matches.csv")
    run_cli(main, ap)
