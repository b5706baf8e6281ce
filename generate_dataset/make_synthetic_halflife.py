"""Generate the synthetic half-life set: data.h5 (Saluki layout), truth.json, planted.meme.

    python make_synthetic_halflife.py --out ../data/synthetic_halflife [--n 24000] [--length 1024] [--seed 0]

All logic lives in :mod:`combmotif.data.synthetic_halflife`.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif

from combmotif.cli import number_in, run_cli  # noqa: E402
from combmotif.io import check_output_dir  # noqa: E402


def main(args: argparse.Namespace) -> None:
    from combmotif.data.synthetic_halflife import make_halflife, save_halflife_set

    check_output_dir(args.out, "command line", "--out")
    t0 = time.perf_counter()
    splits, truth = make_halflife(n=args.n, length=args.length, seed=args.seed, noise_sd=args.noise_sd,
                                  target_r=args.target_r)
    save_halflife_set(args.out, splits, truth)
    c = truth["ceiling"]
    sizes = ", ".join(f"{k} {len(v[1])}" for k, v in splits.items())
    print(f"wrote {args.out}/ (data.h5, truth.json, planted.meme): {sizes}; L={args.length}, "
          f"noise sd {truth['noise']['sd']:.3f}, ceiling r {c['r']:.3f} on test ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="output folder (replaced atomically)")
    parser.add_argument("--n", type=number_in(int, 100), default=24_000,
                        help="number of transcripts (default 24000)")
    parser.add_argument("--length", type=number_in(int, 512, 65_536), default=1024,
                        help="sequence length L (default 1024; Saluki: 12288)")
    parser.add_argument("--seed", type=number_in(int, 0), default=0, help="random seed (default 0)")
    parser.add_argument("--noise-sd", type=number_in(float, 0), default=None,
                        help="noise sd (default: chosen so that the ceiling r is --target-r)")
    parser.add_argument("--target-r", type=number_in(float, 0, 1, low_open=True, high_open=True),
                        default=0.92, help="noise ceiling r to aim at (default 0.92)")
    run_cli(main, parser)
