"""Rewrite the pages of a model from every stage's outputs (the final report step).

    python motif_discovery/report.py configs/interpreting/mrl_predictor.yaml [--layers 1 4]

Run it after motif_contribution (or any later stage) so the discovery pages show
the neurons' contribution signs without rerunning discovery.
"""

import argparse
from pathlib import Path

from combmotif.cli import run_cli
from combmotif.errors import ConfigError, InputError
from combmotif.motifs.databases import check_motif_db
from combmotif.neuronmotif.stage import load_discovery_config
from combmotif.report.final import write_reports


def main(args: argparse.Namespace) -> int:
    layers = None
    if args.layers:
        first, last = args.layers
        if first < 1 or last < first:
            raise ConfigError(f"--layers {first} {last}: need 1 <= first <= last")
        layers = list(range(first, last + 1))
    cfg = load_discovery_config(args.config)
    config_dir = Path(args.config).resolve().parent
    ddir = cfg.discovery_dir()
    if not any(ddir.glob("conv*/matches.csv")):
        raise InputError(f"{args.config}: no matched discovery outputs in {ddir} (run motif_discovery/main.sh first)")
    check_motif_db(cfg.motif_db, args.config, "motif_db", data_dir=cfg.data_dir, base_dir=config_dir)
    print(f"pages: {write_reports(cfg, config_dir, layers)}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="discovery config (YAML)")
    parser.add_argument("--layers", type=int, nargs=2, metavar=("FIRST", "LAST"),
                        help="conv layers FIRST..LAST (inclusive); default: every discovered layer")
    run_cli(main, parser)
