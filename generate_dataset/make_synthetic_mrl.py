"""Generate the synthetic MRL set: data.csv (GSM3130435 layout), truth.json, planted.meme.

    python make_synthetic_mrl.py --out ../data/synthetic_mrl [--n 100000] [--seed 0]

All logic lives in :mod:`combmotif.data.synthetic_mrl`.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif

from combmotif.cli import number_in, run_cli  # noqa: E402
from combmotif.io import check_output_dir  # noqa: E402


def main(args: argparse.Namespace) -> None:
    from combmotif.data.synthetic_mrl import make_mrl, save_mrl_set

    check_output_dir(args.out, "command line", "--out")
    t0 = time.perf_counter()
    df, truth = make_mrl(n=args.n, seed=args.seed, noise_sd=args.noise_sd, target_r2=args.target_r2)
    save_mrl_set(args.out, df, truth)
    c = truth["ceiling"]
    print(f"wrote {args.out}/ (data.csv, truth.json, planted.meme): {len(df)} UTRs, "
          f"noise sd {truth['noise']['sd']:.3f}, ceiling r2 {c['r2']:.3f} on the {c['n']} best-read UTRs "
          f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output folder (replaced atomically)")
    parser.add_argument("--n", type=number_in(int, 100), default=100_000, help="number of UTRs (default 100000)")
    parser.add_argument("--seed", type=number_in(int, 0), default=0, help="random seed (default 0)")
    parser.add_argument("--noise-sd", type=number_in(float, 0), default=None,
                        help="noise sd (default: chosen so that the ceiling r2 is --target-r2)")
    parser.add_argument("--target-r2", type=number_in(float, 0, 1, low_open=True, high_open=True),
                        default=0.87, help="noise ceiling r2 to aim at (default 0.87)")
    run_cli(main, parser)
