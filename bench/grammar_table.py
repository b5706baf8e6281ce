"""The grammar benchmark: is every planted syntax rule found as a syntax rule, and does the spacing scan agree?

    python bench/grammar_table.py [--work /tmp/combmotif_grammar] [--reuse] [--backgrounds 100]
                                  [--checkpoint model_weights/grammar_cnn-best.pth]

On the grammar predictor (``model_weights/grammar_predictor-best.pth``, trained on
``data/synthetic_grammar``), through the ``combmotif`` command as a user runs it:

1. ``combmotif discovery`` conv1-4 into ``--work`` (a copy of
   ``configs/interpreting/grammar_predictor.yaml`` with ``results_dir`` = ``--work``);
   ``--reuse`` keeps an existing discovery and only redoes the syntax (seconds);
2. ``combmotif spacing`` on conv4 for every planted pair (both orders, gaps 0..RF - both
   lengths), the motifs written as the syntax tree found them (the consensus of the
   best-supported rule naming them), else as planted.

``--checkpoint`` runs the same configs on another model of the same set, e.g. the conv-only
regressor of ``configs/training/grammar_cnn.yaml`` (not shipped: ``python -m combmotif train
configs/training/grammar_cnn.yaml``, 2.5 min on 2 cores).

Printed: one table, one row per planted arrangement (each arm of an OR rule counts):
the best syntax rule of any layer with A 5' of B named after the planted motifs (a
dictionary motif carries a database name only at Tomtom q < 0.05), its tree gap range and
its Jaccard with the planted range, other rules of the same motifs and order; the scan's
significant and gap-specific gaps in that order, their Jaccard with the planted range, the
class at the scan's peak. Then the control arrangements (C1+C2 and the rule motifs'
non-rule orders): any tree rule and any scan-significant gap there. Gaps are in the
planted motifs' coordinates: a found consensus longer or shorter than the planted one is
aligned to it first (so ``ATAATTTGA`` + 2 + ``TGCTCT`` is H1 + 2 + H2). Nothing is
written into ``results/``. The truth is read only here, to score.
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


def combmotif(*args: str) -> None:
    """Run one ``combmotif`` command as a user would; stop on failure."""
    cmd = [sys.executable, "-m", "combmotif", *args]
    t0 = time.time()
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if res.returncode:
        sys.exit(f"failed ({res.returncode}): {' '.join(args)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    print(f"  combmotif {' '.join(args)} ({time.time() - t0:.0f} s)", flush=True)


def work_configs(work: Path, model: str, checkpoint: Path | None = None) -> tuple[Path, Path]:
    """Copies of the model's discovery and interaction configs writing under ``work``
    (with ``checkpoint``: the same settings on another model trained on the same set,
    named after the checkpoint)."""
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for stage in ("interpreting", "interaction"):
        src = ROOT / "configs" / stage / f"{model}.yaml"
        cfg = yaml.safe_load(src.read_text())
        cfg["model"]["checkpoint"] = str((src.parent / cfg["model"]["checkpoint"]).resolve())
        if checkpoint is not None:
            cfg["model"]["checkpoint"] = str(checkpoint.resolve())
            cfg["name"] = model_name(model, checkpoint)
        for key in ("data_dir", "labels_dir"):
            if cfg.get(key):
                cfg[key] = str((src.parent / cfg[key]).resolve())
        cfg["results_dir"] = str(work)
        if stage == "interpreting":
            cfg.setdefault("report", {})["png"] = False
        dst = work / f"{stage}.yaml"
        dst.write_text(yaml.safe_dump(cfg, sort_keys=False))
        out.append(dst)
    return out[0], out[1]


def model_name(model: str, checkpoint: Path | None) -> str:
    """The results name: the config's model, or the checkpoint's file name minus ``-best.pth``."""
    return model if checkpoint is None else checkpoint.name.removesuffix(".pth").removesuffix("-best")


def resyntax(config: Path, layers: range) -> None:
    """Redo the syntax of an existing discovery (the code may have changed since)."""
    from combmotif import layout
    from combmotif.motifs.databases import resolve_motif_db
    from combmotif.neuronmotif.discovery_config import load_discovery_config
    from combmotif.neuronmotif.syntax_layer import write_layer_syntax
    cfg = load_discovery_config(config)
    targets = resolve_motif_db(cfg.motif_db, data_dir=cfg.data_dir)
    for layer in layers:
        write_layer_syntax(layout.layer_dir(cfg.discovery_dir(), layer), cfg.matching, targets=targets)


def shift(found_a: str, planted_a: str, found_b: str, planted_b: str) -> int:
    """What to add to a gap between found A and found B to get the gap between the planted motifs."""
    off_a, off_b = _offset(found_a, planted_a), _offset(found_b, planted_b)
    return (len(found_a) - (off_a + len(planted_a))) + off_b


def _offset(found: str, planted: str) -> int:
    scores = []
    for off in range(-len(planted) + 4, len(found) - 3):
        pairs = [(found[off + i], c) for i, c in enumerate(planted) if 0 <= off + i < len(found)]
        scores.append((sum(a == b for a, b in pairs), len(pairs), -abs(off), off))
    return max(scores)[3] if scores else 0


def jaccard(gaps: set[int], lo: int, hi: int, scanned: set[int] | None = None) -> float:
    """|S & T| / |S | T| of a gap set and the planted range (clipped to the scanned gaps)."""
    planted = {g for g in range(lo, hi + 1) if scanned is None or g in scanned}
    union = gaps | planted
    return len(gaps & planted) / len(union) if union else float("nan")


def read_rules(discovery: Path) -> pd.DataFrame:
    """Every layer's syntax_rules.csv, one table."""
    tabs = [pd.read_csv(p, keep_default_na=False, dtype={"neurons": str})
            for p in sorted(discovery.glob("conv*/syntax_rules.csv"))]
    tabs = [t for t in tabs if len(t)]
    return pd.concat(tabs, ignore_index=True) if tabs else pd.DataFrame(
        columns=["layer", "rule", "nameA", "nameB", "consensusA", "consensusB", "gap_min", "gap_max",
                 "neurons", "n_neurons"])


def tree_rules(rules: pd.DataFrame, a: str, b: str, cons: dict[str, str]) -> list[dict]:
    """Rules with A 5' of B named after the planted motifs, gaps in planted coordinates."""
    out = []
    for r in rules[(rules.nameA == a) & (rules.nameB == b)].itertuples():
        d = shift(r.consensusA, cons[a], r.consensusB, cons[b])
        slo, shi = getattr(r, "sample_gap_min", ""), getattr(r, "sample_gap_max", "")
        samples = f"{int(float(slo)) + d}-{int(float(shi)) + d}" if str(slo) not in ("", "nan") else "n/a"
        out.append({"rule": r.rule, "layer": int(r.layer), "lo": int(r.gap_min) + d, "hi": int(r.gap_max) + d,
                    "neurons": str(r.neurons), "n": int(r.n_neurons), "samples": samples,
                    "share": str(getattr(r, "sample_share", ""))})
    return out


def found_consensus(rules: pd.DataFrame, name: str, planted: str) -> str:
    """The consensus of the motif as the tree found it: the one its rules name in most neurons
    (summed over rules; ties: in more rules, then the deeper layer), else as planted."""
    tally: dict[str, list[int]] = {}
    for col in ("A", "B"):
        for r in rules[rules[f"name{col}"] == name].itertuples():
            t = tally.setdefault(getattr(r, f"consensus{col}"), [0, 0, 0])
            t[0] += int(r.n_neurons)
            t[1] += 1
            t[2] = max(t[2], int(r.layer))
    return max(tally, key=lambda c: (*tally[c], c)) if tally else planted


def scan_gaps(summary: pd.DataFrame, seq: tuple[str, str], order: str, planted: tuple[str, str]
              ) -> tuple[set[int], set[int], set[int], dict]:
    """(significant, specific, scanned) gaps of one order of a scanned pair, in planted
    coordinates (the 5' motif of ``order`` first), and the summary row."""
    row = summary[(summary.seqA == seq[0]) & (summary.seqB == seq[1])]
    if not len(row):
        return set(), set(), set(), {}
    row = row.iloc[0].to_dict()
    first, second = (0, 1) if order == "AB" else (1, 0)
    d = shift(seq[first], planted[first], seq[second], planted[second])

    def gaps(col: str) -> set[int]:
        v = str(row.get(col, "") or "")
        return {int(float(g)) + d for g in v.split(";") if g.strip() not in ("", "nan")}

    scanned = {g + d for g in range(int(row.get("gap_max", 0) or 0) + 1)}
    return gaps(f"sig_gaps_{order}"), gaps(f"specific_gaps_{order}"), scanned, row


def fmt(gaps: set[int]) -> str:
    """A gap set as ranges: 0-3,5."""
    out, run = [], []
    for g in sorted(gaps):
        if run and g == run[-1] + 1:
            run.append(g)
        else:
            if run:
                out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else f"{run[0]}")
            run = [g]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else f"{run[0]}")
    return ",".join(out) or "none"


def arrangements(truth: dict) -> tuple[list[tuple], list[tuple]]:
    """Planted (pair, A 5', B 3', lo, hi, syntax) and control (pair, A 5', B 3', what) arrangements."""
    planted, control = [], []
    for p in truth["pairs"]:
        a, b = p["motifA"], p["motifB"]
        arms = p.get("arrangements") or []
        orders = {x["order"] for x in arms}
        if p.get("class") == "additive" or not p.get("interaction"):
            control += [(p["name"], a, b, f"control pair, planted AB {fmt({x['gap_min'] for x in arms})}"),
                        (p["name"], b, a, "control pair, BA")]
            continue
        for x in arms:
            five, three = (a, b) if x["order"] == "AB" else (b, a)
            planted.append((p["name"], five, three, int(x["gap_min"]), int(x["gap_max"]), p.get("syntax", "")))
        for o in {"AB", "BA"} - orders:
            five, three = (a, b) if o == "AB" else (b, a)
            control.append((p["name"], five, three, f"non-rule order {o}"))
    return planted, control


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/combmotif_grammar"))
    ap.add_argument("--model", default="grammar_predictor")
    ap.add_argument("--checkpoint", type=Path, default=None,
                    help="another model trained on the same set, run with --model's configs")
    ap.add_argument("--truth", type=Path, default=ROOT / "data/synthetic_grammar/truth.json")
    ap.add_argument("--reuse", action="store_true", help="keep an existing discovery; redo only the syntax")
    ap.add_argument("--layer", type=int, default=4, help="layer of the spacing scans")
    ap.add_argument("--backgrounds", type=int, default=100, help="backgrounds per spacing scan")
    args = ap.parse_args()
    work = args.work.resolve()
    if str(work).startswith(str(ROOT / "results")):
        sys.exit("--work must not be under results/")
    disc_cfg, int_cfg = work_configs(work, args.model, args.checkpoint)
    name = model_name(args.model, args.checkpoint)
    inter = yaml.safe_load(int_cfg.read_text())
    inter["spacing_backgrounds"] = args.backgrounds
    int_cfg.write_text(yaml.safe_dump(inter, sort_keys=False))
    discovery = work / name / "discovery"
    print("# commands")
    if args.reuse and (discovery / "conv4" / "syntax_rules.csv").is_file():
        print(f"  reuse {discovery}: syntax redone")
        resyntax(disc_cfg, range(1, 5))
    else:
        combmotif("discovery", str(disc_cfg), "--layers", "1-4")
    truth = json.loads(args.truth.read_text())
    cons = {m["name"]: m["consensus"] for m in truth["motifs"]}
    rules = read_rules(discovery)
    planted, control = arrangements(truth)
    seqs = {}
    for p in truth["pairs"]:
        a, b = p["motifA"], p["motifB"]
        seqs[p["name"]] = (found_consensus(rules, a, cons[a]), found_consensus(rules, b, cons[b]))
    pairs = [x for s in seqs.values() for x in ("--pair", s[0], s[1])]
    combmotif("spacing", str(int_cfg), "--layers", str(args.layer), *pairs)
    summary = pd.read_csv(work / name / "interaction" / f"conv{args.layer}" / "spacing" / "summary.csv",
                          keep_default_na=False, dtype=str)
    report(truth, rules, summary, seqs, cons, planted, control)
    print(f"\nreproduce: python bench/grammar_table.py --work {work}" + (" --reuse" if args.reuse else "")
          + (f" --checkpoint {args.checkpoint}" if args.checkpoint else "")
          + f" --backgrounds {args.backgrounds}")
    print(f"  discovery: python -m combmotif discovery {disc_cfg} --layers 1-4")
    print(f"  spacing:   python -m combmotif spacing {int_cfg} --layers {args.layer} {' '.join(pairs)}")


def _orient(name: str, five: str, truth: dict) -> str:
    pair = next(p for p in truth["pairs"] if p["name"] == name)
    return "AB" if five == pair["motifA"] else "BA"


def report(truth: dict, rules: pd.DataFrame, summary: pd.DataFrame, seqs: dict, cons: dict,
           planted: list[tuple], control: list[tuple]) -> None:
    """Print the planted and control tables and the closing line."""
    rows, found = [], 0
    for name, a, b, lo, hi, syn in planted:
        order = _orient(name, a, truth)
        tr = tree_rules(rules, a, b, cons)
        for t in tr:
            t["j"] = jaccard(set(range(t["lo"], t["hi"] + 1)), lo, hi)
        best = max(tr, key=lambda t: (t["j"], t["n"]), default=None)
        sig, spec, scanned, row = scan_gaps(summary, seqs[name], order, (cons[truth_pair(truth, name)[0]],
                                                                          cons[truth_pair(truth, name)[1]]))
        ok = best is not None and best["j"] >= 0.5
        found += ok
        others = "; ".join(f"{t['rule']} {t['lo']}-{t['hi']}" for t in tr if t is not best)
        rows.append({"planted": f"{a}->{b}", "syntax": syn, "gaps": f"{lo}-{hi}" if lo != hi else f"{lo}",
                     "tree rule": f"{best['rule']} ({best['n']} n: {best['neurons']})" if best else "none",
                     "tree gaps": f"{best['lo']}-{best['hi']}" if best else "",
                     "J tree": f"{best['j']:.2f}" if best else "", "names q<0.05": "yes" if best else "",
                     "sample gaps (share)": f"{best['samples']} ({best['share']})" if best else "",
                     "other rules": others, "scan sig": fmt(sig), "J sig": f"{jaccard(sig, lo, hi, scanned):.2f}",
                     "scan specific": fmt(spec), "J spec": f"{jaccard(spec, lo, hi, scanned):.2f}",
                     "peak class": f"{row.get('interaction', '')} ({row.get('peak_order', '')} "
                                   f"{row.get('peak_gap', '')}, eps {float(row.get('peak_epsilon') or 'nan'):+.2f})"})
    pd.set_option("display.width", 250)
    pd.set_option("display.max_colwidth", 60)
    print("\n# planted arrangements (gaps in planted-motif coordinates; scan at conv layer of --layer)")
    print(pd.DataFrame(rows).to_string(index=False))
    crow, confirmed = [], 0
    for name, a, b, what in control:
        order = _orient(name, a, truth)
        tr = tree_rules(rules, a, b, cons)
        pa, pb = truth_pair(truth, name)
        sig, spec, _, _ = scan_gaps(summary, seqs[name], order, (cons[pa], cons[pb]))
        conf = [t for t in tr if any(t["lo"] <= g <= t["hi"] for g in sig)]
        confirmed += bool(conf)
        crow.append({"control": f"{a}->{b}", "what": what,
                     "tree rules": "; ".join(f"{t['rule']} {t['lo']}-{t['hi']} ({t['n']} n)" for t in tr) or "none",
                     "scan sig": fmt(sig), "scan specific": fmt(spec),
                     "confirmed (tree rule with a significant gap in it)": "yes" if conf else "no"})
    print("\n# control arrangements")
    print(pd.DataFrame(crow).to_string(index=False))
    other, other_sig = off_gap_rules(truth, rules, summary, seqs, cons, planted)
    print(f"\n{found}/{len(planted)} planted arrangements found (tree Jaccard >= 0.5, names q<0.05, order right); "
          f"{confirmed} control arrangements with a confirmed rule; {other} tree rules of planted pairs at "
          f"non-planted gaps ({other_sig} of them scan-significant there: the model's own)")


def off_gap_rules(truth: dict, rules: pd.DataFrame, summary: pd.DataFrame, seqs: dict, cons: dict,
                  planted: list[tuple]) -> tuple[int, int]:
    """Print the tree rules of a planted pair's order whose gaps overlap no planted arm of it."""
    rows = []
    for name, a, b in sorted({(p[0], p[1], p[2]) for p in planted}):
        arms = [(lo, hi) for n, x, y, lo, hi, _ in planted if (n, x, y) == (name, a, b)]
        pa, pb = truth_pair(truth, name)
        sig, spec, _, _ = scan_gaps(summary, seqs[name], _orient(name, a, truth), (cons[pa], cons[pb]))
        for t in tree_rules(rules, a, b, cons):
            if not any(t["lo"] <= hi and lo <= t["hi"] for lo, hi in arms):
                inside = {g for g in sig if t["lo"] <= g <= t["hi"]}
                rows.append({"pair": f"{a}->{b}", "planted": ",".join(f"{lo}-{hi}" for lo, hi in arms),
                             "rule": t["rule"], "tree gaps": f"{t['lo']}-{t['hi']}", "neurons": t["neurons"],
                             "scan significant there": fmt(inside),
                             "specific there": fmt({g for g in spec if t["lo"] <= g <= t["hi"]})})
    print("\n# tree rules of planted pairs at non-planted gaps (same order)")
    print(pd.DataFrame(rows).to_string(index=False) if rows else "none")
    return len(rows), sum(r["scan significant there"] != "none" for r in rows)


def truth_pair(truth: dict, name: str) -> tuple[str, str]:
    """(motifA, motifB) of a planted pair."""
    p = next(p for p in truth["pairs"] if p["name"] == name)
    return p["motifA"], p["motifB"]


if __name__ == "__main__":
    main()
