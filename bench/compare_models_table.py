"""Issue 18's two figures: human vs mouse half-life predictor, MRL vs noAUG predictor.

    python bench/compare_models_table.py [CONFIG ...] [--run] [--layers 1-4]

For each comparison config (default: configs/others/compare_models_halflife.yaml and
compare_models_mrl.yaml) it prints the truth check of ``combmotif validate
compare-models``: every planted motif shared / model-specific as planted and as
found (with the matching q), the shared motifs' signs, the planted pairs, and
writes the comparison's page (``combmotif compare-models``). With ``--run`` it
first runs, for every model without them, the stages the comparison reads
(discovery, contribution, fragments and pairs --scope sequence on the deepest of
``--layers``), each through the ``combmotif`` command line: slow on a CPU (tens
of minutes per model).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from combmotif.compare_models.config import ComparedModel, load_compare_models_config  # noqa: E402
from combmotif.report.compare_models_page import compare_models_command  # noqa: E402
from combmotif.validation.compare_models import check_compare_models  # noqa: E402

DEFAULTS = [REPO / "configs/others/compare_models_halflife.yaml", REPO / "configs/others/compare_models_mrl.yaml"]


def _stage_commands(model: ComparedModel, entry, layers: str) -> list[list[str]]:
    """The combmotif commands that make a model's missing stage outputs."""
    deepest = layers.split("-")[-1]
    cmds = []
    if not any((model.model_dir / "discovery").glob("conv*/matches.csv")):
        cmds.append(["discovery", entry.discovery, "--layers", layers])
    if entry.contribution and not any((model.contribution_dir or Path("/-")).glob("conv*/neuron_contribution.csv")):
        cmds.append(["contribution", entry.contribution, "--layers", layers])
    if entry.interaction and not any((model.interaction_dir or Path("/-")).glob("conv*/candidates.csv")):
        cmds += [["fragments", entry.interaction, "--layers", deepest],
                 ["pairs", entry.interaction, "--layers", deepest, "--scope", "sequence"]]
    return cmds


def main() -> None:
    """Run (optionally) the stages, then print each comparison's truth tables."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("configs", nargs="*", default=DEFAULTS, help="comparison configs (default: issue 18's two)")
    p.add_argument("--run", action="store_true", help="run the stages a model lacks first")
    p.add_argument("--layers", default="1-4", help="layers to run with --run, inclusive (default 1-4)")
    args = p.parse_args()
    for config in args.configs:
        cfg, models = load_compare_models_config(config)
        if args.run:
            for model, entry in zip(models, cfg.models):
                for cmd in _stage_commands(model, entry, args.layers):
                    t0 = time.perf_counter()
                    subprocess.run([sys.executable, "-m", "combmotif", *cmd], check=True, cwd=REPO)
                    print(f"# {model.label}: combmotif {' '.join(cmd[:1] + cmd[2:])} "
                          f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        print(f"=== {cfg.name}: python -m combmotif validate compare-models {config}")
        check_compare_models(config)
        compare_models_command(config, print_=lambda *a: None)
        print()


if __name__ == "__main__":
    main()
