"""A synthetic MRL data set with planted motifs and motif pairs (our ground truth).

Random 50-nt 5'UTRs (uniform bases, the CDS is taken to start right after
position 49) receive motifs at controlled frequencies; the label is

    rl = baseline + sum(effect of every motif present) + sum(interaction of
         every pair whose rule holds) + Gaussian noise

A pair's rule is the presence of both motifs anywhere (the default set) or,
for a pair with ``arrangements``, some occurrence of each in one of the
arrangements (order and gap range; :mod:`combmotif.data.grammar`).

where "present" is decided by scanning the *final* sequence (planted and
natural occurrences count alike), so the noise-free label is a pure function
of the sequence and of ``truth.json`` (:func:`noiseless`).

Planted rules (defaults; the exact values go to truth.json):

* ``uAUG_out``: an ATG out of frame with the CDS ((50 - p) % 3 != 0 for the
  start p), strongly negative; ``uAUG_in``: an in-frame ATG, milder. Their
  frequency is that of natural ATGs in random sequence (no planting).
* ``kozak``: GCCRCC at positions 44-49 (R at -3, C at -1/-2 before the CDS
  ATG), positive.
* six position-free 7-mers without ATG, planted anywhere in positions 0-43 at
  random non-overlapping places: ``enhA``/``enhB`` (positive, synergistic
  pair), ``repC``/``repD`` (negative, antagonistic pair), ``enhE``/``repF``
  (opposite signs, planted together often, no interaction: the negative
  control).

Other motifs, effects and pair rules come from a YAML spec
(:mod:`combmotif.data.spec`; :func:`make_mrl` takes its ``motifs``, ``pairs``
and ``free_span``).

Noise is constant-variance Gaussian; its sd is chosen (unless given) so that
the noise ceiling r^2 over the whole set is ``target_r2``. ``total_reads`` are
simulated (lognormal) and independent of the label.
"""

from __future__ import annotations

import copy
import os
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .grammar import draw_units, pair_fires, plant_units
from .mrl import UTR_LENGTH, write_mrl_csv
from .planting import additive_label, choose_planted, code_bits, motif_hits, plant, random_layout, to_codes
from .truth import MOTIF_KEYS, PAIR_KEYS, load_truth, noise_ceiling, order_keys, planted_rules, write_set
from .truth_schema import pair_arrangements, rule_text

CDS_START = UTR_LENGTH          # the CDS AUG begins right after the 50-nt UTR
FREE_SPAN = 44                  # position-free motifs go in 0..43, clear of the Kozak window

# name, consensus, effect, planting probability (alone), rule
MOTIFS: list[dict[str, Any]] = [
    dict(name="uAUG_out", consensus="ATG", effect=-1.5, frame="out", start_min=0, start_max=UTR_LENGTH - 3,
         planted_frequency=0.0, region="5'UTR positions 0-49",
         rule="any ATG whose start p has (50 - p) % 3 != 0 (out of frame with the CDS at 50)"),
    dict(name="uAUG_in", consensus="ATG", effect=-0.6, frame="in", start_min=0, start_max=UTR_LENGTH - 3,
         planted_frequency=0.0, region="5'UTR positions 0-49",
         rule="any ATG whose start p has (50 - p) % 3 == 0 (in frame with the CDS at 50)"),
    dict(name="kozak", consensus="GCCRCC", effect=0.8, frame=None, start_min=44, start_max=44,
         planted_frequency=0.15, region="5'UTR positions 44-49",
         rule="GCCRCC exactly at positions 44-49 (Kozak context: R at -3, CC at -2/-1)"),
    dict(name="enhA", consensus="ACTTCCG", effect=0.5, planted_frequency=0.15),
    dict(name="enhB", consensus="GAGCAAC", effect=0.5, planted_frequency=0.15),
    dict(name="repC", consensus="CGGTCGA", effect=-0.7, planted_frequency=0.15),
    dict(name="repD", consensus="TAGGTCA", effect=-0.6, planted_frequency=0.15),
    dict(name="enhE", consensus="AAGTGCT", effect=0.6, planted_frequency=0.15),
    dict(name="repF", consensus="CCTAGAC", effect=-0.5, planted_frequency=0.15),
]
# name, motifA, motifB, interaction, probability of planting both together
PAIRS: list[dict[str, Any]] = [
    dict(name="enhA+enhB", motifA="enhA", motifB="enhB", interaction=0.8, planted_co_frequency=0.08),
    dict(name="repC+repD", motifA="repC", motifB="repD", interaction=0.5, planted_co_frequency=0.08),
    dict(name="enhE+repF", motifA="enhE", motifB="repF", interaction=0.0, planted_co_frequency=0.12),
]


def _motif_defaults(m: dict) -> dict:
    m = dict(m)
    k = len(m["consensus"])
    m.setdefault("frame", None)
    m.setdefault("start_min", 0)
    m.setdefault("start_max", UTR_LENGTH - k)
    whole = m["start_min"] == 0 and m["start_max"] == UTR_LENGTH - k
    m.setdefault("region", "5'UTR positions 0-49" if whole
                 else f"5'UTR positions {m['start_min']}-{m['start_max'] + k - 1}")
    m.setdefault("rule", f"{m['consensus']} anywhere in the 50-nt UTR" if whole
                 else f"{m['consensus']} starting at positions {m['start_min']}-{m['start_max']}")
    m["cds_start"] = CDS_START if m["frame"] else None
    m["mode"] = "presence"
    m["sign"] = "positive" if m["effect"] > 0 else "negative"
    return m


def presence(x: Any, truth: Mapping[str, Any] | str) -> dict[str, np.ndarray]:
    """Which truth.json motifs are present (under their rules) in each UTR: {name: (N,) bool}.

    Parameters
    ----------
    x : sequence of str, numpy.ndarray or tensor
        The UTRs: strings, (N, 4, L) one-hot or (N, L) codes; the first ``length`` nt
        of the truth (50) are scanned, shorter ones padded with N.
    truth : mapping or str
        A synthetic MRL truth.json, as a dict or a path.

    Returns
    -------
    dict of str to numpy.ndarray
        Motif name -> (N,) bool, True where the motif's rule fires (planted or natural occurrence).

    Raises
    ------
    InputError
        When ``truth`` is not a valid MRL truth or ``x`` cannot be read as sequences.
    """
    truth = load_truth(truth, task="mrl")
    codes = _utr_codes(x, truth)
    bits = code_bits(codes)
    return {m["name"]: motif_hits(codes, m, bits=bits).any(1) for m in truth["motifs"]}


def _utr_codes(x: Any, truth: Mapping[str, Any]) -> np.ndarray:
    """The first ``length`` nt of each UTR as (N, length) codes, shorter ones padded with N."""
    length = int(truth.get("length", UTR_LENGTH))
    codes = to_codes(x, length, source="mrl sequences")
    if codes.shape[1] < length:
        codes = np.pad(codes, ((0, 0), (0, length - codes.shape[1])), constant_values=4)
    return codes


def noiseless(x: Any, truth: Mapping[str, Any] | str) -> np.ndarray:
    """Noise-free MRL of each UTR, recomputed from truth.json (a path or a dict) alone.

    Lets later stages score a model against the planted rule rather than the noisy labels.

    Parameters
    ----------
    x : sequence of str, numpy.ndarray or tensor
        The UTRs, as :func:`presence` takes them.
    truth : mapping or str
        A synthetic MRL truth.json, as a dict or a path.

    Returns
    -------
    numpy.ndarray
        (N,) float64: baseline + effects of the motifs present + interactions of the pairs
        whose rule holds (both present, or one of the pair's arrangements).

    Raises
    ------
    InputError
        When ``truth`` is not a valid MRL truth or ``x`` cannot be read as sequences.
    """
    truth = load_truth(truth, task="mrl")
    codes = _utr_codes(x, truth)
    return additive_label(presence(codes, truth), truth, pair_fires(codes, truth))


def make_mrl(n: int = 100_000, seed: int = 0, noise_sd: float | None = None, target_r2: float = 0.87,
             baseline: float = 5.0, reads_median: float = 400.0, reads_sigma: float = 0.8,
             test_n: int = 20_000, return_noiseless: bool = False, motifs: list[dict] | None = None,
             pairs: list[dict] | None = None, free_span: int = FREE_SPAN
             ) -> tuple[pd.DataFrame, dict] | tuple[pd.DataFrame, dict, np.ndarray]:
    """Generate the synthetic MRL set.

    Parameters
    ----------
    n : number of UTRs.
    seed : every random draw comes from ``np.random.default_rng(seed)``.
    noise_sd : sd of the Gaussian measurement noise; ``None`` picks the sd that
        makes the noise ceiling r^2 over the whole set equal ``target_r2``.
    baseline : label of a UTR with no motif.
    reads_median, reads_sigma : total_reads ~ round(lognormal(log(median), sigma)) + 1.
    test_n : size of the reference-split test set used for the reported ceiling
        (capped at n // 5).
    return_noiseless : also return the generator's noise-free labels (N,).
    motifs, pairs : the rule tables (default: this module's MOTIFS and PAIRS, the
        shipped set); entries as :func:`combmotif.data.spec.spec_tables` gives them.
    free_span : position-free motifs and pair placements go in 0..free_span-1.

    Returns
    -------
    (df, truth): ``df`` has columns utr, total_reads, rl (GSM3130435 layout);
    ``truth`` is the truth.json dict (schema in :mod:`combmotif.data.truth`).
    """
    if n < 10:
        raise ValueError(f"n must be at least 10, got {n}")
    rng = np.random.default_rng(seed)
    motifs, pairs, effects = planted_rules(MOTIFS if motifs is None else motifs,
                                           PAIRS if pairs is None else pairs, _motif_defaults)
    codes = _planted_utrs(rng, n, motifs, pairs, free_span)
    letters = np.frombuffer(b"ACGT", dtype=np.uint8)
    utrs = letters[codes].view(f"S{UTR_LENGTH}").ravel().astype(str)

    truth: dict[str, Any] = {
        "task": "mrl", "seed": seed, "n": n, "length": UTR_LENGTH, "baseline": baseline,
        "label": "rl: mean ribosome load (additive model, arbitrary MRL-like units)",
        "cds_start": CDS_START,
        "motifs": motifs, "pairs": pairs,
    }
    clean = noiseless(codes, truth)
    if noise_sd is None:
        noise_sd = float(np.sqrt(clean.var() * (1.0 / target_r2 - 1.0)))
    # Rounded as written to data.csv, so in-memory and on-disk labels are identical.
    rl = np.round(clean + rng.normal(0.0, noise_sd, size=n), 6)
    reads = np.rint(rng.lognormal(np.log(reads_median), reads_sigma, size=n)).astype(np.int64) + 1
    df = pd.DataFrame({"utr": utrs, "total_reads": reads, "rl": rl})

    truth["noise"] = {"distribution": "gaussian", "sd": noise_sd, "target_r2": target_r2,
                      "depends_on_reads": False, "label_sd": float(rl.std()), "noiseless_sd": float(clean.std())}
    truth["reads"] = {"distribution": "lognormal", "median": reads_median, "sigma": reads_sigma,
                      "independent_of_label": True}
    truth["features"] = []
    truth = observed(df, truth, clean, test_n=test_n)
    return (df, truth, clean) if return_noiseless else (df, truth)


def _planted_utrs(rng: np.random.Generator, n: int, motifs: list[dict], pairs: list[dict],
                  free_span: int = FREE_SPAN) -> np.ndarray:
    """(n, UTR_LENGTH) int8 codes: random bases, the position-free motifs and arranged pairs,
    then the motifs bound to a window (the Kozak rule).

    The draws are in the order the shipped set was made with (bases, choice,
    layout, planting, Kozak), so the same seed gives the same set; pairs with
    arrangements draw theirs between the choice and the layout, only when present.
    """
    codes = rng.integers(0, 4, size=(n, UTR_LENGTH), dtype=np.int8)
    planted = [m for m in motifs if m["planted_frequency"] > 0]
    free = [m for m in planted if m["start_min"] == 0 and m["start_max"] == UTR_LENGTH - len(m["consensus"])]
    placed = [m for m in planted if m not in free]
    chosen = choose_planted(rng, n, free, [p for p in pairs if not pair_arrangements(p)])
    lengths = {m["name"]: len(m["consensus"]) for m in motifs}
    units = draw_units(rng, n, pairs, lengths, free_span)
    lens = [len(m["consensus"]) for m in free]
    if units:
        chosen = np.column_stack([chosen] + [u["chosen"] for u in units])
        lens = np.column_stack([np.broadcast_to(np.array(lens, dtype=np.int64), (n, len(free)))]
                               + [u["length"] for u in units])
    starts, kept = random_layout(rng, chosen, lens, free_span)
    for j, m in enumerate(free):
        rows = np.flatnonzero(kept[:, j])
        plant(codes, rows, starts[rows, j], m["consensus"], rng)
    plant_units(codes, units, starts[:, len(free):], kept[:, len(free):],
                {m["name"]: m["consensus"] for m in motifs}, rng)
    for m in placed:
        # A motif bound to a window goes at a start drawn in it (no draw for a single position).
        rows = np.flatnonzero(rng.random(n) < m["planted_frequency"])
        at = np.full(rows.size, m["start_min"])
        if m["start_max"] > m["start_min"]:
            at = at + rng.integers(0, m["start_max"] - m["start_min"] + 1, size=rows.size)
        plant(codes, rows, at, m["consensus"], rng)
    return codes


def observed(df: pd.DataFrame, truth: Mapping[str, Any] | str, clean: np.ndarray | None = None,
             test_n: int = 20_000) -> dict:
    """A copy of ``truth`` whose observed statistics describe ``df``.

    Sets ``n``, each motif's ``frequency`` (fraction of UTRs where its rule
    fires), each pair's ``co_frequency``, ``joint_effect`` and ``rule``, and the
    noise ceiling on the reference-split test set (the ``min(test_n, n // 5)``
    UTRs with most reads) and on all rows. Used by :func:`make_mrl` and for
    derived sets such as noAUG.

    Parameters
    ----------
    df : pandas.DataFrame
        The set: ``utr``, ``rl`` and ``total_reads`` columns.
    truth : mapping or str
        A synthetic MRL truth.json, as a dict or a path (never modified).
    clean : numpy.ndarray or None, optional
        The noise-free labels of ``df`` (N,); default None recomputes them from the sequences.
    test_n : int, optional
        Size of the reference-split test set for the ceiling, capped at ``n // 5``; default 20,000.

    Returns
    -------
    dict
        The updated truth: ``n``, motif ``frequency``, pair ``co_frequency``,
        ``joint_effect`` and ``rule`` set, and ``ceiling`` (``split``, ``rule``, ``n``,
        ``r``, ``r2`` and ``all``) when the test set has at least 2 rows (else kept as it was).

    Raises
    ------
    InputError
        When ``truth`` is not a valid MRL truth or a UTR cannot be read.
    """
    truth = copy.deepcopy(load_truth(truth, task="mrl"))
    codes = _utr_codes(df["utr"].tolist(), truth)
    present = presence(codes, truth)
    fires = pair_fires(codes, truth)
    if clean is None:
        clean = additive_label(present, truth, fires)
    n = len(df)
    effects = {m["name"]: m["effect"] for m in truth["motifs"]}
    truth["n"] = n
    for m in truth["motifs"]:
        m["frequency"] = float(present[m["name"]].mean()) if n else 0.0
    for p in truth["pairs"]:
        both = present[p["motifA"]] & present[p["motifB"]]
        p["co_frequency"] = float(both.mean()) if n else 0.0
        p["joint_effect"] = round(effects[p["motifA"]] + effects[p["motifB"]] + p["interaction"], 9)
        p["rule"] = rule_text(p)
        if p["name"] in fires:
            p["rule_frequency"] = float(fires[p["name"]].mean()) if n else 0.0
    test_n = min(test_n, n // 5)
    rl = df["rl"].to_numpy(dtype=np.float64)
    if test_n >= 2:
        # Same rows as reference_split's test part: stable sort by reads, descending.
        top = np.argsort(-df["total_reads"].to_numpy(dtype=np.float64), kind="stable")[:test_n]
        truth["ceiling"] = {"split": "test",
                            "rule": f"reference_split test: the {test_n} UTRs with most total_reads",
                            "n": int(test_n), **noise_ceiling(clean[top], rl[top]),
                            "all": noise_ceiling(clean, rl)}
    truth["motifs"] = [order_keys(m, MOTIF_KEYS) for m in truth["motifs"]]
    truth["pairs"] = [order_keys(p, PAIR_KEYS) for p in truth["pairs"]]
    return load_truth(truth, task="mrl")


def save_mrl_set(out_dir: str | os.PathLike, df: pd.DataFrame, truth: Mapping[str, Any]) -> None:
    """Write ``out_dir/`` with data.csv (GSM3130435 layout), truth.json and planted.meme, atomically.

    Parameters
    ----------
    out_dir : path-like
        The set's folder (an old one is replaced).
    df : pandas.DataFrame
        The data, as :func:`make_mrl` returns it.
    truth : mapping
        Its truth dict.

    Raises
    ------
    InputError
        When ``truth`` fails the schema check or ``df`` lacks a required column.
    """
    write_set(out_dir, truth, lambda d: write_mrl_csv(df, d / "data.csv"))
