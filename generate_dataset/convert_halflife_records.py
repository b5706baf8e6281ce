"""Convert transcript records (CSV/TSV: utr5, orf, utr3, exon_ends, half_life) to a Saluki H5.

    python convert_halflife_records.py --records transcripts.tsv --out ../data/my_set/data.h5 --length 12288

exon_ends: 0-based transcript positions of the last nucleotide of every exon
followed by a junction, separated by commas (may be empty). half_life is
written unchanged as the label (give log half-lives to train on the log scale).
Records are split at random (--seed) into train/valid/test by --split.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif

from combmotif.cli import number_in, run_cli  # noqa: E402
from combmotif.errors import InputError  # noqa: E402
from combmotif.io import check_output_dir  # noqa: E402
from combmotif.paths import relative_path  # noqa: E402


def main(args: argparse.Namespace) -> None:
    from combmotif.data.halflife import read_records, records_to_h5

    if abs(sum(args.split) - 1) > 1e-6:
        raise InputError(f"command line: '--split' = {' '.join(f'{f:g}' for f in args.split)}: "
                         "the three fractions must sum to 1")
    out = Path(args.out)
    if out.is_dir():
        raise InputError(f"command line: '--out' = {out}: is a folder; give the .h5 file to write")
    # A missing file is checked like a folder to be made: its nearest existing ancestor
    # must be a writable folder.
    check_output_dir(out.parent if out.is_file() else out, "command line", "--out")
    t0 = time.perf_counter()
    records = read_records(args.records)
    counts = records_to_h5(records, args.out, args.length, split_fracs=tuple(args.split), seed=args.seed,
                           attrs={"source": relative_path(args.records, out.parent)})  # as seen from the .h5
    sizes = ", ".join(f"{k} {v}" for k, v in counts.items())
    print(f"wrote {args.out}: {sizes}; L={args.length} ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", required=True, help="CSV or TSV of transcript records")
    parser.add_argument("--out", required=True, help="output H5 file")
    parser.add_argument("--length", type=number_in(int, 1), required=True, help="sequence length L (Saluki: 12288)")
    parser.add_argument("--split", type=number_in(float, 0, 1), nargs=3, default=(0.8, 0.1, 0.1), metavar=("TRAIN", "VALID", "TEST"),
                        help="split fractions (default 0.8 0.1 0.1)")
    parser.add_argument("--seed", type=number_in(int, 0), default=0, help="split seed (default 0)")
    run_cli(main, parser)
