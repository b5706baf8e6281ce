"""The spacing stage: which pairs a layer scans, one resumable unit per pair, the layer summary.

``combmotif spacing <config> --layers L [--pair A B]`` writes, under
``interaction/conv<L>/spacing/``: ``<pair>.csv`` (:data:`~combmotif.interaction.spacing.SCAN_COLUMNS`,
one row per order and gap) with ``<pair>.stamp.json`` written last, and
``summary.csv`` (:data:`~combmotif.interaction.spacing.SUMMARY_COLUMNS` plus ``reason``,
one row per pair). The command draws ``<pair>.png`` and ``index.html`` from them.

Pairs: ``--pair`` when given; else the layer's ``interaction/conv<L>/candidates.csv``;
else its syntax rules (``discovery/conv<L>/syntax_rules.csv``, or a copy in
``interaction/conv<L>/``). A pair's syntax rule (order and gap range, for the
Jaccard overlap) is looked up there when the file exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .. import layout
from ..errors import ConfigError, InputError
from ..io import atomic_path, read_table
from ..models.anatomy import Anatomy
from ..perturb import target_predictor
from ..stage import Stage
from ..stamps import make_stamp, settings_of, unit_is_fresh, write_stamp
from .labels import same_motif
from .spacing import SCAN_COLUMNS, SUMMARY_COLUMNS, motif_sequence, scan_summary, shuffled_backgrounds, spacing_scan
from .stage import discovery_dir

SPACING_SETTINGS = ("spacing_backgrounds", "spacing_max_gap", "spacing_anchor", "n_boot", "alpha",
                    "min_relative_epsilon", "seed", "target_index")


@dataclass
class SpacingPair:
    """One pair to scan: names, IUPAC patterns, where it came from, its syntax rule if known."""

    nameA: str
    nameB: str
    patternA: str
    patternB: str
    source: str
    tree: dict | None = None
    name: str = ""
    consensusA: str = ""
    consensusB: str = ""


def _family_consensus(path: Path) -> dict[str, str]:
    """Family id -> its representative's consensus (``discovery/families.csv``; {} without it)."""
    if not path.is_file():
        return {}
    df = read_table(path)
    if not {"family", "consensus"} <= set(df.columns):
        return {}
    return {str(f): str(c) for f, c in zip(df["family"], df["consensus"].fillna(""))}


def find_rule(rules: pd.DataFrame | None, pattern_a: str, pattern_b: str) -> dict | None:
    """The syntax rule of a pair (most neurons first), in the pair's own order terms.

    Parameters
    ----------
    rules : pandas.DataFrame or None
        ``syntax_rules.csv`` (``patternA`` is the rule's 5' motif).
    pattern_a, pattern_b : str
        The pair's IUPAC patterns.

    Returns
    -------
    dict or None
        ``order`` ("AB" when the rule puts the pair's A 5', else "BA"), ``gap_min``, ``gap_max``.
    """
    if rules is None or not len(rules):
        return None
    ranked = rules.assign(_n=pd.to_numeric(rules.get("n_neurons", 0), errors="coerce").fillna(0))
    for r in ranked.sort_values("_n", ascending=False, kind="stable").itertuples():
        for order, (x, y) in (("AB", (pattern_a, pattern_b)), ("BA", (pattern_b, pattern_a))):
            if same_motif(str(r.patternA), x) and same_motif(str(r.patternB), y):
                return {"order": order, "gap_min": int(float(r.gap_min)), "gap_max": int(float(r.gap_max))}
    return None


def layer_pairs(stage: Stage, layer: int, explicit: Sequence[Sequence[str]] | None = None
                ) -> list[SpacingPair]:
    """The pairs a layer's scan covers: ``--pair``, else ``candidates.csv``, else ``syntax_rules.csv``.

    Parameters
    ----------
    stage : Stage
        The interaction stage.
    layer : int
        1-based conv layer.
    explicit : sequence of (str, str), optional
        Patterns from ``--pair``.

    Returns
    -------
    list of SpacingPair
        Each with a unique file-safe ``name`` and, when ``syntax_rules.csv`` has it, its rule.

    Raises
    ------
    combmotif.errors.InputError
        When a pattern is not IUPAC, or nothing gives pairs.
    """
    ldir = stage.layer_dir(layer)
    # The discovery writes the rules; a copy beside the interaction layer wins (a hand-made one).
    where = [ldir / "syntax_rules.csv", layout.layer_dir(discovery_dir(stage), layer) / "syntax_rules.csv"]
    found = [p for p in where if p.is_file()]
    rules = read_table(found[0]) if found else None
    if explicit:
        pairs = [SpacingPair(a, b, a, b, "command line") for a, b in explicit]
    elif (ldir / "candidates.csv").is_file():
        df = read_table(ldir / "candidates.csv")
        cons = _family_consensus(discovery_dir(stage) / "families.csv")
        pairs = [SpacingPair(r.nameA, r.nameB, r.patternA, r.patternB, f"candidates ({r.source})",
                             consensusA=cons.get(str(getattr(r, "familyA", "")), ""),
                             consensusB=cons.get(str(getattr(r, "familyB", "")), ""))
                 for r in df.itertuples()]
    elif rules is not None:
        pairs = [SpacingPair(r.nameA, r.nameB, r.patternA, r.patternB, f"syntax rule {r.rule}",
                             consensusA=str(getattr(r, "consensusA", "") or ""),
                             consensusB=str(getattr(r, "consensusB", "") or ""))
                 for r in rules.itertuples()]
    else:
        raise InputError(f"conv{layer}: no pairs to scan: neither {ldir / 'candidates.csv'} nor "
                         f"{where[1]} exists; give --pair PATTERN_A PATTERN_B")
    out, seen, names = [], set(), set()
    for p in pairs:
        where = f"--pair {p.patternA} {p.patternB}" if explicit else f"conv{layer} pair {p.nameA} x {p.nameB}"
        key = (motif_sequence(p.patternA, where, p.consensusA), motif_sequence(p.patternB, where, p.consensusB))
        if key in seen or key[::-1] in seen:   # one scan covers both orders
            continue
        seen.add(key)
        p.tree = find_rule(rules, p.patternA, p.patternB)
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{p.nameA}__{p.nameB}").strip("_") or "pair"
        p.name = base if base not in names else f"{base}_{len(out) + 1}"
        names.add(p.name)
        out.append(p)
    return out


def gap_range(stage: Stage, layer: int, len_a: int, len_b: int) -> list[int]:
    """Gaps 0..G: the layer's receptive field minus both motifs, or ``spacing_max_gap``;
    never more than the sequence holds.

    Parameters
    ----------
    stage : Stage
        The interaction stage.
    layer : int
        1-based conv layer.
    len_a, len_b : int
        Motif lengths.

    Returns
    -------
    list of int
        Empty when the two motifs do not fit the sequence.
    """
    cfg = stage.cfg
    room = stage.loaded.seq_len - len_a - len_b
    top = cfg.spacing_max_gap if cfg.spacing_max_gap is not None else \
        Anatomy(stage.loaded.module).layer(layer).rf - len_a - len_b
    return list(range(0, min(max(top, 0), room) + 1)) if room >= 0 else []


def check_anchor(stage: Stage, source: str) -> None:
    """Refuse a ``spacing_anchor`` outside the model's sequence (before any work).

    Parameters
    ----------
    stage : Stage
        The interaction stage.
    source : str
        The config file, for the message.

    Raises
    ------
    combmotif.errors.ConfigError
        Naming the file, the key and the value.
    """
    anchor, length = stage.cfg.spacing_anchor, stage.loaded.seq_len
    if anchor != "centre" and not -length <= int(anchor) < length:
        raise ConfigError(f"{source}: 'spacing_anchor' = {anchor} but the model's sequences are {length} long")


def spacing_dir(stage: Stage, layer: int) -> Path:
    """``interaction/conv<L>/spacing``.

    Parameters
    ----------
    stage : Stage
        The interaction stage.
    layer : int
        1-based conv layer.

    Returns
    -------
    Path
    """
    return stage.layer_dir(layer) / "spacing"


def run_spacing(stage: Stage, layer: int, pairs: Sequence[SpacingPair], force: bool = False,
                log=print) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Scan every pair (one unit each, skipped when fresh) and write ``summary.csv``.

    Parameters
    ----------
    stage : Stage
        The interaction stage.
    layer : int
        1-based conv layer.
    pairs : sequence of SpacingPair
        From :func:`layer_pairs`.
    force : bool
        Redo finished pairs.
    log : callable
        Progress messages.

    Returns
    -------
    summary : pandas.DataFrame
        ``summary.csv``.
    scans : dict
        Pair name -> its scan table (pairs that could be scanned).
    """
    cfg = stage.cfg
    out = spacing_dir(stage, layer)
    backgrounds, rows, scans = None, [], {}
    for p in pairs:
        seq_a, seq_b = motif_sequence(p.patternA, consensus=p.consensusA), motif_sequence(p.patternB,
                                                                                         consensus=p.consensusB)
        gaps = gap_range(stage, layer, len(seq_a), len(seq_b))
        row = {"pair": p.name, "nameA": p.nameA, "nameB": p.nameB, "patternA": p.patternA,
               "patternB": p.patternB, "seqA": seq_a, "seqB": seq_b, "source": p.source, "reason": ""}
        if not gaps:
            row["reason"] = f"{seq_a} and {seq_b} do not fit a sequence of {stage.loaded.seq_len}"
            rows.append(row)
            continue
        stamp = make_stamp(stage.fingerprint, settings_of(cfg, SPACING_SETTINGS), seqA=seq_a, seqB=seq_b,
                           gaps=gaps)
        csv, stamp_path = out / f"{p.name}.csv", out / f"{p.name}.stamp.json"
        if unit_is_fresh(stamp_path, stamp, force, output=csv, name=f"conv{layer} spacing {p.name}", log=log):
            scan = pd.read_csv(csv, keep_default_na=False, na_values=[""])
        else:
            stamp_path.unlink(missing_ok=True)   # unmarked until the unit is whole again
            if backgrounds is None:
                backgrounds = shuffled_backgrounds(stage.data[0], cfg.spacing_backgrounds, cfg.seed)
            scan = spacing_scan(target_predictor(stage), backgrounds, seq_a, seq_b, gaps,
                                anchor=cfg.spacing_anchor, n_boot=cfg.n_boot, alpha=cfg.alpha,
                                min_relative=cfg.min_relative_epsilon, seed=cfg.seed)
            with atomic_path(csv) as tmp:
                scan.to_csv(tmp, index=False, float_format="%.6g")
            write_stamp(stamp_path, stamp)
        scans[p.name] = scan[SCAN_COLUMNS]
        row.update(n_backgrounds=int(scan["n"].iloc[0]), **scan_summary(scan, p.tree))
        rows.append(row)
        log(summary_line(row))
    summary = pd.DataFrame(rows, columns=SUMMARY_COLUMNS + ["reason"])
    with atomic_path(out / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False, float_format="%.6g")
    return summary, scans


def summary_line(row: dict) -> str:
    """One line per scanned pair: significant gaps per order, the peak and its class.

    Parameters
    ----------
    row : dict
        A ``summary.csv`` row.

    Returns
    -------
    str
    """
    if row.get("reason"):
        return f"{row['pair']}: not scanned: {row['reason']}"
    parts = []
    for order in ("AB", "BA"):
        lo, hi = row.get(f"sig_min_{order}"), row.get(f"sig_max_{order}")
        parts.append(f"{order} gaps {int(lo)}-{int(hi)}" if np.isfinite(lo) else f"{order} none")
    tree = ""
    if row.get("tree_order"):
        tree = (f"; tree {row['tree_order']} {row['tree_gap_min']}-{row['tree_gap_max']}, "
                f"Jaccard {row['jaccard']:.2f}")
    return (f"{row['pair']} ({row['seqA']} x {row['seqB']}): significant {', '.join(parts)}; peak "
            f"{row['peak_order']} gap {row['peak_gap']} epsilon {row['peak_epsilon']:+.3g} "
            f"({row['interaction']}){tree}")
