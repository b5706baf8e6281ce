"""The default run on synthetic MRL sets the code has never seen: are the planted pairs tested and called right?

    python bench/generalisation.py [--seeds 101 202 303] [--n 60000] [--epochs 6] [--work DIR] [--reuse]

For each seed, :func:`combmotif.data.spec.random_spec` draws a spec with other
motifs and pairs (one synergistic, one antagonistic, one additive control);
then, through the ``combmotif`` command exactly as a user runs it:

1. ``combmotif generate mrl --spec`` writes the set;
2. ``combmotif train`` trains the shipped MRL recipe on it (``--epochs`` epochs);
3. ``combmotif discovery`` (conv1-conv4, automatic everything: matching, syntax,
   families), ``combmotif fragments`` and ``combmotif pairs --scope sequence``
   on conv4 (the quick start's stages, no hand labels).

Printed per spec: test r2 against the noise ceiling, and one row per planted
pair: the candidate row that tests it (its two families' patterns are the
pair's motifs, up to flanks), the call, epsilon, q and n; ``right`` when the
call is the planted class. Nothing of the spec reaches the pipeline except the
data file: the truth is read only here, to score.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.data.spec import random_spec, write_spec  # noqa: E402
from combmotif.validation.interaction import compare_with_truth, family_aliases  # noqa: E402


def combmotif(*args: str) -> None:
    """Run one ``combmotif`` command as a user would; stop on failure."""
    cmd = [sys.executable, "-m", "combmotif", *args]
    t0 = time.time()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode:
        sys.exit(f"failed ({res.returncode}): {' '.join(args)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    print(f"  combmotif {' '.join(a if len(a) < 60 else '...' + a[-40:] for a in args)} ({time.time() - t0:.0f} s)",
          flush=True)


def shipped(kind: str) -> dict:
    """A shipped MRL config, as a dict."""
    return yaml.safe_load((ROOT / "configs" / kind / "mrl_predictor.yaml").read_text())


def write_configs(work: Path, name: str, data: Path, n: int, epochs: int,
                  kinds: tuple[str, ...] = ("interpreting", "interaction")) -> dict[str, Path]:
    """The shipped MRL configs (training and ``kinds``), pointed at this set, its checkpoint and
    a results folder in ``work``."""
    ckpt = work / "weights" / f"{name}-best.pth"
    train = shipped("training")
    train.update(name=name, output={"weights_dir": str(work / "weights"), "name": name})
    # The shipped recipe's split, sized to this set: a sixth of it is the test set.
    train["data"].update(path=str(data / "data.csv"), top_n=n, test_n=n // 6)
    train["train"]["epochs"] = epochs
    out = {"training": train}
    for kind in kinds:
        cfg = shipped(kind)
        cfg.update(model={"checkpoint": str(ckpt)}, results_dir=str(work / "results"), name=name)
        cfg.pop("labels_dir", None)  # automatic labels only
        if kind == "interpreting":
            cfg["data_dir"] = str(data)  # 'planted' = this set's planted.meme
        out[kind] = cfg
    paths = {}
    for kind, cfg in out.items():
        paths[kind] = work / f"{kind}.yaml"
        paths[kind].write_text(yaml.safe_dump(cfg, sort_keys=False))
    return paths


def one_spec(seed: int, work: Path, n: int, epochs: int, reuse: bool = False) -> pd.DataFrame:
    """Generate, train, interpret; the planted pairs scored against the candidates' tests."""
    work.mkdir(parents=True, exist_ok=True)
    spec = random_spec(seed)
    spec["n"] = n
    write_spec(work / "spec.yaml", spec)
    data = work / "data"
    name = f"unseen_{seed}"
    cfg = write_configs(work, name, data, n, epochs)
    if not (reuse and (work / "weights" / f"{name}-best.pth").is_file()):
        combmotif("generate", "mrl", "--spec", str(work / "spec.yaml"), "--out", str(data))
        combmotif("train", str(cfg["training"]))
    combmotif("discovery", str(cfg["interpreting"]), "--layers", "1-4")
    combmotif("fragments", str(cfg["interaction"]), "--layers", "4")
    combmotif("pairs", str(cfg["interaction"]), "--layers", "4", "--scope", "sequence")
    truth = json.loads((data / "truth.json").read_text())
    table = pd.read_csv(work / "results" / name / "interaction" / "conv4" / "sequences" / "motif_pair_stats.csv")
    aliases = family_aliases(work / "results" / name, {m["name"] for m in truth["motifs"]})
    scored = compare_with_truth(table, truth, aliases)
    scored.insert(0, "spec", seed)
    scored["right"] = scored["called"] == scored["planted"]
    record = json.loads((work / "weights" / f"{name}-best.json").read_text())
    test = record["metrics"]["test"]
    print(f"spec {seed}: test r2 {test['r2']:.3f}, ceiling r2 {truth['ceiling']['r2']:.3f}; "
          f"{len(table)} candidate pairs, {int((table['interaction'] != 'untested').sum())} tested")
    return scored


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[101, 202, 303])
    ap.add_argument("--n", type=int, default=60_000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--work", default="/tmp/combmotif_generalisation")
    ap.add_argument("--reuse", action="store_true",
                    help="keep a set and checkpoint already in --work (the stages after training rerun; "
                         "finished units are skipped by their stamps)")
    args = ap.parse_args(argv)
    t0 = time.time()
    rows = [one_spec(s, Path(args.work) / f"spec{s}", args.n, args.epochs, args.reuse) for s in args.seeds]
    df = pd.concat(rows, ignore_index=True)
    cols = ["spec", "pair", "motifA", "motifB", "planted", "called", "epsilon", "q", "n", "right"]
    print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"{int(df['right'].sum())}/{len(df)} planted pairs tested and called right "
          f"over {len(args.seeds)} unseen specs ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
