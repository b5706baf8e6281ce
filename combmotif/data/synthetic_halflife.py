"""A synthetic mRNA half-life data set with planted 3'UTR elements (our ground truth).

Each transcript is a random 5'UTR (40-150 nt), an ORF (ATG, 98-198 random sense
codons, a stop codon: 300-600 nt), a random 3'UTR (150-500 nt, shortened when
the transcript would not fit in L) and 1-7 exon junctions placed in the 5'UTR
or ORF; it is encoded in the six Saluki tracks (:mod:`combmotif.data.halflife`)
and zero-padded to L. The label is on the log half-life scale:

    y = baseline + sum(effect of every 3'UTR motif present)
        + sum(interaction of every pair whose two motifs are both present)
        + codon_effect * (fraction of ORF codons that are "optimal")
        + junction_effect * (number of exon junctions) + Gaussian noise

Motifs count only inside the 3'UTR (from the nucleotide after the last codon
to the last nucleotide), natural occurrences included; everything is read back
from the encoded (N, 6, L) array, so :func:`noiseless` recomputes the noise-free
label from the data file and ``truth.json`` alone. Where a transcript is longer
than L (only when L < ~1,250) the 5' end is trimmed and the rules apply to
what is left.

Planted 3'UTR elements (defaults): ``ARE`` ATTTATTTA, ``GRE`` TGTTTGTT,
``PUM`` TGTAHATA and ``let7`` CTACCTC (let-7 7mer-m8 site), destabilising;
``Crich`` CCCAGCCC and ``stabE`` AGCAGCGA, stabilising. Pairs: PUM+let7
synergistic (joint repression stronger than the sum), Crich+stabE
antagonistic (redundant stabilisers), ARE+GRE planted together often with no
interaction (negative control).
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..sequences import onehot_to_codes
from .halflife import N_TRACKS, encode_codes, write_h5
from .planting import additive_label, choose_planted, code_bits, motif_hits, plant, random_layout
from .truth import MOTIF_KEYS, PAIR_KEYS, load_truth, noise_ceiling, order_keys, planted_rules, write_set

_BASES = "ACGT"
CODONS = [a + b + c for a in _BASES for b in _BASES for c in _BASES]   # index = 16a + 4b + c
STOPS = ("TAA", "TAG", "TGA")
# Synthetic "optimal" codon set (one per amino acid for eight amino acids).
OPTIMAL_CODONS = ("GCC", "CTG", "AAG", "GAG", "ACC", "GTG", "ATC", "TTC")

MOTIFS: list[dict[str, Any]] = [
    dict(name="ARE", consensus="ATTTATTTA", effect=-0.5, planted_frequency=0.15,
         rule="AU-rich element (overlapping AUUUA pentamers) anywhere in the 3'UTR"),
    dict(name="GRE", consensus="TGTTTGTT", effect=-0.3, planted_frequency=0.15,
         rule="GU-rich element anywhere in the 3'UTR"),
    dict(name="PUM", consensus="TGTAHATA", effect=-0.45, planted_frequency=0.15,
         rule="Pumilio recognition element UGUAHAUA anywhere in the 3'UTR"),
    dict(name="let7", consensus="CTACCTC", effect=-0.4, planted_frequency=0.15,
         rule="let-7 7mer-m8 seed match anywhere in the 3'UTR"),
    dict(name="Crich", consensus="CCCAGCCC", effect=0.45, planted_frequency=0.15,
         rule="C-rich (poly(C)-binding-protein-like) stabilising element anywhere in the 3'UTR"),
    dict(name="stabE", consensus="AGCAGCGA", effect=0.4, planted_frequency=0.15,
         rule="synthetic stabilising element anywhere in the 3'UTR"),
]
PAIRS: list[dict[str, Any]] = [
    dict(name="PUM+let7", motifA="PUM", motifB="let7", interaction=-0.6, planted_co_frequency=0.12),
    dict(name="Crich+stabE", motifA="Crich", motifB="stabE", interaction=-0.3, planted_co_frequency=0.12),
    dict(name="ARE+GRE", motifA="ARE", motifB="GRE", interaction=0.0, planted_co_frequency=0.12),
]


def _features(codon_effect: float, junction_effect: float) -> list[dict[str, Any]]:
    return [
        {"name": "optimal_codon_fraction", "effect": codon_effect, "region": "ORF",
         "codons": list(OPTIMAL_CODONS),
         "rule": "effect x (fraction of the codons marked on the codon track, start and stop included, "
                 "that are in 'codons')"},
        {"name": "exon_junctions", "effect": junction_effect, "region": "transcript",
         "rule": "effect x (number of positions marked on the splice track)"},
    ]


def _motif_defaults(m: dict) -> dict:
    m = dict(m)
    m.update(sign="positive" if m["effect"] > 0 else "negative", region="3'UTR", mode="presence",
             frame=None, cds_start=None, start_min=None, start_max=None)
    m["rule"] += (" (3'UTR = from the nucleotide after the last codon-track codon to the last "
                  "non-padding nucleotide; start_min/start_max are per transcript)")
    return m


def regions(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(utr3_start, tx_end) per transcript of a (N, 6, L) array: the first nucleotide after
    the last codon-track codon, and one past the last non-padding nucleotide.

    The planted motifs count only in this 3'UTR window, read back from the encoded tracks.

    Parameters
    ----------
    x : numpy.ndarray
        (N, 6, L) six-track transcripts (see :mod:`combmotif.data.halflife`).

    Returns
    -------
    utr3_start : numpy.ndarray
        (N,) int, the 3'UTR's first position (last codon start + 3).
    tx_end : numpy.ndarray
        (N,) int, one past the last position with a base (0 for an all-empty transcript).

    Raises
    ------
    InputError
        When ``x`` is not (N, 6, L), or a transcript has no codon-track mark.
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1] != N_TRACKS:
        raise InputError(f"half-life sequences must have shape (N, 6, L), got {x.shape}")
    length = x.shape[2]
    codon = x[:, 4, :] > 0
    if not codon.any(1).all():
        bad = int(np.flatnonzero(~codon.any(1))[0])
        raise InputError(f"half-life sequence {bad} has no codon-track marks; cannot find its 3'UTR")
    last_codon = length - 1 - np.argmax(codon[:, ::-1], axis=1)
    base = x[:, :4, :].sum(1) > 0
    tx_end = length - np.argmax(base[:, ::-1], axis=1)
    return last_codon + 3, tx_end


def _codes(x: np.ndarray) -> np.ndarray:
    return onehot_to_codes(np.asarray(x)[:, :4, :])


def _feature_values(x: np.ndarray, codes: np.ndarray, truth: Mapping[str, Any]) -> dict[str, np.ndarray]:
    x = np.asarray(x)
    n, length = codes.shape
    out = {}
    for f in truth.get("features", []):
        if f["name"] == "optimal_codon_fraction":
            lut = np.zeros(65, dtype=bool)                         # index 64: a codon with N/padding
            for c in f["codons"]:
                lut[CODONS.index(c.upper().replace("U", "T"))] = True
            # Only the marked codon starts are looked at: ~N x 150 triplets, not N x L.
            r, p = np.nonzero(x[:, 4, :length - 2] > 0)
            c0, c1, c2 = (codes[r, p + j].astype(np.int64) for j in range(3))
            trip = np.where((c0 == 4) | (c1 == 4) | (c2 == 4), 64, c0 * 16 + c1 * 4 + c2)
            n_opt = np.bincount(r, weights=lut[trip], minlength=n)
            n_cod = np.bincount(r, minlength=n)
            out[f["name"]] = n_opt / np.maximum(n_cod, 1)
        elif f["name"] == "exon_junctions":
            out[f["name"]] = (x[:, 5, :] > 0).sum(1).astype(np.float64)
        else:
            raise InputError(f"truth: unknown half-life feature {f['name']!r}")
    return out


def _scan_chunk(xb: np.ndarray, truth: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Motif presence and the feature part of the label for one chunk of (n, 6, L)."""
    lo, end = regions(xb)
    xb = xb[:, :, :int(end.max())]              # past the longest transcript there is only padding
    codes = _codes(xb)
    bits = code_bits(codes)
    present = {m["name"]: motif_hits(codes, m, lo=lo, hi=end - len(m["consensus"]), bits=bits).any(1)
               for m in truth["motifs"]}
    feats = _feature_values(xb, codes, truth)
    extra = np.zeros(len(xb))
    for f in truth.get("features", []):
        extra += float(f["effect"]) * feats[f["name"]]
    return present, extra


def presence(x: np.ndarray, truth: Mapping[str, Any] | str, chunk: int = 2048) -> dict[str, np.ndarray]:
    """Which truth.json motifs occur in the 3'UTR of each (N, 6, L) transcript: {name: (N,) bool}.

    Parameters
    ----------
    x : numpy.ndarray
        (N, 6, L) six-track transcripts (as stored in data.h5; an h5py dataset works too).
    truth : mapping or str
        A synthetic half-life truth.json, as a dict or a path.
    chunk : int, optional
        Transcripts scanned at a time, to bound memory; default 2048.

    Returns
    -------
    dict of str to numpy.ndarray
        Motif name -> (N,) bool, True where the motif occurs in the 3'UTR (planted or natural).

    Raises
    ------
    InputError
        When ``truth`` is not a valid half-life truth, or ``x`` is not (N, 6, L) or has a
        transcript without codon marks.
    """
    return _scan(x, truth, chunk)[0]


def noiseless(x: np.ndarray, truth: Mapping[str, Any] | str, chunk: int = 2048) -> np.ndarray:
    """Noise-free log half-life of each (N, 6, L) transcript (as stored in data.h5),
    recomputed from truth.json (a path or a dict) alone.

    Lets later stages score a model against the planted rule rather than the noisy labels.

    Parameters
    ----------
    x : numpy.ndarray
        (N, 6, L) six-track transcripts (an h5py dataset works too).
    truth : mapping or str
        A synthetic half-life truth.json, as a dict or a path.
    chunk : int, optional
        Transcripts scanned at a time, to bound memory; default 2048.

    Returns
    -------
    numpy.ndarray
        (N,) float64: baseline + 3'UTR motif effects + pair interactions + codon and junction features.

    Raises
    ------
    InputError
        When ``truth`` is not a valid half-life truth (or names an unknown feature), or ``x``
        is not (N, 6, L) or has a transcript without codon marks.
    """
    truth = load_truth(truth, task="halflife")
    present, extra = _scan(x, truth, chunk)
    return additive_label(present, truth) + extra


def _scan(x: np.ndarray, truth: Mapping[str, Any] | str, chunk: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    truth = load_truth(truth, task="halflife")
    n = len(x)
    present = {m["name"]: np.zeros(n, dtype=bool) for m in truth["motifs"]}
    extra = np.zeros(n)
    for a in range(0, n, chunk):
        p, e = _scan_chunk(np.asarray(x[a:a + chunk]), truth)
        for k, v in p.items():
            present[k][a:a + len(v)] = v
        extra[a:a + len(e)] = e
    return present, extra


def _transcripts(rng: np.random.Generator, n: int, length: int) -> tuple[np.ndarray, ...]:
    """Random transcript lengths and bases: (l5, n_codons, cds_end, l3, tx_len, codes)."""
    l5 = rng.integers(40, 151, size=n)
    n_codons = rng.integers(100, 201, size=n)                  # incl. start and stop: 300-600 nt
    cds_end = l5 + 3 * n_codons
    hi3 = np.clip(length - cds_end, 150, 500)
    l3 = (150 + rng.random(n) * (hi3 - 150 + 1)).astype(np.int64)
    tx_len = cds_end + l3
    codes = rng.integers(0, 4, size=(n, int(tx_len.max())), dtype=np.int8)
    return l5, n_codons, cds_end, l3, tx_len, codes


def _write_orfs(rng: np.random.Generator, codes: np.ndarray, l5: np.ndarray, n_codons: np.ndarray) -> None:
    """Write each ORF into ``codes`` in place: ATG, internal codons (optimal with a
    per-transcript propensity), a stop codon."""
    n = len(codes)
    codon_codes = np.array([[_BASES.index(b) for b in c] for c in CODONS], dtype=np.int8)
    optimal = np.array([CODONS.index(c) for c in OPTIMAL_CODONS])
    other = np.array([i for i, c in enumerate(CODONS) if c not in OPTIMAL_CODONS and c not in STOPS])
    stops = np.array([CODONS.index(c) for c in STOPS])
    max_c = int(n_codons.max())
    p_opt = rng.uniform(0.1, 0.6, size=n)
    is_opt = rng.random((n, max_c)) < p_opt[:, None]
    cidx = np.where(is_opt, optimal[rng.integers(0, len(optimal), (n, max_c))],
                    other[rng.integers(0, len(other), (n, max_c))])
    cidx[:, 0] = CODONS.index("ATG")
    cidx[np.arange(n), n_codons - 1] = stops[rng.integers(0, 3, n)]
    in_orf = np.arange(max_c)[None, :] < n_codons[:, None]
    r, c = np.nonzero(in_orf)
    for j in range(3):
        codes[r, l5[r] + 3 * c + j] = codon_codes[cidx[r, c], j]


def _junctions(rng: np.random.Generator, cds_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """1-7 random exon junctions per transcript in 20..cds_end: (row, position) of each."""
    n = len(cds_end)
    n_junc = rng.integers(1, 8, size=n)
    jpos = 20 + (rng.random((n, 7)) * (cds_end[:, None] - 20)).astype(np.int64)
    junc_row, jcol = np.nonzero(np.arange(7)[None, :] < n_junc[:, None])
    return junc_row, jpos[junc_row, jcol]


def _split(rng: np.random.Generator, split_fracs: tuple[float, float, float], x: np.ndarray, y: np.ndarray,
           clean: np.ndarray) -> tuple[np.ndarray, dict, dict]:
    """Random train/valid/test split: (which (N,) 0/1/2, {split: (X, y)}, {split: noiseless y})."""
    n = len(y)
    if len(split_fracs) != 3 or not np.isclose(sum(split_fracs), 1.0):
        raise ValueError(f"split_fracs must be three fractions summing to 1, got {split_fracs}")
    perm = rng.permutation(n)
    n_valid, n_test = int(round(split_fracs[1] * n)), int(round(split_fracs[2] * n))
    which = np.zeros(n, dtype=np.int8)
    which[perm[:n_valid]] = 1
    which[perm[n_valid:n_valid + n_test]] = 2
    splits, clean_splits = {}, {}
    for s, name in enumerate(("train", "valid", "test")):
        idx = np.flatnonzero(which == s)
        splits[name] = (x[idx], y[idx])
        clean_splits[name] = clean[idx]
    return which, splits, clean_splits


def _describe(truth: dict, present: Mapping[str, np.ndarray], effects: Mapping[str, float], x: np.ndarray,
              y: np.ndarray, clean: np.ndarray, which: np.ndarray, tx_len: np.ndarray,
              splits: Mapping[str, tuple], split_fracs: tuple[float, float, float]) -> None:
    """Add the observed frequencies, feature moments, layout and ceiling to ``truth`` (after its noise)."""
    length, motifs, pairs = truth["length"], truth["motifs"], truth["pairs"]
    for m in motifs:
        m["frequency"] = float(present[m["name"]].mean())
    for p in pairs:
        p["co_frequency"] = float((present[p["motifA"]] & present[p["motifB"]]).mean())
        p["joint_effect"] = round(effects[p["motifA"]] + effects[p["motifB"]] + p["interaction"], 9)
        p["rule"] = (f"adds {p['interaction']:+g} when {p['motifA']} and {p['motifB']} are both present "
                     "in the 3'UTR (anywhere, any order)")
    feats = _feature_values(x, _codes(x), truth)
    for f in truth["features"]:
        f["mean"], f["sd"] = float(feats[f["name"]].mean()), float(feats[f["name"]].std())
    test = which == 2
    truth["transcripts"] = {
        "utr5": [40, 150], "orf_codons": [100, 200], "utr3": [150, 500], "junctions": [1, 7],
        "optimal_codon_propensity": [0.1, 0.6], "trimmed_5prime": int((tx_len > length).sum()),
        "splits": {k: int(len(v[1])) for k, v in splits.items()}, "split_fracs": list(split_fracs),
        "note": "3'UTR length is capped at L - (5'UTR + ORF) when that is >= 150; longer transcripts "
                "are trimmed from the 5' end",
    }
    truth["ceiling"] = {"split": "test", "rule": "random test split (split_fracs, seed)", "n": int(test.sum()),
                        **(noise_ceiling(clean[test], y[test]) if test.sum() > 1 else {"r": None, "r2": None}),
                        "all": noise_ceiling(clean, y)}


def make_halflife(n: int = 24_000, length: int = 1024, seed: int = 0, noise_sd: float | None = None,
                  target_r: float = 0.92, baseline: float = 1.5, codon_effect: float = 2.0,
                  junction_effect: float = 0.06, split_fracs: tuple[float, float, float] = (0.8, 0.1, 0.1),
                  return_noiseless: bool = False, motifs: Sequence[Mapping[str, Any]] | None = None,
                  pairs: Sequence[Mapping[str, Any]] | None = None) -> tuple:
    """Generate the synthetic half-life set.

    Parameters
    ----------
    n : number of transcripts; length : L (at least 512; up to 12,288 or more).
    seed : every random draw comes from ``np.random.default_rng(seed)``.
    noise_sd : Gaussian noise sd; ``None`` picks the sd that makes the noise
        ceiling r over the whole set equal ``target_r``.
    baseline : log half-life of a transcript with no element, no optimal codon
        and no junction. codon_effect, junction_effect : feature coefficients.
    split_fracs : train/valid/test fractions (random, seeded).
    return_noiseless : also return ``{split: noise-free labels}`` as a third value.
    motifs, pairs : the planted rule tables (entries as in :data:`MOTIFS`, :data:`PAIRS`);
        ``None``: those two (the shipped human set; another table, e.g.
        :mod:`combmotif.data.synthetic_mouse`, changes only the planted rules).

    Returns
    -------
    (splits, truth): ``splits`` = {"train"|"valid"|"test": (X (N, 6, L) uint8, y (N,) float32)}
    ready for :func:`combmotif.data.halflife.write_h5`; ``truth`` the truth.json dict.
    """
    if n < 10:
        raise ValueError(f"n must be at least 10, got {n}")
    if length < 512:
        raise ValueError(f"length must be at least 512, got {length}")
    rng = np.random.default_rng(seed)
    motifs, pairs, effects = planted_rules(MOTIFS if motifs is None else motifs,
                                           PAIRS if pairs is None else pairs, _motif_defaults)

    l5, n_codons, cds_end, l3, tx_len, codes = _transcripts(rng, n, length)
    _write_orfs(rng, codes, l5, n_codons)
    # 3'UTR elements at random non-overlapping places.
    chosen = choose_planted(rng, n, motifs, pairs)
    starts, kept = random_layout(rng, chosen, [len(m["consensus"]) for m in motifs], l3)
    for j, m in enumerate(motifs):
        rows = np.flatnonzero(kept[:, j])
        plant(codes, rows, cds_end[rows] + starts[rows, j], m["consensus"], rng)
    # Exon junctions (last nucleotide of each exon but the last) inside 5'UTR + ORF.
    junc_row, junc_pos = _junctions(rng, cds_end)
    x = encode_codes(codes, tx_len, l5, n_codons, junc_row, junc_pos, length)

    truth: dict[str, Any] = {
        "task": "halflife", "seed": seed, "n": n, "length": length, "baseline": baseline,
        "label": "log half-life (additive model on the log scale)",
        "motifs": motifs, "pairs": pairs, "features": _features(codon_effect, junction_effect),
    }
    present, extra = _scan(x, truth, 2048)
    clean = additive_label(present, truth) + extra
    if noise_sd is None:
        noise_sd = float(np.sqrt(clean.var() * (1.0 / target_r ** 2 - 1.0)))
    y = (clean + rng.normal(0.0, noise_sd, size=n)).astype(np.float32)

    which, splits, clean_splits = _split(rng, split_fracs, x, y, clean)
    truth["noise"] = {"distribution": "gaussian", "sd": noise_sd, "target_r": target_r,
                      "label_sd": float(y.std()), "noiseless_sd": float(clean.std())}
    _describe(truth, present, effects, x, y, clean, which, tx_len, splits, split_fracs)
    truth["motifs"] = [order_keys(m, MOTIF_KEYS) for m in motifs]
    truth["pairs"] = [order_keys(p, PAIR_KEYS) for p in pairs]
    load_truth(truth, task="halflife")
    return (splits, truth, clean_splits) if return_noiseless else (splits, truth)


def save_halflife_set(out_dir: str | os.PathLike, splits: Mapping[str, tuple[np.ndarray, np.ndarray]],
                      truth: Mapping[str, Any]) -> None:
    """Write ``out_dir/`` with data.h5 (Saluki layout), truth.json and planted.meme, atomically.

    data.h5 carries ``task``, ``synthetic``, ``seed``, ``length`` and ``label`` as file attributes.

    Parameters
    ----------
    out_dir : path-like
        The set's folder (an old one is replaced).
    splits : mapping of str to (numpy.ndarray, numpy.ndarray)
        ``{split: (X (N, 6, L), y (N,))}``, as :func:`make_halflife` returns it.
    truth : mapping
        Its truth dict.

    Raises
    ------
    InputError
        When ``truth`` fails the schema check or a split has the wrong shape.
    """
    attrs = {"task": "halflife", "synthetic": True, "seed": truth.get("seed"), "length": truth.get("length"),
             "label": truth.get("label")}
    write_set(out_dir, truth, lambda d: write_h5(d / "data.h5", splits, attrs))
