"""False interaction calls of the whole-sequence scope on pairs the planted rule leaves additive.

    python bench/false_calls.py [--config configs/interaction/mrl_predictor.yaml]
                                [--pairs 500] [--want 200] [--k 5] [--seed 11] [--device cpu]

Draws ``--pairs`` random motif pairs for a synthetic set with planted truth:
half are two random k-mers, half a planted motif with a random k-mer. A random
k-mer contains no ATG (the uAUG rules would make it a planted motif) and shares
no (k-1)-mer with any planted consensus, so destroying its site cannot destroy a
planted motif. Every pair goes through the very test the pipeline runs
(:func:`combmotif.interaction.scope.run_sequence_scope`: dinucleotide-shuffle
mutagenesis of every scanned sequence holding both, Wilcoxon signed-rank over
sequences, Benjamini-Hochberg over the pairs of the run, the effect floor of
the config), beside the planted rule on the very same variants
(``reference_epsilon``). A pair is "left additive by the planted rule" when that
reference epsilon is 0 on every variant (destroying a site can create or remove an
ATG, which the planted uAUG rule does not add up); the first ``--want`` such
pairs count. Printed: how many
were tested (enough sequences hold both), and the share called interacting
(synergistic or antagonistic) at q < alpha, with and without the effect floor,
with a Wilson 95 % interval. The unit of replication of each test is the
sequence; the false-call share is over pairs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.config import load_config  # noqa: E402
from combmotif.data.truth import load_truth  # noqa: E402
from combmotif.interaction.labels import Combination  # noqa: E402
from combmotif.interaction.scope import run_sequence_scope  # noqa: E402
from combmotif.interaction.stage import InteractionConfig  # noqa: E402
from combmotif.stage import Stage  # noqa: E402
from combmotif.validation.interaction import planted_function  # noqa: E402


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion k/n."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def allowed_kmers(k: int, planted: list[str]) -> list[str]:
    """Every k-mer with no ATG and no (k-1)-mer shared with a planted consensus."""
    banned = {c[i:i + k - 1] for c in planted for i in range(len(c) - k + 2)}
    out = []
    for i in range(4 ** k):
        s = "".join("ACGT"[(i >> (2 * j)) & 3] for j in range(k))
        if "ATG" not in s and not any(s[j:j + k - 1] in banned for j in range(2)):
            out.append(s)
    return out


def draw_pairs(truth: dict, n_pairs: int, k: int, seed: int) -> list[Combination]:
    """Distinct unordered pairs: half two random k-mers, half a planted motif with a random k-mer."""
    rng = np.random.default_rng(seed)
    motifs = [m for m in truth["motifs"] if "ATG" not in m["consensus"]]
    pool = allowed_kmers(k, [m["consensus"] for m in truth["motifs"]])
    combos, seen = [], set()
    while len(combos) < n_pairs:
        i = len(combos)
        a, b = (pool[j] for j in rng.choice(len(pool), 2, replace=False))
        name_a = a
        if i % 2 and motifs:
            m = motifs[i // 2 % len(motifs)]
            a, name_a = m["consensus"], m["name"]
        if tuple(sorted((a, b))) in seen:
            continue
        seen.add(tuple(sorted((a, b))))
        combos.append(Combination(f"random{i + 1}", [a], [b], name_a, b))
    return combos


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=str(ROOT / "configs/interaction/mrl_predictor.yaml"))
    ap.add_argument("--truth", default=None, help="default: truth.json beside the config's data")
    ap.add_argument("--pairs", type=int, default=500, help="random pairs drawn and tested")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--want", type=int, default=200,
                    help="pairs left additive by the planted rule to score (the first ones drawn)")
    ap.add_argument("--table", help="write every pair's row here (CSV)")
    args = ap.parse_args(argv)
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(args.config, InteractionConfig, {"device": args.device, "results_dir": tmp})
        stage = Stage(cfg, args.config, "interaction")
        _, _, meta = stage.data
        truth = load_truth(args.truth or Path(meta["path"]).parent / "truth.json")
        combos = draw_pairs(truth, args.pairs, args.k, args.seed)
        # The settings of the default run's whole-sequence scope (candidates.run_layer_sequences).
        df = run_sequence_scope(stage, combos, "false_calls", reference=planted_function(truth),
                                log=lambda _m: None, max_sequences=cfg.sequence_max_pair_sequences,
                                replicates=cfg.sequence_replicates)
    if args.table:
        df.to_csv(args.table, index=False)
    # Exactly 0: destroying a random site can create or remove a planted motif (an ATG), which
    # the planted rule itself does not add up; such pairs are not "left additive".
    additive = df[df["reference_epsilon"].abs() < 1e-9].head(args.want)
    tested = additive[additive["interaction"] != "untested"]
    called = tested["interaction"].isin(["synergistic", "antagonistic"])
    raw = tested["q"] < cfg.alpha
    n, k, k_raw = len(tested), int(called.sum()), int(raw.sum())
    lo, hi = wilson(k, n)
    lo2, hi2 = wilson(k_raw, n)
    print(f"model {stage.name}, data {meta['path']}, {args.pairs} random pairs (k={args.k}, seed {args.seed}); "
          f"up to {cfg.sequence_max_pair_sequences or cfg.max_pair_sequences} sequences x "
          f"{cfg.sequence_replicates or cfg.replicates} destruction draws per pair")
    print(f"left additive by the planted rule (reference epsilon 0): {len(additive)}; "
          f"tested (>= min_n={cfg.min_n} sequences hold both): {n}")
    print(f"called interacting at q < {cfg.alpha} with the effect floor "
          f"(min_relative_epsilon {cfg.min_relative_epsilon}): {k}/{n} = {k / max(n, 1):.1%} "
          f"(Wilson 95% CI {lo:.1%}-{hi:.1%})")
    print(f"q < {cfg.alpha} alone (no effect floor): {k_raw}/{n} = {k_raw / max(n, 1):.1%} "
          f"(Wilson 95% CI {lo2:.1%}-{hi2:.1%})")
    if k:
        cols = ["motifA_name", "motifB_name", "n", "epsilon", "q", "interaction"]
        print(tested[called][cols].to_string(index=False))
    print(f"median n per tested pair {tested['n'].median() if n else 0:.0f}; {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
