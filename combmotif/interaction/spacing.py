"""Spacing scans: the causal check of a syntax rule (tangermeme's ``space``, GIA).

For a pair of motifs A and B, each written as one concrete sequence, the scan
inserts A alone, B alone and both into N dinucleotide-shuffled backgrounds, at
every gap ``g = 0 .. G`` (bases between the end of the 5' motif and the start
of the 3' one) and in both orders (``AB``: A 5' of B; ``BA``), and predicts
every variant in large batches (:func:`combmotif.perturb.predict_insertions`).
Per gap and order, with f the model's prediction::

    effect  = f(AB) - f(bg)
    epsilon = f(AB) - f(A) - f(B) + f(bg)

The unit of replication is the background sequence: the mean over backgrounds
with a percentile bootstrap 95% interval (:func:`combmotif.stats.bootstrap_ci`),
a two-sided Wilcoxon signed-rank p of epsilon against 0 per gap
(:func:`combmotif.stats.wilcoxon_p`, differences at float32 rounding counted as
zero, as the pair test does), and Benjamini-Hochberg over every gap x order of
the pair. A gap is significant when q < alpha and |epsilon| clears the pair
test's effect floor ``min_relative_epsilon x (|e_A| + |e_B|)``: both from
:func:`combmotif.interaction.epistasis.classify`, which gives each gap its class.

A gap is *specific* when epsilon there differs from the pair's own level over
all gaps and orders (``excess``: epsilon minus, per background, its median over
every gap and order; same test, BH and floor). Syntax (a fixed gap, a gap
range, one order) shows as specific gaps; an interaction "anywhere", or a
model whose output bends every pair a little, lifts all gaps alike and leaves
none specific. The syntax tree's gap range is compared with both sets (Jaccard).

Design, as tangermeme and GIA do it: an inserted motif overwrites the
background's bases under it, so the sequence keeps its length; "A alone" keeps
the background's own bases where B goes in "AB", and each single-motif variant
puts its motif exactly where it sits in the pair. The arrangement (5' motif,
gap, 3' motif) is centred on the anchor (the sequence's centre by default, or
``spacing_anchor``: a position, negative counting from the 3' end, because
position matters in a 5'UTR), moved inwards where it would overhang an end.
The backgrounds are the same for every pair (drawn from the seed), so pairs
compare on the same sequences. A background may hold a chance copy of A or B;
the shuffle removes most, and the design stays paired either way.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import stats
from ..errors import InputError
from ..perturb import predict_insertions, write_spans
from ..sequences import DNA, IUPAC, decode, dinucleotide_shuffle, onehot_to_codes
from .epistasis import classify

ORDERS = ("AB", "BA")
SCAN_COLUMNS = ["order", "gap", "n", "posA", "posB", "effect", "effect_lo", "effect_hi", "effect_A",
                "effect_B", "epsilon", "eps_lo", "eps_hi", "p", "q", "significant", "interaction", "excess",
                "excess_q", "specific"]
SUMMARY_COLUMNS = ["pair", "nameA", "nameB", "patternA", "patternB", "seqA", "seqB", "source",
                   "n_backgrounds", "gap_max", "sig_min_AB", "sig_max_AB", "sig_gaps_AB",
                   "sig_min_BA", "sig_max_BA", "sig_gaps_BA", "specific_gaps_AB", "specific_gaps_BA",
                   "peak_order", "peak_gap", "peak_epsilon", "peak_q", "interaction", "tree_order",
                   "tree_gap_min", "tree_gap_max", "jaccard", "jaccard_specific"]


def motif_sequence(motif: str | np.ndarray, source: str = "motif", consensus: str = "") -> str:
    """One concrete sequence for a motif: a PPM's most likely letters, or an IUPAC pattern resolved.

    A pattern with a ``consensus`` (the most likely letters of the PPM it was cut
    from) takes the consensus letters under the first window the pattern fits:
    the informative core, in the PPM's own letters. Otherwise an ambiguous IUPAC
    letter becomes the first of its bases in ``ACGT`` order (``R`` -> ``A``,
    ``Y`` -> ``C``, ``N`` -> ``A``), so the same pattern always gives the same
    sequence; ``N`` at either end is dropped.

    Parameters
    ----------
    motif : str or numpy.ndarray
        IUPAC letters (U read as T), or a (length, 4) PPM over A, C, G, T.
    source : str
        What the motif is, for the error message.
    consensus : str
        The PPM's consensus (A, C, G, T), when known.

    Returns
    -------
    str
        Letters A, C, G, T.

    Raises
    ------
    combmotif.errors.InputError
        When the pattern is empty or holds a letter that is not IUPAC.
    """
    if not isinstance(motif, str):
        ppm = np.asarray(motif, dtype=np.float64)
        if ppm.ndim != 2 or ppm.shape[1] != 4 or not len(ppm):
            raise InputError(f"{source}: a PPM must be (length, 4); got shape {ppm.shape}")
        return "".join(DNA[i] for i in ppm.argmax(1))
    # Flanking N columns carry nothing to insert.
    text = motif.strip().upper().replace("U", "T").strip("N")
    bad = sorted({c for c in text if c not in IUPAC})
    if not text or bad:
        why = "has no base to insert" if not text else f"holds {''.join(bad)!r}, not IUPAC letters"
        raise InputError(f"{source}: pattern {motif!r} {why}")
    allowed = [set(IUPAC[c]) for c in text]
    cons = consensus.upper().replace("U", "T")
    for i in range(len(cons) - len(text) + 1):
        window = cons[i:i + len(text)]
        if all(c in ok for c, ok in zip(window, allowed)):
            return window
    return "".join(IUPAC[c][0] for c in text)


def shuffled_backgrounds(X: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` dinucleotide-shuffled copies of rows of ``X`` (drawn without replacement from ``seed``).

    Only the stretch from the first to the last base (A, C, G, T) of a row is
    shuffled, so padding stays at the ends; extra tracks stay as they are.

    Parameters
    ----------
    X : numpy.ndarray
        (M, C, L) one-hot data sequences.
    n : int
        Backgrounds wanted (at most M).
    seed : int
        Seed of the row draw and the shuffles.

    Returns
    -------
    numpy.ndarray
        (min(n, M), C, L) float32.
    """
    rng = np.random.default_rng([seed, 15])
    rows = np.sort(rng.choice(len(X), size=min(n, len(X)), replace=False))
    out = np.array(X[rows], dtype=np.float32)
    starts, texts = [], []
    for text in decode(onehot_to_codes(out)):   # one shuffle per background: the shuffle itself
        bases = [i for i, c in enumerate(text) if c != "N"]
        lo, hi = (bases[0], bases[-1] + 1) if bases else (0, 0)
        starts.append(lo)
        texts.append(dinucleotide_shuffle(text[lo:hi], rng))
    write_spans(out, np.arange(len(out)), starts, texts)
    return out


def placements(length: int, len_a: int, len_b: int, gaps: Sequence[int],
               anchor: int | str = "centre") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Where A and B start at each gap, per order: the arrangement centred on the anchor.

    Parameters
    ----------
    length : int
        Sequence length.
    len_a, len_b : int
        Motif lengths.
    gaps : sequence of int
        Gaps (each arrangement must fit: ``len_a + gap + len_b <= length``).
    anchor : int or "centre"
        Centre of the arrangement; negative counts from the 3' end.

    Returns
    -------
    dict
        ``{"AB": (posA, posB), "BA": (posA, posB)}``, each an int array over ``gaps``.
    """
    gaps = np.asarray(gaps, dtype=np.int64)
    centre = length // 2 if anchor == "centre" else int(anchor) % length
    total = len_a + len_b + gaps
    start = np.clip(centre - total // 2, 0, length - total)
    return {"AB": (start, start + len_a + gaps), "BA": (start + len_b + gaps, start)}


def scan_variants(length: int, seq_a: str, seq_b: str, gaps: Sequence[int],
                  anchor: int | str = "centre") -> tuple[list[list[tuple[int, str]]], pd.DataFrame]:
    """The insertions of a scan: the background, then per order and gap A alone, B alone, both.

    Parameters
    ----------
    length : int
        Sequence length.
    seq_a, seq_b : str
        The concrete motifs.
    gaps : sequence of int
        Gaps scanned.
    anchor : int or "centre"
        See :func:`placements`.

    Returns
    -------
    variants : list
        ``1 + 3 x len(ORDERS) x len(gaps)`` insertion lists for
        :func:`combmotif.perturb.insert_variants`.
    rows : pandas.DataFrame
        ``order``, ``gap``, ``posA``, ``posB`` of each (order, gap), in variant order.
    """
    where = placements(length, len(seq_a), len(seq_b), gaps, anchor)
    variants: list[list[tuple[int, str]]] = [[]]
    rows = []
    for order in ORDERS:
        pos_a, pos_b = where[order]
        for g, pa, pb in zip(gaps, pos_a.tolist(), pos_b.tolist()):
            variants += [[(pa, seq_a)], [(pb, seq_b)], [(pa, seq_a), (pb, seq_b)]]
            rows.append({"order": order, "gap": int(g), "posA": pa, "posB": pb})
    return variants, pd.DataFrame(rows, columns=["order", "gap", "posA", "posB"])


def spacing_scan(predict, backgrounds: np.ndarray, seq_a: str, seq_b: str, gaps: Sequence[int],
                 anchor: int | str = "centre", n_boot: int = 2000, alpha: float = 0.05,
                 min_relative: float = 0.0, seed: int = 0, max_rows: int = 16384) -> pd.DataFrame:
    """Effect and epsilon of a pair at every gap and order, over shuffled backgrounds.

    Parameters
    ----------
    predict : callable
        (m, C, L) array -> (m,) predictions.
    backgrounds : numpy.ndarray
        (N, C, L) one-hot backgrounds (:func:`shuffled_backgrounds`).
    seq_a, seq_b : str
        The concrete motifs (:func:`motif_sequence`).
    gaps : sequence of int
        Gaps scanned.
    anchor : int or "centre"
        See :func:`placements`.
    n_boot : int
        Bootstrap resamples of the backgrounds.
    alpha, min_relative : float
        BH threshold and effect floor, as :func:`combmotif.interaction.epistasis.classify`.
    seed : int
        Seed of the bootstrap.
    max_rows : int
        About how many sequences go to ``predict`` at once.

    Returns
    -------
    pandas.DataFrame
        One row per (order, gap), columns :data:`SCAN_COLUMNS`.
    """
    n = len(backgrounds)
    variants, rows = scan_variants(backgrounds.shape[-1], seq_a, seq_b, gaps, anchor)
    f = predict_insertions(predict, backgrounds, variants, max_rows)
    bg, (fa, fb, fab) = f[0], f[1:].reshape(len(rows), 3, n).transpose(1, 0, 2)
    eps, effect = fab - fa - fb + bg, fab - bg
    # Differences at float32 rounding level are no evidence (as in the pair test).
    tol = 1e-5 * max(float(np.abs(bg).mean()), 1e-3)
    rng = np.random.default_rng(seed)
    rows["n"] = n
    rows["effect"], rows["epsilon"] = effect.mean(1), eps.mean(1)
    rows["effect_A"], rows["effect_B"] = (fa - bg).mean(1), (fb - bg).mean(1)
    bands = [stats.bootstrap_ci(x, n_boot=n_boot, seed=rng) for pair in zip(effect, eps) for x in pair]
    rows[["effect_lo", "effect_hi", "eps_lo", "eps_hi"]] = np.asarray(bands).reshape(len(rows), 4)
    calls = _calls(rows, eps, tol, alpha, min_relative)
    rows["p"], rows["q"], rows["interaction"] = calls["interaction-p"], calls["q"], calls["interaction"]
    rows["significant"] = ~calls["interaction"].isin(["additive", "untested"])
    # The pair's own level over every gap and order, per background: a rule of syntax
    # leaves it at some gaps only; an "anywhere" interaction (or an output
    # nonlinearity) lifts every gap alike and leaves no gap specific.
    excess = eps - np.median(eps, axis=0, keepdims=True)
    spec = _calls(rows, excess, tol, alpha, min_relative)
    rows["excess"], rows["excess_q"] = excess.mean(1), spec["q"]
    rows["specific"] = ~spec["interaction"].isin(["additive", "untested"])
    return rows[SCAN_COLUMNS]


def _calls(rows: pd.DataFrame, values: np.ndarray, tol: float, alpha: float, min_relative: float) -> pd.DataFrame:
    """Wilcoxon p per row over the backgrounds, BH q over the rows, and the pair test's class and floor."""
    df = pd.DataFrame({"epsilon": values.mean(1), "effect_A": rows["effect_A"].to_numpy(),
                       "effect_B": rows["effect_B"].to_numpy(), "n": values.shape[1], "replicates": 1,
                       "fallbacks": 0, "reason": "",
                       "interaction-p": [stats.wilcoxon_p(np.where(np.abs(v) <= tol, 0.0, v)) for v in values]})
    return classify(df, alpha, min_relative)


def significant_gaps(scan: pd.DataFrame, order: str, column: str = "significant") -> list[int]:
    """The significant (or gap-specific) gaps of one order, ascending.

    Parameters
    ----------
    scan : pandas.DataFrame
        From :func:`spacing_scan`.
    order : {"AB", "BA"}
        Which order.
    column : {"significant", "specific"}
        Epistasis at the gap, or epistasis beyond the pair's level over all gaps.

    Returns
    -------
    list of int
    """
    hit = scan[(scan["order"] == order) & scan[column].astype(bool)]
    return sorted(int(g) for g in hit["gap"])


def jaccard(gaps: Sequence[int], gap_min: int, gap_max: int, scanned: Sequence[int]) -> float:
    """Jaccard overlap of the scan's significant gaps with a tree's gap range.

    The range is clipped to the scanned gaps (a gap the scan never tried is no disagreement).

    Parameters
    ----------
    gaps : sequence of int
        Significant gaps of the rule's order.
    gap_min, gap_max : int
        The tree's range, inclusive.
    scanned : sequence of int
        Every gap the scan tried.

    Returns
    -------
    float
        ``|S & T| / |S | T|``; NaN when both are empty.
    """
    tree = {g for g in scanned if gap_min <= g <= gap_max}
    s = set(gaps)
    union = s | tree
    return len(s & tree) / len(union) if union else float("nan")


def scan_summary(scan: pd.DataFrame, tree: dict | None = None) -> dict:
    """One summary row of a scan: significant gap ranges per order, the peak, its class, the tree.

    The peak is the significant (order, gap) with the largest |epsilon|, or the
    largest |epsilon| overall when no gap is significant (then the class is additive).

    Parameters
    ----------
    scan : pandas.DataFrame
        From :func:`spacing_scan`.
    tree : dict, optional
        ``order`` ("AB": A 5' of B, or "BA"), ``gap_min``, ``gap_max`` of the syntax rule.

    Returns
    -------
    dict
        The scan's columns of :data:`SUMMARY_COLUMNS`.
    """
    row: dict = {"gap_max": int(scan["gap"].max()) if len(scan) else -1}
    for order in ORDERS:
        gaps = significant_gaps(scan, order)
        row[f"sig_min_{order}"] = gaps[0] if gaps else np.nan
        row[f"sig_max_{order}"] = gaps[-1] if gaps else np.nan
        row[f"sig_gaps_{order}"] = ";".join(map(str, gaps))
        row[f"specific_gaps_{order}"] = ";".join(map(str, significant_gaps(scan, order, "specific")))
    sig = scan[scan["significant"].astype(bool)]
    pool = sig if len(sig) else scan
    if len(pool):
        peak = pool.loc[pool["epsilon"].abs().idxmax()]
        row.update(peak_order=peak["order"], peak_gap=int(peak["gap"]), peak_epsilon=float(peak["epsilon"]),
                   peak_q=float(peak["q"]), interaction=peak["interaction"] if len(sig) else "additive")
    row.update(tree_order="", tree_gap_min=np.nan, tree_gap_max=np.nan, jaccard=np.nan, jaccard_specific=np.nan)
    if tree:
        lo, hi, order = int(tree["gap_min"]), int(tree["gap_max"]), tree["order"]
        scanned = scan.loc[scan["order"] == order, "gap"].tolist()
        row.update(tree_order=order, tree_gap_min=lo, tree_gap_max=hi,
                   jaccard=jaccard(significant_gaps(scan, order), lo, hi, scanned),
                   jaccard_specific=jaccard(significant_gaps(scan, order, "specific"), lo, hi, scanned))
    return row
