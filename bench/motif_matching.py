"""Figures for motif matching (issue 4): database sizes, Tomtom self-match, layer-query time.

Run:  python bench/motif_matching.py [--shared ../shared] [--n-jobs -1]

Prints
  1. how many matrices ATtRACT and RBPDB (../shared/motif_db) load;
  2. the self-match sanity figure: every curated motif queried against curated + ATtRACT;
     fraction whose best match is itself with q < 0.05 (first 20, and all);
  3. the time of one layer-sized query (64 neurons x 3 segments, lengths 6-12) against
     ATtRACT with memelite, numba already compiled (a cold compile is printed apart);
  4. why flat queries are not compared: random PPMs of growing sharpness against
     curated + ATtRACT, their bits per position and how often the best q < 0.05.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from combmotif.motifs.curated import curated_motifs
from combmotif.motifs.databases import resolve_motif_db
from combmotif.motifs.formats import Motif, read_motifs
from combmotif.motifs.tomtom import tomtom


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[1].parent / "shared"))
    ap.add_argument("--n-jobs", type=int, default=-1)
    args = ap.parse_args()
    db_dir = Path(args.shared) / "motif_db"
    attract_path = db_dir / "ATtRACT_2017_12.tf"

    t = time.perf_counter()
    attract = read_motifs(attract_path)
    t_attract = time.perf_counter() - t
    rbpdb = read_motifs(db_dir / "RBPDB_2017_12.tf")
    print(f"ATtRACT_2017_12.tf: {len(attract)} matrices (read in {t_attract:.2f} s); "
          f"RBPDB_2017_12.tf: {len(rbpdb)} matrices")

    t = time.perf_counter()
    tomtom(curated_motifs()[:2], attract[:30], backend="memelite", n_jobs=args.n_jobs)
    print(f"first memelite call in this process (numba compile or cache load): "
          f"{time.perf_counter() - t:.1f} s")

    curated = curated_motifs()
    targets = resolve_motif_db(f"curated+{attract_path}")
    df = tomtom(curated, targets, backend="memelite", thresh=None, n_jobs=args.n_jobs)
    best = df.groupby("Query_ID", sort=False).head(1)
    hit = (best["Query_ID"] == best["Target_ID"]) & (best["q-value"] < 0.05)
    print(f"self-match, curated vs curated+ATtRACT ({len(targets)} targets): "
          f"first 20: {int(hit.iloc[:20].sum())}/20 best match is itself with q < 0.05; "
          f"all {len(curated)}: {int(hit.sum())}/{len(curated)}")
    for _, r in best[~hit].iterrows():
        print(f"   miss: {r['Query_ID']} -> {r['Target_ID']} q={r['q-value']:.3g}")

    rng = np.random.default_rng(1)
    print("random queries vs curated+ATtRACT (no information cut), 20 per row:")
    print("  length  Dirichlet-alpha  bits/position  bits total  median best q  frac q<0.05")
    for alpha, length in [(50, 8), (3, 8), (1, 16), (1, 6), (0.5, 6), (0.3, 6), (0.1, 6)]:
        rand = [Motif(f"r{i}", rng.dirichlet(np.full(4, alpha), size=length)) for i in range(20)]
        res = tomtom(rand, targets, backend="memelite", thresh=None, min_query_ic=0.0,
                     min_query_mean_ic=0.0, n_jobs=args.n_jobs)
        top = res.groupby("Query_ID", sort=False).head(1)
        ic = np.array([m.total_information for m in rand])
        print(f"  {length:6d}  {alpha:15g}  {ic.mean() / length:13.2f}  {ic.mean():10.1f}  "
              f"{top['q-value'].median():13.2g}  {(top['q-value'] < 0.05).mean():11.2f}")

    rng = np.random.default_rng(0)
    queries = [Motif(f"neuron{k}/s{j}", rng.dirichlet(np.full(4, 0.4), size=int(rng.integers(6, 13))))
               for k in range(64) for j in range(3)]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        out = tomtom(queries, attract, backend="memelite", min_query_ic=0.0,
                     min_query_mean_ic=0.0, n_jobs=args.n_jobs)
        times.append(time.perf_counter() - t)
    print(f"layer query: {len(queries)} segments x {len(attract)} ATtRACT matrices "
          f"= {out.attrs['n_comparisons']} comparisons, memelite n_jobs={args.n_jobs}: "
          f"median {np.median(times):.2f} s over 3 runs ({', '.join(f'{x:.2f}' for x in times)})")


if __name__ == "__main__":
    main()
