"""Start and stop codons among the top motifs of a conv layer, with their contribution signs.

    python bench/optimus_summary.py [--results results/optimus5prime] [--layer 1]

Reads ``discovery/conv<L>/summary.csv`` (run ``motif_discovery/main.sh`` with
configs/interpreting/optimus5prime.yaml) and, when present,
``contribution/conv<L>/neuron_contribution.csv`` (configs/contribution/optimus5prime.yaml).
A neuron's top motif is its best cluster's consensus and that cluster's best
segment; the segment lies inside the consensus, so a codon in either counts once.
Chance levels are the fraction of uniform random k-mers of the consensus length
that contain the codon(s), times the number of neurons: the Optimus conv1
consensus is only 8 nt long, so a few hits are expected by chance alone.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.cli import run_cli  # noqa: E402
from combmotif.errors import InputError  # noqa: E402
from combmotif.layout import contribution_table, layer_dir, model_stage_dir  # noqa: E402

START = ("ATG",)
STOPS = ("TAA", "TAG", "TGA")


def has_codon(seqs: pd.Series, codons: tuple[str, ...]) -> np.ndarray:
    """(N,) bool: the sequence contains any of ``codons`` (empty or missing: False)."""
    s = seqs.fillna("").astype(str).str.upper()
    return s.str.contains("|".join(codons), regex=True).to_numpy()


def chance_fraction(length: int, codons: tuple[str, ...]) -> float:
    """Exact fraction of the 4**length DNA words that contain one of ``codons``."""
    if length < 3:
        return 0.0
    if length > 10:  # 4**10 words is the most worth enumerating; longer: independent-position approximation
        p = len(codons) / 64
        return 1 - (1 - p) ** (length - 2)
    words = pd.Series(["".join(w) for w in itertools.product("ACGT", repeat=length)])
    return float(has_codon(words, codons).mean())


def main(args: argparse.Namespace) -> int:
    root = Path(args.results)
    summary_path = layer_dir(model_stage_dir(root, "discovery"), args.layer) / "summary.csv"
    if not summary_path.is_file():
        raise InputError(f"{summary_path}: not found (run motif_discovery/main.sh first)")
    df = pd.read_csv(summary_path, dtype={"best_consensus": str, "best_segment_consensus": str})
    contrib_path = contribution_table(root, args.layer)
    if contrib_path.is_file():
        c = pd.read_csv(contrib_path)[["neuron", "contribution", "d", "q", "values"]]
        df = df.merge(c, on="neuron", how="left")
    else:
        print(f"(no {contrib_path}: contribution signs left out)")
        df["contribution"] = "n/a"
    ko_path = contrib_path.with_name("neuron_knockout.csv")
    if ko_path.is_file():
        k = pd.read_csv(ko_path)[["neuron", "contribution"]].rename(columns={"contribution": "knockout"})
        df = df.merge(k, on="neuron", how="left")
    n = len(df)
    length = int(df["best_consensus"].fillna("").str.len().max())
    print(f"{root.name} conv{args.layer}: {n} neurons, top-motif consensus {length} nt "
          f"({summary_path})")
    for label, codons in (("ATG", START), ("stop (TAA/TAG/TGA)", STOPS)):
        in_cons = has_codon(df["best_consensus"], codons)
        in_seg = has_codon(df["best_segment_consensus"], codons)
        hit = in_cons | in_seg
        chance = chance_fraction(length, codons) * n
        signs = df.loc[hit, "contribution"].value_counts().to_dict()
        print(f"  {label}: {int(hit.sum())} of {n} neurons (in the best segment: {int(in_seg.sum())}; "
              f"chance for random {length}-mers: {chance:.1f}); contribution signs: {signs}")
        if "knockout" in df:
            print(f"    knockout signs (shuffling the driving window): "
                  f"{df.loc[hit, 'knockout'].value_counts().to_dict()}")
        if args.verbose or label == "ATG":
            cols = [k for k in ("neuron", "best_consensus", "best_segment_consensus",
                                "max_activation", "contribution", "d", "q", "knockout") if k in df]
            print(df.loc[hit, cols].to_string(index=False))
    if "values" in df:
        print(f"  contribution compares model {df['values'].dropna().iloc[0]}s ({contrib_path})")
    print(f"  all neurons' contribution signs: {df['contribution'].value_counts().to_dict()}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", default=str(ROOT / "results" / "optimus5prime"),
                   help="results/<name> folder of the model (default: results/optimus5prime)")
    p.add_argument("--layer", type=int, default=1, help="conv layer (default 1)")
    p.add_argument("--verbose", action="store_true", help="also list the stop-codon neurons")
    return p


if __name__ == "__main__":
    run_cli(main, build_parser())
