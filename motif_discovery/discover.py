"""NeuronMotif discovery for conv layers (main.sh calls this once for its layer range).

    python motif_discovery/discover.py configs/interpreting/mrl_predictor.yaml --layer 3 [--force]
    python motif_discovery/discover.py configs/interpreting/mrl_predictor.yaml --layers 1 4
"""

import argparse
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads; see README.md

from combmotif.cli import run_cli
from combmotif.errors import ConfigError
from combmotif.neuronmotif.stage import load_discovery_config, preflight, run_discovery


def main(args: argparse.Namespace) -> int:
    if args.layers:
        first, last = args.layers
        if first < 1 or last < first:
            raise ConfigError(f"--layers {first} {last}: need 1 <= first <= last")
        layers = list(range(first, last + 1))
    else:
        layers = [args.layer]
    overrides = {"device": args.device} if args.device else None
    cfg = load_discovery_config(args.config, overrides)
    config_dir = Path(args.config).resolve().parent
    # Every layer of the range is checked before the first one is sampled.
    preflight(cfg, layers, args.config, config_dir)
    run_discovery(cfg, layers, force=args.force, config_dir=config_dir)
    for layer in layers:
        print(f"wrote {cfg.discovery_dir() / f'conv{layer}'}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="discovery config (YAML)")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--layer", type=int, help="conv layer number (1 = first conv)")
    which.add_argument("--layers", type=int, nargs=2, metavar=("FIRST", "LAST"),
                       help="conv layers FIRST..LAST (inclusive), shallow first")
    parser.add_argument("--force", action="store_true", help="redo neurons that are already finished")
    parser.add_argument("--device", help="override the config's device (auto, cpu, cuda)")
    run_cli(main, parser)
