"""Write the noAUG variant of an MRL CSV: every UTR whose first 50 nt contain ATG is dropped.

    python make_noaug.py --csv ../data/synthetic_mrl/data.csv --out ../data/synthetic_mrl_noAUG

Writes OUT/data.csv (same layout). When a truth.json lies beside the input CSV
(a synthetic set), OUT/truth.json (statistics restated for the kept UTRs) and
OUT/planted.meme are written too; --no-truth skips that.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # runnable without installing combmotif

from combmotif.cli import run_cli  # noqa: E402
from combmotif.errors import InputError  # noqa: E402
from combmotif.io import check_output_dir  # noqa: E402
from combmotif.paths import relative_path  # noqa: E402


def main(args: argparse.Namespace) -> None:
    from combmotif.data.mrl import drop_aug, read_mrl_csv, write_mrl_csv
    from combmotif.data.truth import write_set

    check_output_dir(args.out, "command line", "--out")
    # The output folder is replaced as a whole: it must not be the one holding the input.
    if Path(args.csv).resolve().is_relative_to(Path(args.out).resolve()):
        raise InputError(f"command line: '--out' = {args.out} holds the input --csv {args.csv}; "
                         "give another folder")
    t0 = time.perf_counter()
    df = read_mrl_csv(args.csv)
    kept = drop_aug(df)
    if kept.empty:
        raise InputError(f"{args.csv}: every one of the {len(df)} UTRs contains ATG in its first "
                         "50 nt; the noAUG set would be empty")
    truth_path = Path(args.csv).parent / "truth.json"
    if truth_path.is_file() and not args.no_truth:
        from combmotif.data.synthetic_mrl import observed

        truth = observed(kept, truth_path)
        # Relative to the folder truth.json is written to: no absolute path of this machine.
        truth["derived_from"] = {"csv": relative_path(args.csv, args.out),
                                 "filter": "drop_aug: no ATG in the first 50 nt",
                                 "n_before": len(df)}
        write_set(args.out, truth, lambda d: write_mrl_csv(kept, d / "data.csv"))
        extra = " (+ truth.json, planted.meme)"
    else:
        write_mrl_csv(kept, Path(args.out) / "data.csv")
        extra = ""
    print(f"wrote {args.out}/data.csv{extra}: kept {len(kept)} of {len(df)} UTRs "
          f"({len(df) - len(kept)} contain ATG) ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", required=True, help="input CSV in the GSM3130435 layout")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--no-truth", action="store_true", help="do not carry a truth.json found beside --csv")
    run_cli(main, parser)
