"""Do a layer's neurons encode a planted pair's syntax? Neuron-level epistasis against gap.

    python bench/neuron_gap_epistasis.py [--config configs/interpreting/grammar_predictor.yaml]
                                         [--layer 4] [--backgrounds 48] [--top 4]
                                         [--discovery /tmp/combmotif_grammar/grammar_predictor/discovery]

For every planted pair of the config's ``truth.json`` (both orders), every unplanted
pair of its control motifs, and two pairs of motifs from different rules, A and B
(their planted consensus) are written into N random windows of the layer's receptive
field at every gap (the arrangement centred, as the spacing scan does), and the
layer's neurons (the raw conv output discovery samples on) read per window::

    epsilon(g) = a(AB at g) - a(A alone) - a(B alone) + a(background)

with A and B alone at the very positions they take in AB. The unit of replication is
the background window: two-sided Wilcoxon signed-rank per gap and neuron, BH over the
gaps of one neuron and pair. A neuron's gap range: the significant gaps around its
peak whose mean epsilon is at least half the peak (full width at half maximum).
Printed: per arrangement the neurons with the largest peak epsilon, their ranges,
and the planted gap range. An AND of two motifs at a gap shows as a large peak there;
two motifs that each drive a neuron a little add up under the activation, which the
subtraction removes.

Both readings are printed. The raw output (what discovery samples) of a neuron that sums
A and B is additive even when the activation after it turns the sum into an AND: a
threshold that only A and B together pass shows as epistasis after the activation. The
activation also makes any two motifs that both raise a neuron look synergistic there,
so the pairs never planted together are printed beside the rules as the yardstick.

With ``--discovery`` (a discovery of the same model, e.g. the one ``bench/grammar_table.py``
writes), a third line per arrangement reads the neurons' samples instead: the share of the
strongly activating samples (activation >= half the neuron's best) holding A then B, and
the 5-95 % range of their gaps (:func:`combmotif.neuronmotif.syntax_samples.sample_gaps`,
the planted consensus as the motif). Whether the samples hold an arrangement that no
syntax tree reports tells the sampling from the demixing.

Why: issue 15's grammar benchmark asks for each planted rule as a syntax rule of some
neuron. This tells whether the neurons hold the rule at all, and at which activations.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.data.truth import load_truth  # noqa: E402
from combmotif.models.anatomy import Anatomy  # noqa: E402
from combmotif.models.loader import load_model  # noqa: E402
from combmotif.motifs.formats import iupac_to_ppm  # noqa: E402
from combmotif.neuronmotif.discovery_config import load_discovery_config  # noqa: E402
from combmotif.neuronmotif.syntax_samples import read_samples, sample_gaps  # noqa: E402
from combmotif.stats import bh_qvalues, wilcoxon_p  # noqa: E402


def arrangements(truth: dict) -> list[tuple[str, str, str]]:
    """(A, B, what) for each ordered pair to scan: planted orders, other orders, controls, mixed."""
    out = []
    for p in truth["pairs"]:
        planted = {a["order"]: (a["gap_min"], a["gap_max"]) for a in p.get("arrangements", [])}
        kind = "control, additive" if p["class"] == "additive" else f"rule {p['syntax']}"
        for order, (a, b) in (("AB", (p["motifA"], p["motifB"])), ("BA", (p["motifB"], p["motifA"]))):
            what = kind + (f", planted gaps {planted[order][0]}-{planted[order][1]}" if order in planted
                           else ", order not planted")
            out.append((a, b, what))
    rules = [p for p in truth["pairs"] if p["class"] != "additive"]
    for p, q in zip(rules, rules[1:3]):
        out.append((p["motifA"], q["motifB"], "motifs of two rules, never paired"))
    return out


def scan(cut, consensus: dict, a: str, b: str, n: int, seed: int) -> np.ndarray:
    """(gaps, backgrounds, neurons) epsilon of A then B in random RF windows."""
    rf = cut.rf
    rng = np.random.default_rng(seed)
    bg = rng.integers(0, 4, size=(n, rf))
    A, B = consensus[a], consensus[b]
    gaps = range(rf - len(A) - len(B) + 1)

    def write(codes, start, m):
        c = codes.copy()
        c[:, start:start + len(m)] = ["ACGT".index(ch) for ch in m]
        return c

    windows = [bg]
    for g in gaps:
        start = (rf - (len(A) + g + len(B))) // 2
        windows += [write(write(bg, start, A), start + len(A) + g, B), write(bg, start, A),
                    write(bg, start + len(A) + g, B)]
    codes = np.concatenate(windows)
    x = np.zeros((len(codes), 4, rf), np.float32)
    x[np.arange(len(codes))[:, None], codes, np.arange(rf)] = 1.0
    with torch.no_grad():
        act = torch.cat([cut(torch.from_numpy(x[i:i + 8192])) for i in range(0, len(x), 8192)]).numpy()
    act = act.reshape(1 + 3 * len(gaps), n, -1)
    base, rest = act[0], act[1:].reshape(len(gaps), 3, n, -1)
    return rest[:, 0] - rest[:, 1] - rest[:, 2] + base[None]


def sample_shares(discovery: Path, layer: int, a: str, b: str) -> list[tuple[float, int, int, int]]:
    """(share, neuron, gap_min, gap_max) per neuron whose strong samples hold A then B, largest first."""
    ppm_a, ppm_b = iupac_to_ppm(a), iupac_to_ppm(b)
    out = []
    for unit in (discovery / f"conv{layer}").glob("neuron*"):
        samples = read_samples(unit)
        got = sample_gaps(*samples, ppm_a, ppm_b) if samples is not None else {}
        if got.get("sample_gap_min") is not None:
            out.append((got["sample_share"], int(unit.name[6:]), got["sample_gap_min"], got["sample_gap_max"]))
    return sorted(out, reverse=True)


def ranges(eps: np.ndarray, alpha: float = 0.05) -> list[tuple[float, int, int, int]]:
    """(peak, neuron, gap_min, gap_max) per neuron with a significant positive peak."""
    mean = eps.mean(1)
    out = []
    for c in range(eps.shape[2]):
        g0 = int(mean[:, c].argmax())
        peak = float(mean[g0, c])
        if peak <= 0:
            continue
        q = bh_qvalues(np.array([wilcoxon_p(eps[g, :, c]) for g in range(len(eps))]))
        ok = (q < alpha) & (mean[:, c] >= 0.5 * peak)
        if not ok[g0]:
            continue
        lo, hi = g0, g0
        while lo > 0 and ok[lo - 1]:
            lo -= 1
        while hi + 1 < len(ok) and ok[hi + 1]:
            hi += 1
        out.append((peak, c, lo, hi))
    return sorted(out, reverse=True)


def main() -> None:
    """Scan every arrangement and print the top neurons of each."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", default=str(ROOT / "configs/interpreting/grammar_predictor.yaml"))
    ap.add_argument("--layer", type=int, default=4)
    ap.add_argument("--backgrounds", type=int, default=48)
    ap.add_argument("--top", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--discovery", type=Path, default=None,
                    help="a discovery folder of the same model: also read the neurons' samples")
    args = ap.parse_args()
    cfg = load_discovery_config(args.config)
    truth = load_truth(Path(cfg.data_dir) / "truth.json")
    consensus = {m["name"]: m["consensus"] for m in truth["motifs"]}
    model = load_model(cfg.model, "cpu").module.eval()
    anatomy = Anatomy(model)
    cuts = {"raw": anatomy.cut(args.layer, False), "after activation": anatomy.cut(args.layer, True)}
    print(f"{cfg.model_name} conv{args.layer}: receptive field {cuts['raw'].rf}, {args.backgrounds} random "
          f"windows; neuron epsilon = a(AB) - a(A) - a(B) + a(bg), peak and gaps at >= half the peak "
          f"(q < 0.05); a: the raw conv output, and the value after the layer's norm and activation")
    for a, b, what in arrangements(truth):
        print(f"{a}->{b} ({what})")
        for name, cut in cuts.items():
            top = ranges(scan(cut, consensus, a, b, args.backgrounds, args.seed))[:args.top]
            cells = "; ".join(f"n{c} {pk:.2f} gaps {lo}-{hi}" for pk, c, lo, hi in top) or "none"
            print(f"  {name:>16}: {cells}")
        if args.discovery is not None:
            top = sample_shares(args.discovery, args.layer, consensus[a], consensus[b])[:args.top]
            cells = "; ".join(f"n{c} {sh:.2f} gaps {lo}-{hi}" for sh, c, lo, hi in top) or "none"
            print(f"  {'strong samples':>16}: {cells}")


if __name__ == "__main__":
    main()
