"""NeuronMotif discovery for one conv layer (main.sh calls this once per layer).

    python motif_discovery/discover.py configs/interpreting/mrl_predictor.yaml --layer 3 [--force]
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see README.md

from combmotif.cli import run_cli
from combmotif.neuronmotif.discover import load_discovery_config, run_discovery


def main(args: argparse.Namespace) -> int:
    overrides = {"device": args.device} if args.device else None
    cfg = load_discovery_config(args.config, overrides)
    run_discovery(cfg, [args.layer], force=args.force, config_dir=Path(args.config).resolve().parent)
    print(f"wrote {cfg.discovery_dir() / f'conv{args.layer}'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="discovery config (YAML)")
    parser.add_argument("--layer", type=int, required=True, help="conv layer number (1 = first conv)")
    parser.add_argument("--force", action="store_true", help="redo neurons that are already finished")
    parser.add_argument("--device", help="override the config's device (auto, cpu, cuda)")
    run_cli(main, parser)
