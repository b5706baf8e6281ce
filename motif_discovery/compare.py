"""NeuronMotif against max-activation seqlets, TF-MoDISco and class optimization on one model.

    python motif_discovery/compare.py configs/others/method_compare.yaml [--force] [--no-run]

Writes results/<model>/compare/index.html (and its tables and figures); the
baselines' motifs go to results/<model>/baselines/<method>/.
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: idle OpenMP threads would spin

from combmotif.baselines.compare import LABELS, load_compare_config, run_compare  # noqa: E402
from combmotif.cli import run_cli  # noqa: E402
from combmotif.validation.discovery import recovery_wide  # noqa: E402


def main(args: argparse.Namespace) -> int:
    overrides = {"device": args.device} if args.device else None
    cfg = load_compare_config(args.config, overrides)
    comp, tables = run_compare(cfg, force=args.force, run=not args.no_run,
                               base_dir=Path(args.config).resolve().parent, source=args.config)
    print(tables["counts"].rename(columns={"method": f"distinct motifs, q < {cfg.significance:g}"})
          .replace(LABELS).to_string(index=False))
    if "recovery" in tables:
        print()
        print(recovery_wide(tables["recovery"]).rename(columns=LABELS).to_string())
    print()
    print(tables["runtime"].replace(LABELS).to_string(index=False))
    print(f"\nwrote {comp.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="comparison config (YAML), e.g. configs/others/method_compare.yaml")
    parser.add_argument("--force", action="store_true", help="recompute units that are already finished")
    parser.add_argument("--no-run", action="store_true", help="only match and report what exists")
    parser.add_argument("--device", help="override the config's device (auto, cpu, cuda)")
    run_cli(main, parser)
