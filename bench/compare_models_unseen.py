"""Compare-models on two MRL models the code has never seen: overlapping rule tables drawn at random.

    python bench/compare_models_unseen.py [--seed 404] [--n 60000] [--epochs 6] [--work DIR] [--reuse]

Issue 18's figures come from the shipped pairs (human/mouse half-life, MRL/noAUG).
This checks the comparison elsewhere: :func:`paired_specs` draws seven motifs
(:func:`combmotif.data.spec.random_motifs`, other motifs for every seed) and two
rule tables over them, in the shape of the human/mouse design:

* ``s1``, ``s2``: in both sets with the same effect;
* ``s3``: in both, the effect size changed (same sign); ``s4``: the sign flipped;
* ``a5`` only in set A, ``b6`` only in set B;
* pairs: ``s1+s2`` synergistic in both; ``s3+a5`` synergistic in A only (a5 is
  A's own); ``s2+s4`` antagonistic in B only (the same two motifs additive in A).

Each set is generated (``combmotif generate mrl --spec``), the shipped MRL recipe
trained on it, and each model interpreted through the ``combmotif`` command
exactly as a user does (discovery conv1-4, contribution conv1-4, fragments and
``pairs --scope sequence`` on conv4; :mod:`bench.compare_models_table`), then
``combmotif validate compare-models`` prints the three truth tables.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generalisation import write_configs  # noqa: E402  (bench/ is the script's folder)

from combmotif.data.spec import check_spec, random_motifs, write_spec  # noqa: E402


def paired_specs(seed: int, n: int) -> tuple[dict, dict]:
    """Two MRL specs over one draw of motifs whose rule tables overlap partly (module docstring)."""
    rng = np.random.default_rng(seed)
    cons = dict(zip(("s1", "s2", "s3", "s4", "a5", "b6"), random_motifs(rng, 6, (6, 7))))
    size = dict(zip(cons, np.round(rng.uniform(0.45, 0.7, size=6), 2).tolist()))
    sigma, tau, beta = np.where(rng.random(3) < 0.5, -1.0, 1.0).tolist()
    syn, anti = round(float(rng.uniform(0.6, 0.9)), 2), round(float(rng.uniform(0.4, 0.6)), 2)
    # A synergistic pair: two main effects of one sign and an interaction of that sign; an
    # antagonistic one: one sign, the interaction against it (combmotif.data.truth.pair_class).
    a_eff = {"s1": sigma * size["s1"], "s2": sigma * size["s2"], "s3": tau * size["s3"],
             "s4": -sigma * size["s4"], "a5": tau * size["a5"]}
    b_eff = {"s1": a_eff["s1"], "s2": a_eff["s2"],
             "s3": tau * (size["s3"] * 1.6 if size["s3"] < 0.55 else size["s3"] / 1.6),   # another size
             "s4": sigma * size["s4"],                                                    # the sign flipped
             "b6": beta * size["b6"]}
    shared_pair = {"name": "s1+s2", "motifA": "s1", "motifB": "s2", "interaction": round(sigma * syn, 2),
                   "planted_co_frequency": 0.08}
    pairs = {"A": [shared_pair,
                   {"name": "s3+a5", "motifA": "s3", "motifB": "a5", "interaction": round(tau * syn, 2),
                    "planted_co_frequency": 0.08},
                   {"name": "s2+s4", "motifA": "s2", "motifB": "s4", "interaction": 0.0,
                    "planted_co_frequency": 0.12}],
             "B": [dict(shared_pair),
                   {"name": "s2+s4", "motifA": "s2", "motifB": "s4", "interaction": round(-sigma * anti, 2),
                    "planted_co_frequency": 0.08}]}
    out = []
    for k, (label, eff) in enumerate((("A", a_eff), ("B", b_eff))):
        motifs = [{"name": m, "consensus": cons[m], "effect": round(float(v), 2), "planted_frequency": 0.15}
                  for m, v in eff.items()]
        out.append(check_spec({"task": "mrl", "n": n, "seed": seed + k, "length": 50, "baseline": 5.0,
                               "target_r2": 0.87, "description": f"paired_specs({seed}) set {label}",
                               "motifs": motifs, "pairs": pairs[label]}, f"paired_specs({seed}) {label}"))
    return out[0], out[1]


def combmotif(*args: str) -> None:
    """One ``combmotif`` command, as a user runs it; stop on failure."""
    t0 = time.time()
    subprocess.run([sys.executable, "-m", "combmotif", *args], cwd=ROOT, check=True)
    print(f"# combmotif {' '.join(a if len(a) < 50 else '...' + a[-30:] for a in args)} "
          f"({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=404)
    ap.add_argument("--n", type=int, default=60_000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--work", default="/tmp/combmotif_compare_unseen")
    ap.add_argument("--reuse", action="store_true", help="keep sets and checkpoints already in --work")
    args = ap.parse_args(argv)
    t0 = time.time()
    work = Path(args.work)
    entries = []
    for label, spec in zip("AB", paired_specs(args.seed, args.n)):
        name = f"unseen{args.seed}_{label}"
        (work / name).mkdir(parents=True, exist_ok=True)
        write_spec(work / name / "spec.yaml", spec)
        cfg = write_configs(work / name, name, work / name / "data", args.n, args.epochs,
                            kinds=("interpreting", "contribution", "interaction"))
        if not (args.reuse and (work / name / "weights" / f"{name}-best.pth").is_file()):
            combmotif("generate", "mrl", "--spec", str(work / name / "spec.yaml"), "--out", str(work / name / "data"))
            combmotif("train", str(cfg["training"]))
        entries.append({"label": label, "discovery": str(cfg["interpreting"]),
                        "contribution": str(cfg["contribution"]), "interaction": str(cfg["interaction"])})
        print(f"set {label}: " + ", ".join(f"{m['name']} {m['consensus']} {m['effect']:+g}" for m in spec["motifs"])
              + "; pairs " + ", ".join(f"{p['name']} {p['interaction']:+g}" for p in spec["pairs"]))
    compare = work / "compare.yaml"
    compare.write_text(yaml.safe_dump({"name": f"unseen{args.seed}_A_vs_B", "models": entries,
                                       "layers": [1, 2, 3, 4], "match_q": 0.05, "min_cover": 0.5}, sort_keys=False))
    subprocess.run([sys.executable, str(ROOT / "bench" / "compare_models_table.py"), str(compare), "--run"],
                   cwd=ROOT, check=True)
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
