"""A synthetic DNA binding-site set with real JASPAR motifs planted (DeMo's task, issue 17).

``combmotif generate dna --out data/synthetic_dna`` draws K JASPAR 2024 CORE
vertebrate motifs (:func:`combmotif.data.jaspar.select_motifs`: informative,
mutually dissimilar, from different TF families where possible) and a simple
grammar: the first ``2 * n_pairs`` motifs form required pairs (A+B binds only
with both present), the others bind alone.

* **Positives** (label 1): uniform random bases with one solo motif, two solo
  motifs, or both members of one required pair.
* **Negatives** (label 0): dinucleotide shuffles of the positives (or uniform
  random bases, ``negatives="random"``); a ``decoy_frac`` share are *decoys*
  holding one member of a required pair (a third of them, with two pairs or
  more, one member of each of two different pairs): no rule holds, no binding.

Each site is **sampled from the motif's PPM** (not its consensus), kept when its
log-odds score reaches the motif's threshold (the score a uniform-background
window reaches with probability ``p_site`` = 1e-4), and written on a random
strand (reverse complement half the time) at a random place; sites never
overlap. A motif is *present* in a sequence when its best log-odds score over
both strands reaches that threshold (:func:`presence`); the label is then
recomputed from the sequence and truth.json alone (:func:`noiseless`), and a
drawn sequence whose presence differs from the intended one (a chance hit in
the background, a site made by two neighbours) is drawn again, so the label is
exactly the rule on every sequence. Log-odds scores are integers in 0.01-bit
steps (pseudocount 0.01), so thresholds and scans are exact on every machine.

Headers are ``>chrN:start-end(+)`` on ``n_chroms`` synthetic chromosomes (each
sequence its own coordinates), so held-out-chromosome splits work. Files:
positives.fasta, negatives.fasta, sites.csv (every planted site), truth.json
(``task: binding``, ``molecule: dna``), planted.meme (the planted PPMs) and
jaspar.meme (the whole database the discovery runs match against).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io import write_text
from ..motifs.formats import Motif
from ..sequences import dinucleotide_shuffle
from .jaspar import JASPAR_SPEC, families, load_jaspar, select_motifs, write_jaspar_meme
from .planting import additive_label, random_layout, to_codes
from .pwm_sites import P_SITE, PSEUDOCOUNT, SCALE, best_scores, log_odds, motif_tables, sample_sites
from .truth import load_truth, write_set
from .truth_hand import ppm_consensus

N_CHROMS = 20
MAX_ROUNDS = 200      # redraws of sequences whose motif content is not the intended one
_LETTERS = np.frombuffer(b"ACGT", dtype=np.uint8)


# ----------------------------------------------------------------------------- the rule

def _scan_tables(truth: Mapping[str, Any]) -> tuple[list[np.ndarray], np.ndarray]:
    """Integer score matrices and thresholds of a truth's motifs."""
    scores = [log_odds(np.asarray(m["ppm"]), truth.get("pseudocount", PSEUDOCOUNT)) for m in truth["motifs"]]
    return scores, np.array([int(round(m["threshold_bits"] * SCALE)) for m in truth["motifs"]])


def presence(x: Any, truth: Mapping[str, Any] | str) -> dict[str, np.ndarray]:
    """Which planted motifs are present in each sequence (best score on either strand >= threshold).

    Parameters
    ----------
    x : sequence of str, numpy.ndarray or tensor
        Strings, (N, 4, L) one-hot or (N, L) codes.
    truth : mapping or str
        A DNA set's truth.json, as a dict or a path.

    Returns
    -------
    dict of str to numpy.ndarray
        Motif name -> (N,) bool.

    Raises
    ------
    InputError
        When ``truth`` is not a DNA binding truth or ``x`` cannot be read as sequences.
    """
    truth = load_truth(truth, task="binding")
    scores, thresholds = _scan_tables(truth)
    hit = best_scores(to_codes(x, source="dna sequences"), scores) >= thresholds
    return {m["name"]: hit[:, j] for j, m in enumerate(truth["motifs"])}


def noiseless(x: Any, truth: Mapping[str, Any] | str) -> np.ndarray:
    """The planted label of each sequence (1.0 bound, 0.0 not), from the sequence and truth.json alone.

    Bound when a solo motif is present or both members of a required pair are
    (``baseline`` + effects + pair interactions > 0).

    Parameters
    ----------
    x : sequence of str, numpy.ndarray or tensor
        As :func:`presence` takes them.
    truth : mapping or str
        A DNA set's truth.json, as a dict or a path.

    Returns
    -------
    numpy.ndarray
        (N,) float64 of 0.0 and 1.0.
    """
    truth = load_truth(truth, task="binding")
    return (additive_label(presence(x, truth), truth) > 0).astype(np.float64)


# ----------------------------------------------------------------------------- planting

def _plant_sites(rng: np.random.Generator, codes: np.ndarray, content: np.ndarray,
                 tables: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Plant one sampled site of each motif ``content`` asks for, random strand, random non-overlapping place."""
    codes = codes.copy()
    lengths = [len(t["ppm"]) for t in tables]
    starts, kept = random_layout(rng, content, lengths, codes.shape[1])
    rec: dict[str, list] = {"row": [], "motif": [], "start": [], "minus": [], "score": []}
    for j, t in enumerate(tables):
        rows = np.flatnonzero(kept[:, j])
        sites, score = sample_sites(rng, t, rows.size)
        minus = rng.random(rows.size) < 0.5
        sites[minus] = 3 - sites[minus, ::-1]           # the reverse complement on the + strand
        cols = starts[rows, j][:, None] + np.arange(lengths[j])[None, :]
        codes[rows[:, None], cols] = sites
        for key, v in zip(rec, (rows, np.full(rows.size, j), starts[rows, j], minus, score)):
            rec[key].append(v)
    return codes, {k: np.concatenate(v) for k, v in rec.items()}


def _fill(rng: np.random.Generator, content: np.ndarray, background, tables: Sequence[Mapping[str, Any]],
          what: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sequences holding exactly the intended motifs: draw, plant, scan, redraw the rows that differ.

    ``background(rows)`` gives fresh (len(rows), L) codes for those rows.
    """
    scores = [t["scores"] for t in tables]
    thresholds = np.array([t["threshold"] for t in tables])
    todo = np.arange(len(content))
    codes, parts = None, []
    for _ in range(MAX_ROUNDS):
        drawn, sites = _plant_sites(rng, background(todo), content[todo], tables)
        codes = np.empty((len(content), drawn.shape[1]), dtype=np.int8) if codes is None else codes
        ok = ((best_scores(drawn, scores) >= thresholds) == content[todo]).all(1)
        codes[todo[ok]] = drawn[ok]
        keep = ok[sites["row"]]
        parts.append({k: (todo[v[keep]] if k == "row" else v[keep]) for k, v in sites.items()})
        todo = todo[~ok]
        if not todo.size:
            return codes, {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    raise InputError(f"generate dna: {todo.size} {what} still hold other motifs than planned after "
                     f"{MAX_ROUNDS} draws (motifs too short or too degenerate for --length)")


def _positive_content(rng: np.random.Generator, n: int, k: int, pairs: np.ndarray,
                      second_frac: float = 0.3, pair_weight: float = 1.5) -> np.ndarray:
    """(n, k) bool: one solo motif (a ``second_frac`` share: two), or both members of one pair."""
    solo = np.setdiff1d(np.arange(k), pairs.ravel())
    weights = np.r_[np.ones(solo.size), np.full(len(pairs), pair_weight)]
    unit = rng.choice(weights.size, size=n, p=weights / weights.sum())
    content = np.zeros((n, k), dtype=bool)
    is_solo = unit < solo.size
    rows = np.flatnonzero(is_solo)
    content[rows, solo[unit[rows]]] = True
    for i, (a, b) in enumerate(pairs):
        content[unit == solo.size + i, a] = content[unit == solo.size + i, b] = True
    if solo.size > 1:
        rows = np.flatnonzero(is_solo & (rng.random(n) < second_frac))
        other = (unit[rows] + 1 + rng.integers(0, solo.size - 1, size=rows.size)) % solo.size
        content[rows, solo[other]] = True
    return content


def _negative_content(rng: np.random.Generator, n: int, k: int, pairs: np.ndarray, decoy_frac: float) -> np.ndarray:
    """(n, k) bool: nothing, or (decoys) one member of a pair, a third of them also one of another pair."""
    content = np.zeros((n, k), dtype=bool)
    rows = np.flatnonzero(rng.random(n) < decoy_frac)
    which = rng.integers(0, len(pairs), size=rows.size)
    content[rows, pairs[which, rng.integers(0, 2, size=rows.size)]] = True
    if len(pairs) > 1:
        two = rng.random(rows.size) < 1 / 3
        other = (which + 1 + rng.integers(0, len(pairs) - 1, size=rows.size)) % len(pairs)
        content[rows[two], pairs[other[two], rng.integers(0, 2, size=rows.size)[two]]] = True
    return content


def chromosome_headers(rng: np.random.Generator, n: int, length: int, n_chroms: int = N_CHROMS) -> list[str]:
    """``chrN:start-end(+)`` headers: a random chromosome each, distinct non-overlapping coordinates.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    n : int
        Number of sequences.
    length : int
        Sequence length (``end - start``; 0-based, end exclusive).
    n_chroms : int
        Chromosomes ``chr1`` .. ``chr<n_chroms>``.

    Returns
    -------
    list of str
    """
    chrom = rng.integers(1, n_chroms + 1, size=n)
    order = np.argsort(chrom, kind="stable")
    first = np.searchsorted(chrom[order], chrom[order])       # first sorted index of each chromosome
    slot = np.empty(n, dtype=np.int64)
    slot[order] = np.arange(n) - first
    step = max(1000, 2 * length)
    start = 10_000 + slot * step + rng.integers(0, step - length, size=n)
    return [f"chr{c}:{s}-{s + length}(+)" for c, s in zip(chrom.tolist(), start.tolist())]


# ----------------------------------------------------------------------------- the set

def make_dna(n: int = 40_000, seed: int = 11, k: int = 10, length: int = 101, n_pairs: int = 2,
             decoy_frac: float = 0.3, negatives: str = "shuffled", p_site: float = P_SITE,
             database: Sequence[Motif] | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Generate the DNA binding-site set (see the module docstring).

    Parameters
    ----------
    n : int
        Sequences in all; half positives (rounded down), half negatives.
    seed : int
        Every draw, the choice of motifs included, comes from ``default_rng(seed)``.
    k : int
        JASPAR motifs planted (at least ``2 * n_pairs + 1``).
    length : int
        Sequence length (at least 30).
    n_pairs : int
        Required pairs (the first ``2 * n_pairs`` motifs drawn); at least 1.
    decoy_frac : float
        Share of negatives holding one member of a pair.
    negatives : {"shuffled", "random"}
        Negatives' backgrounds: dinucleotide shuffles of the positives, or uniform random bases.
    p_site : float
        Background probability per window and strand of reaching a motif's threshold.
    database : sequence of Motif, optional
        The JASPAR motifs (default: :func:`combmotif.data.jaspar.load_jaspar`).

    Returns
    -------
    records : pandas.DataFrame
        ``header``, ``sequence``, ``label`` (1 positives first, then 0).
    sites : pandas.DataFrame
        One row per planted site (:data:`SITE_COLUMNS`).
    truth : dict
        The truth.json dict (``task: binding``, ``molecule: dna``).

    Raises
    ------
    InputError
        A parameter out of range, or too few usable dissimilar motifs.
    """
    check_dna_args(n, k, length, n_pairs, decoy_frac, negatives)
    rng = np.random.default_rng(seed)
    database = load_jaspar() if database is None else list(database)
    usable, tables = motif_tables(database, length, p_site=p_site)
    chosen = select_motifs(database, k, rng, usable)
    index = {m.name: i for i, m in enumerate(database)}
    tabs = [tables[index[m.name]] for m in chosen]
    pairs = np.arange(2 * n_pairs).reshape(n_pairs, 2)
    n_pos = n // 2
    pos_content = _positive_content(rng, n_pos, k, pairs)
    neg_content = _negative_content(rng, n - n_pos, k, pairs, decoy_frac)

    def uniform(rows: np.ndarray) -> np.ndarray:
        return rng.integers(0, 4, size=(rows.size, length), dtype=np.int8)

    pos, pos_sites = _fill(rng, pos_content, uniform, tabs, "positives")
    pos_text = _strings(pos)

    def shuffled(rows: np.ndarray) -> np.ndarray:
        return to_codes([dinucleotide_shuffle(pos_text[i % n_pos], rng) for i in rows.tolist()])

    neg, neg_sites = _fill(rng, neg_content, shuffled if negatives == "shuffled" else uniform, tabs, "negatives")
    neg_sites["row"] = neg_sites["row"] + n_pos
    headers = chromosome_headers(rng, n, length)
    records = pd.DataFrame({"header": headers, "sequence": pos_text + _strings(neg),
                            "label": np.r_[np.ones(n_pos, np.int64), np.zeros(n - n_pos, np.int64)]})
    sites = _site_table(records, {k_: np.r_[pos_sites[k_], neg_sites[k_]] for k_ in pos_sites}, chosen)
    content = np.vstack([pos_content, neg_content])
    truth = _truth(chosen, tabs, pairs, records, sites, content, dict(
        seed=seed, length=length, negatives=negatives, decoy_frac=decoy_frac, p_site=p_site, n_db=len(database)))
    return records, sites, truth


def check_dna_args(n: int, k: int, length: int, n_pairs: int, decoy_frac: float = 0.3,
                   negatives: str = "shuffled") -> None:
    """Raise one :class:`InputError` line for the first :func:`make_dna` parameter out of range.

    Parameters
    ----------
    n, k, length, n_pairs, decoy_frac, negatives
        As :func:`make_dna` takes them.
    """
    checks = [(n >= 100, f"n must be at least 100; got {n}"),
              (n_pairs >= 1, f"n_pairs must be at least 1; got {n_pairs}"),
              (k >= 2 * n_pairs + 1, f"k (motifs) must be at least 2 * n_pairs + 1 = {2 * n_pairs + 1}; got {k}"),
              (length >= 30, f"length must be at least 30; got {length}"),
              (0 <= decoy_frac <= 1, f"decoy_frac must be in [0, 1]; got {decoy_frac}"),
              (negatives in ("shuffled", "random"), f"negatives must be shuffled or random; got {negatives!r}")]
    for ok, message in checks:
        if not ok:
            raise InputError(f"generate dna: {message}")


def _strings(codes: np.ndarray) -> list[str]:
    """(N, L) codes 0..3 -> N strings."""
    return _LETTERS[codes].view(f"S{codes.shape[1]}").ravel().astype(str).tolist()


SITE_COLUMNS = ["record", "label", "motif", "altname", "start", "end", "strand", "score_bits", "site"]


def _site_table(records: pd.DataFrame, sites: Mapping[str, np.ndarray], motifs: Sequence[Motif]) -> pd.DataFrame:
    """sites.csv: one row per planted site, in record order (0-based start, end exclusive,
    ``site`` as read on the record's + strand; ``strand`` the motif's)."""
    order = np.lexsort((sites["start"], sites["row"]))
    row, j, start = sites["row"][order], sites["motif"][order], sites["start"][order]
    end = start + np.array([len(m) for m in motifs])[j]
    seqs = records["sequence"].to_numpy()
    return pd.DataFrame({
        "record": records["header"].to_numpy()[row], "label": records["label"].to_numpy()[row],
        "motif": [motifs[i].name for i in j], "altname": [motifs[i].altname for i in j],
        "start": start, "end": end, "strand": np.where(sites["minus"][order], "-", "+"),
        "score_bits": sites["score"][order] / SCALE,
        "site": [s[a:b] for s, a, b in zip(seqs[row], start.tolist(), end.tolist())]}, columns=SITE_COLUMNS)


def _truth(motifs: Sequence[Motif], tables: Sequence[Mapping[str, Any]], pairs: np.ndarray,
           records: pd.DataFrame, sites: pd.DataFrame, content: np.ndarray, p: Mapping[str, Any]) -> dict:
    """truth.json of the set: motifs (JASPAR ID, TF, planted PPM, threshold), pairs, observed shares."""
    label = records["label"].to_numpy().astype(bool)
    partner = {int(a): int(b) for a, b in pairs} | {int(b): int(a) for a, b in pairs}
    entries = []
    for j, (m, t) in enumerate(zip(motifs, tables)):
        mine = sites[sites["motif"] == m.name]
        other = motifs[partner[j]].name if j in partner else None
        entries.append({
            "name": m.name, "consensus": ppm_consensus(t["ppm"]), "effect": 0.0 if other else 1.0,
            "sign": "positive", "frequency": float(content[:, j].mean()),
            "region": f"anywhere in the {p['length']}-bp sequence, either strand", "mode": "presence",
            "rule": (f"binds only together with {other} (required pair); alone it does not" if other
                     else "binds alone: one site anywhere, either strand"),
            "altname": m.altname, "tf_family": sorted(families(m)), "tf_class": sorted(m.meta.get("tf_class") or []),
            "role": "pair" if other else "alone", "positive_frequency": float(content[label, j].mean()),
            "negative_frequency": float(content[~label, j].mean()), "planted_sites": int(len(mine)),
            "minus_strand_share": float((mine["strand"] == "-").mean()) if len(mine) else 0.0,
            "length": len(t["ppm"]), "ic_bits": round(t["ic"], 4), "threshold_bits": t["threshold"] / SCALE,
            "site_power": round(t["power"], 4), "ppm": t["ppm"].tolist()})
    pair_entries = []
    for a, b in pairs:
        both = content[:, a] & content[:, b]
        one = content[:, a] ^ content[:, b]
        pair_entries.append({
            "name": f"{motifs[a].name}+{motifs[b].name}", "motifA": motifs[a].name, "motifB": motifs[b].name,
            "class": "synergistic", "interaction": 1.0, "joint_effect": 1.0, "co_frequency": float(both.mean()),
            "rule": "binds only when both are present (anywhere, either order and strand); either alone does not",
            "required": True, "altnames": [motifs[a].altname, motifs[b].altname],
            "decoy_frequency": float(one[~label].mean())})
    return {
        "task": "binding", "molecule": "dna", "seed": p["seed"], "n": int(len(records)),
        "n_positives": int(label.sum()), "n_negatives": int((~label).sum()), "length": p["length"],
        "baseline": 0.0,
        "label": "bound (1, positives.fasta) when a solo motif is present or both members of a required pair "
                 "(baseline + effects + interactions > 0); else 0 (negatives.fasta)",
        "site_rule": (f"a motif is present when its best log-odds score over both strands reaches threshold_bits "
                      f"(a uniform-background window reaches it with p <= {p['p_site']:g}; scores in "
                      f"{1 / SCALE:g}-bit steps, pseudocount {PSEUDOCOUNT}); planted sites are sampled from the "
                      "PPM and kept when they reach it, on a random strand"),
        "pseudocount": PSEUDOCOUNT, "p_site": p["p_site"],
        "negatives": ("dinucleotide shuffles of the positives" if p["negatives"] == "shuffled"
                      else "uniform random bases") + f"; a {p['decoy_frac']:g} share are decoys (pair members)",
        "background": "uniform random bases (positives)",
        "jaspar": {"motif_db": JASPAR_SPEC, "n": p["n_db"], "file": "jaspar.meme"},
        "chromosomes": sorted({h.split(":")[0] for h in records["header"]}, key=lambda c: int(c[3:])),
        "header": ">chrN:start-end(+) (0-based start, end exclusive; synthetic coordinates)",
        "motifs": entries, "pairs": pair_entries, "features": []}


def save_dna_set(out_dir: str | os.PathLike, records: pd.DataFrame, sites: pd.DataFrame, truth: Mapping[str, Any],
                 database: Sequence[Motif] | None = None) -> None:
    """Write the set's folder atomically: positives.fasta, negatives.fasta, sites.csv, truth.json,
    planted.meme and jaspar.meme.

    Parameters
    ----------
    out_dir : path-like
        The folder (an old one is replaced).
    records, sites, truth
        As :func:`make_dna` returns them.
    database : sequence of Motif, optional
        The JASPAR motifs for jaspar.meme (default: :func:`combmotif.data.jaspar.load_jaspar`).

    Raises
    ------
    InputError
        When ``truth`` fails the schema check.
    """
    database = load_jaspar() if database is None else database

    def write_data(folder: Path) -> None:
        for name, label in (("positives.fasta", 1), ("negatives.fasta", 0)):
            part = records[records["label"] == label]
            write_text(folder / name, "".join(f">{h}\n{s}\n" for h, s in zip(part["header"], part["sequence"])))
        write_text(folder / "sites.csv", sites.to_csv(index=False))
        write_jaspar_meme(folder / "jaspar.meme", database)

    write_set(out_dir, truth, write_data)
