"""Calibration and power of the epistasis test (combmotif.interaction).

    python bench/interaction_calibration.py [--null 300] [--alt 100] [--seed 0] [--skip-model]

Part A - simulated per-sequence predictions (the statistics alone). For every
simulated pair, n sequences each get their own baseline mu_i, their own single
effects (e_A, e_B drawn around the pair's values) and independent noise on each
of the four predictions; f(AB) adds the pair's interaction gamma (0 for the
null pairs). The very functions the pipeline uses (pair_statistics: Wilcoxon
signed-rank of epsilon per sequence; classify: BH over all pairs, class from
the single effects' signs) are run on them. Three noise laws: gaussian,
Student t (3 df, heavy tails) and a centred exponential (skewed).
Printed: the share of null pairs with raw p < 0.05 (should be about 5 %), the
share of null pairs called interacting at q < 0.05 in a null-only family and in
a mixed family (must be <= 5 %), the false discovery proportion of the mixed
family, the power (also with the shipped configs' effect floor,
min_relative_epsilon = 0.1) and class accuracy on the interacting pairs, and
power by |gamma|/sd and n.

Part B - through a real model and the real mutagenesis code. A small CNN whose
output is a sum over positions of a nonlinear function of 9-nt windows (random
weights) is exactly additive for sites more than 9 nt apart. Pairs of random
6-mers are planted at least 12 nt apart into random sequences; every pair goes
through plan_sites -> mutagenesis (dinucleotide shuffles, redraws, fallbacks,
batched prediction) -> pair_statistics -> classify. Any call is a false positive
made by the machinery itself.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif import interaction as I  # noqa: E402


def noise(rng, dist, size, sd):
    if dist == "gaussian":
        return rng.normal(0, sd, size)
    if dist == "t3":
        return rng.standard_t(3, size) * sd / np.sqrt(3.0)
    if dist == "skewed":
        return (rng.exponential(1.0, size) - 1.0) * sd
    raise ValueError(dist)


def simulate(rng, n, e_a, e_b, gamma, sd, dist):
    mu = rng.normal(0, 1, n)
    ea = e_a + rng.normal(0, 0.2 * abs(e_a), n)   # effects differ between sequences
    eb = e_b + rng.normal(0, 0.2 * abs(e_b), n)
    f = lambda shift: mu + shift + noise(rng, dist, n, sd)  # noqa: E731
    return I.Observations(seq=np.arange(n), f_orig=f(ea + eb + gamma), f_scrA=f(eb), f_scrB=f(ea),
                          f_scrAB=f(0.0), replicates=1)


def draw_pairs(rng, count, null, dist):
    rows = []
    for _ in range(count):
        n = int(rng.choice([8, 15, 30, 60, 120, 250, 500]))
        e_a, e_b = rng.choice([-1, 1], 2) * rng.uniform(0.2, 1.0, 2)
        sd = rng.uniform(0.1, 0.3)
        gamma = 0.0 if null else float(rng.choice([-1, 1]) * rng.uniform(0.05, 0.5))
        rows.append(dict(n=n, e_a=e_a, e_b=e_b, sd=sd, gamma=gamma, dist=dist))
    return rows


def run_family(rng, specs, n_boot):
    stats_rows = []
    for i, s in enumerate(specs):
        obs = simulate(rng, s["n"], s["e_a"], s["e_b"], s["gamma"], s["sd"], s["dist"])
        stats_rows.append(I.pair_statistics(obs, min_n=6, n_boot=n_boot, seed=i))
    df = I.classify(pd.DataFrame(stats_rows))
    floor = I.classify(pd.DataFrame(stats_rows), min_relative=0.1)["interaction"].rename("with_floor")
    return pd.concat([pd.DataFrame(specs), df[["interaction-p", "q", "interaction", "epsilon"]], floor], axis=1)


def planted_class(e_a, e_b, gamma):
    if gamma == 0:
        return "additive"
    return "synergistic" if np.sign(gamma) == np.sign(e_a + e_b) else "antagonistic"


def part_a(args):
    print("Part A: simulated per-sequence predictions (additive model + noise), "
          f"{args.null} null and {args.alt} interacting pairs per noise law")
    rng = np.random.default_rng(args.seed)
    summary = []
    alts = []
    for dist in ("gaussian", "t3", "skewed"):
        null_only = run_family(rng, draw_pairs(rng, args.null, True, dist), args.boot)
        mixed = run_family(rng, draw_pairs(rng, args.null, True, dist) + draw_pairs(rng, args.alt, False, dist),
                           args.boot)
        is_null = mixed["gamma"] == 0
        called = mixed["interaction"].isin(["synergistic", "antagonistic", "unclassified"])
        calls = int(called.sum())
        false_calls = int((called & is_null).sum())
        alt = mixed[~is_null].copy()
        alt["planted"] = [planted_class(a, b, g) for a, b, g in zip(alt["e_a"], alt["e_b"], alt["gamma"])]
        alts.append(alt)
        summary.append({
            "noise": dist,
            "null raw p<0.05": (null_only["interaction-p"] < 0.05).mean(),
            "null called (null family)": (null_only["interaction"] != "additive").mean(),
            "null called (mixed family)": float(called[is_null].mean()),
            "FDP (mixed)": false_calls / max(calls, 1),
            "power": float(called[~is_null].mean()),
            "power, 0.1 floor": float((mixed["with_floor"] != "additive")[~is_null].mean()),
            "class right | called": float((alt["interaction"] == alt["planted"])[called[~is_null]].mean()),
        })
    table = pd.DataFrame(summary)
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 200):
        print(table.to_string(index=False))
    worst = table[["null called (null family)", "null called (mixed family)"]].to_numpy().max()
    print(f"largest share of no-interaction pairs called interacting at q < 0.05: {worst:.3f} "
          f"({'<= 0.05 OK' if worst <= 0.05 else 'ABOVE 0.05'}) over {3 * 2 * args.null} null pairs")
    alt = pd.concat(alts, ignore_index=True)
    alt["called"] = alt["interaction"] != "additive"
    alt["|gamma|/sd"] = pd.cut(alt["gamma"].abs() / alt["sd"], [0, 0.5, 1, 2, 10])
    alt["n bin"] = pd.cut(alt["n"], [0, 10, 40, 150, 600])
    print("power (share of interacting pairs called) by |gamma|/sd and n (all noise laws):")
    with pd.option_context("display.float_format", "{:.2f}".format, "display.width", 200):
        print(alt.pivot_table(index="|gamma|/sd", columns="n bin", values="called", aggfunc="mean",
                              observed=False).to_string())


def part_b(args):
    import torch
    from torch import nn

    from combmotif.data.planting import plant
    from combmotif.sequences import decode, indices_to_one_hot

    class LocalAdditive(nn.Module):
        """Sum over positions of softplus(conv9(x)) -> linear: additive beyond 9 nt."""

        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Conv1d(4, 16, 9), nn.Softplus())
            self.head = nn.Linear(16, 1)

        def forward(self, x):
            return self.head(self.body(x).sum(-1)).squeeze(-1)

    torch.manual_seed(args.seed)
    torch.set_num_threads(2)
    model = LocalAdditive().eval()

    @torch.no_grad()
    def predict(x):
        return model(torch.as_tensor(x)).numpy()

    rng = np.random.default_rng(args.seed + 1)
    n_pairs, n_seq, length = args.model_pairs, 30, 80
    rows = []
    t0 = time.perf_counter()
    fallbacks = draws = 0
    for i in range(n_pairs):
        a, b = ("".join(rng.choice(list("ACGT"), 6)) for _ in range(2))
        codes = rng.integers(0, 4, (n_seq, length)).astype(np.int8)
        sa = rng.integers(0, 30, n_seq)
        sb = sa + 6 + rng.integers(12, 38, n_seq)
        plant(codes, np.arange(n_seq), sa, a, rng)
        plant(codes, np.arange(n_seq), sb, b, rng)
        texts = decode(codes)
        combo = I.Combination(f"pair{i}", [a], [b])
        plan = I.plan_sites(texts, np.arange(n_seq), np.zeros(n_seq, np.int64), combo)
        plan.a, plan.b = np.stack([sa, sa + 6], 1), np.stack([sb, sb + 6], 1)  # the planted sites
        plan.seq = np.arange(n_seq)
        obs = I.mutagenesis(predict, indices_to_one_hot(codes), texts, plan, combo, replicates=10,
                            rng=np.random.default_rng([args.seed, i]))
        fallbacks += obs.fallbacks
        draws += 2 * 10 * len(obs)
        rows.append(I.pair_statistics(obs, n_boot=200, seed=i))
    df = I.classify(pd.DataFrame(rows))
    called = (df["interaction"] != "additive").sum()
    print(f"\nPart B: {n_pairs} pairs of random 6-mers >= 12 nt apart, {n_seq} sequences each, "
          f"10 replicates, through the real mutagenesis code on an exactly additive CNN "
          f"({time.perf_counter() - t0:.0f} s)")
    print(f"max |mean epsilon| over the pairs: {np.nanmax(np.abs(df['epsilon'])):.2g}; "
          f"fallbacks {fallbacks}/{draws} draws; raw p < 0.05: {(df['interaction-p'] < 0.05).mean():.3f}; "
          f"called interacting at q < 0.05: {called}/{n_pairs} = {called / n_pairs:.3f}")


def main():
    p = argparse.ArgumentParser(description="Calibration and power of the epistasis test")
    p.add_argument("--null", type=int, default=300, help="null pairs per family and noise law")
    p.add_argument("--alt", type=int, default=100, help="interacting pairs per mixed family")
    p.add_argument("--model-pairs", type=int, default=200)
    p.add_argument("--boot", type=int, default=500, help="bootstrap resamples per CI")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-model", action="store_true", help="Part A only")
    args = p.parse_args()
    part_a(args)
    if not args.skip_model:
        part_b(args)


if __name__ == "__main__":
    main()
