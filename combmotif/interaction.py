"""Which motif pairs act together? Mutagenesis of fragments and an epistasis test.

For a neuron of conv layer ``L``, its *fragments* are the windows of the
scanned sequences that drive it above ``fragment_threshold`` x its maximum
(:func:`combmotif.maxact.locate_fragments`). A *combination label* names two
motifs, A and B, each as one or more patterns (IUPAC or regular expressions);
labels come from a hand-written YAML (the seeds' layout), else are proposed
from the neuron's NeuronMotif segments and their Tomtom matches, else from a
template.

Mutagenesis (:func:`mutagenesis`). For every sequence with a fragment holding a
match of A and a match of B that do not overlap, the **whole** sequence is
predicted four ways: original, A destroyed, B destroyed, both destroyed. A
motif is destroyed by a dinucleotide-preserving shuffle of its span, redrawn
until neither pattern of the pair matches across the span any more (at most
``max_redraws`` draws; then random bases, counted as a *fallback*). Each of
``replicates`` draws destroys A and B once and the same draw is used in the
"A destroyed" and "both destroyed" variants (common random numbers), so a
model that is exactly additive gives epsilon = 0 exactly. The half-life model's
extra tracks are left as they are.

Unit of replication: one sequence per (neuron, pair). A sequence contributes
once even when several of its windows are fragments or several A/B matches
could be paired (the closest non-overlapping pair in its strongest fragment
that has one is used); for a homotypic pair (A = B) a pair of sites is
unordered, so swapping roles cannot double-count it.

Epistasis (:func:`pair_statistics`, :func:`classify`). Per sequence, with
f(AB) = original, f(A only) = B destroyed, f(B only) = A destroyed,
f(neither) = both destroyed::

    epsilon = f(AB) - f(A only) - f(B only) + f(neither)

tested against 0 with the Wilcoxon signed-rank test; Benjamini-Hochberg over
every pair tested in the layer. The single effects are e_A = f(A only) -
f(neither) and e_B = f(B only) - f(neither); with s = sign(e_A + e_B) a
significant pair is *synergistic* when s * epsilon > 0 (the joint effect is
larger in magnitude than the sum, in the same direction) and *antagonistic*
when s * epsilon < 0; a pair that is not significant is *additive* (so is a
significant one whose |epsilon| is below ``min_relative_epsilon`` x (|e_A| +
|e_B|), when that floor is set). Effect sizes carry seeded
percentile-bootstrap intervals.

Outputs (``results/<model>/interaction/conv<L>/``): ``fragments.npz``,
``neuron<k>/fragment_location.yaml``, ``neuron<k>/labels.yaml`` (the labels
used), ``neuron<k>/pairs.csv`` and ``neuron<k>/observations.npz`` (per-sequence
f values, the unit files), and the merged ``motif_pair_stats.csv``,
``motif_pair_summary.csv`` (one row per motif pair over all neurons) and
``interaction_map.png``.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Sequence

import numpy as np
import pandas as pd
import yaml

from . import stats
from .checkpoint import check_device
from .config import load_config, parse_range, path_field
from .errors import ConfigError, InputError
from .io import (atomic_path, clean_partials, fault_point, read_stamp, save_npz, settings_changes, write_json,
                 write_text)
from .maxact import (DataSpec, Fragments, MaxAct, Stage, fragment_codes, fragment_yaml,
                     locate_fragments, sequence_codes)
from .models.loader import ModelSpec
from .paths import relative_path
from .sequences import DNA, IUPAC, dinucleotide_shuffle, pattern_regex

CLASSES = ("synergistic", "antagonistic", "additive", "untested", "unclassified")
CLASS_COLOURS = {"synergistic": "#c0392b", "antagonistic": "#2471a3", "additive": "#bdbdbd",
                 "unclassified": "#f0b27a", "untested": "#ffffff"}
REFERENCE_COLUMNS = ["task", "motifA", "motifB", "a-o", "b-o", "ab-a", "ab-b", "ab-o",
                     "interaction-p", "interaction"]
EXTRA_COLUMNS = ["q", "epsilon", "ci_low", "ci_high", "n", "effect_A", "effect_A_low", "effect_A_high",
                 "effect_B", "effect_B_low", "effect_B_high", "joint", "direction", "layer", "neuron",
                 "combination", "motifA_name", "motifB_name", "n_candidates", "fallbacks", "replicates",
                 "reason"]
STATS_COLUMNS = REFERENCE_COLUMNS + EXTRA_COLUMNS


# --------------------------------------------------------------------------- combination labels


@dataclass
class Combination:
    """Two motifs, each one or more patterns (IUPAC or regex over ACGT; U reads as T)."""

    name: str
    motifA: list[str]
    motifB: list[str]
    nameA: str = ""
    nameB: str = ""

    def __post_init__(self) -> None:
        self.motifA = [str(p).strip().upper().replace("U", "T") for p in self.motifA]
        self.motifB = [str(p).strip().upper().replace("U", "T") for p in self.motifB]
        self.nameA = self.nameA or "|".join(self.motifA)
        self.nameB = self.nameB or "|".join(self.motifB)

    @property
    def homotypic(self) -> bool:
        return sorted(self.motifA) == sorted(self.motifB)

    @property
    def key(self) -> tuple:
        """Order-free identity, so (A, B) and (B, A) are one test."""
        return tuple(sorted((tuple(sorted(self.motifA)), tuple(sorted(self.motifB)))))


def _pattern_list(value, path, key) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, (str, int)) for v in value):
        raise InputError(f"{path}: '{key}' must be a pattern or a list of patterns")
    out = []
    for v in value:
        v = str(v).strip()
        try:
            rx = pattern_regex(v)
        except (re.error, InputError) as exc:
            raise InputError(f"{path}: '{key}' pattern {v!r} is not IUPAC or a valid regex ({exc})") from None
        if rx.match("") is not None:
            raise InputError(f"{path}: '{key}' pattern {v!r} matches the empty string")
        out.append(v)
    return out


def parse_labels(data: dict, source: str = "labels") -> list[Combination]:
    """``{combinationN: {motifA: [...], motifB: [...], nameA?, nameB?}}`` -> combinations."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: top level must map combination names to motifA/motifB")
    combos = []
    for name, body in data.items():
        if not isinstance(body, dict) or "motifA" not in body or "motifB" not in body:
            raise InputError(f"{source}: '{name}' needs keys motifA and motifB")
        unknown = set(body) - {"motifA", "motifB", "nameA", "nameB"}
        if unknown:
            raise InputError(f"{source}: '{name}' has unknown key '{sorted(unknown)[0]}' "
                             "(known: motifA, motifB, nameA, nameB)")
        combos.append(Combination(str(name), _pattern_list(body["motifA"], source, f"{name}.motifA"),
                                  _pattern_list(body["motifB"], source, f"{name}.motifB"),
                                  str(body.get("nameA", "")), str(body.get("nameB", ""))))
    return combos


def read_labels(path: str | Path) -> list[Combination]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError:
        raise InputError(f"{path}: combination labels not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_labels(data or {}, str(path))


def labels_yaml(combos: Sequence[Combination], header: str = "") -> str:
    """The seeds' layout; names (Tomtom matches) are kept as nameA/nameB."""
    body = {}
    for c in combos:
        entry: dict = {"motifA": list(c.motifA), "motifB": list(c.motifB)}
        if c.nameA != "|".join(c.motifA):
            entry["nameA"] = c.nameA
        if c.nameB != "|".join(c.motifB):
            entry["nameB"] = c.nameB
        body[c.name] = entry
    head = "".join(f"# {line}\n" for line in header.splitlines())
    return head + (yaml.safe_dump(body, sort_keys=False) if body else "{}\n")


def dedupe(combos: Sequence[Combination]) -> list[Combination]:
    """Drop repeated combinations, including (B, A) after (A, B)."""
    seen, out = set(), []
    for c in combos:
        if c.key not in seen:
            seen.add(c.key)
            out.append(c)
    return out


def ppm_iupac(ppm: np.ndarray, ic_min: float = 0.5, mass: float = 0.75,
              max_length: int | None = None) -> str:
    """IUPAC consensus of a PPM with information-thresholded letters.

    A column below ``ic_min`` bits is ``N``; otherwise the fewest bases whose
    probabilities reach ``mass`` give its IUPAC code. Leading and trailing ``N``
    are trimmed. ``max_length`` keeps the most informative window of that
    length (a long degenerate pattern would almost never match a real sequence).
    """
    p = np.asarray(ppm, dtype=np.float64)
    p = p / p.sum(1, keepdims=True)
    ic = 2.0 + np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0).sum(1)
    order = np.argsort(-p, axis=1, kind="stable")
    cum = np.cumsum(np.take_along_axis(p, order, 1), axis=1)
    n_letters = (cum < mass - 1e-12).sum(1) + 1
    code_of = {"".join(sorted(v)): k for k, v in IUPAC.items() if k != "U"}
    letters = []
    for row, k, bits in zip(order, n_letters, ic):
        if bits < ic_min:
            letters.append("N")
        else:
            letters.append(code_of["".join(sorted(DNA[i] for i in row[:k]))])
    if max_length is not None and len(letters) > max_length:
        gain = np.where(np.array(letters) == "N", 0.0, ic)
        sums = np.convolve(gain, np.ones(max_length), mode="valid")
        best = int(np.argmax(sums))
        letters = letters[best:best + max_length]
    return "".join(letters).strip("N")


def read_tomtom(path: str | Path) -> pd.DataFrame:
    """Tomtom's 10-column TSV (comment lines start with '#')."""
    try:
        df = pd.read_csv(path, sep="\t", comment="#")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return pd.DataFrame(columns=["Query_ID", "Target_ID", "q-value"])
    if "Query_ID" not in df.columns or "Target_ID" not in df.columns:
        raise InputError(f"{path}: not a Tomtom table (needs Query_ID and Target_ID columns)")
    return df


def propose_labels(segments_meme: str | Path, tomtom_tsv: str | Path | None = None,
                   ic_min: float = 0.5, max_segments: int = 4, q_max: float = 0.05,
                   min_length: int = 4, max_length: int | None = 8) -> list[Combination]:
    """Combination labels from a neuron's NeuronMotif segments and their Tomtom matches.

    Segments are ranked by the quality NeuronMotif writes in their MEME
    description (``q=...``; else by total information) and each gives an IUPAC
    pattern (:func:`ppm_iupac`, at most ``max_length`` letters); the best
    ``max_segments`` distinct patterns are
    kept. A pattern is named after the best Tomtom target of its segments with
    q <= ``q_max``, else the segment id. Each pair of distinct patterns becomes
    one combination; a pattern found in two segments (two clusters of the same
    neuron) is also paired with itself.
    """
    from .motifs.formats import read_motifs

    if "MOTIF" not in Path(segments_meme).read_text():
        return []  # NeuronMotif found no segment for this neuron
    motifs = read_motifs(segments_meme, "meme")
    names: dict[str, str] = {}
    if tomtom_tsv is not None and Path(tomtom_tsv).is_file():
        tt = read_tomtom(tomtom_tsv)
        qcol = "q-value" if "q-value" in tt.columns else None
        if qcol and len(tt):
            tt = tt[pd.to_numeric(tt[qcol], errors="coerce") <= q_max]
            tt = tt.sort_values(qcol, kind="stable").drop_duplicates("Query_ID")
            names = dict(zip(tt["Query_ID"].astype(str), tt["Target_ID"].astype(str)))
    def quality(m) -> float:
        found = re.search(r"(?:^|,)q=([-+0-9.eE]+)", m.altname or "")
        return float(found.group(1)) if found else m.total_information

    patterns: dict[str, str] = {}
    count: dict[str, int] = {}
    for m in sorted(motifs, key=lambda m: -quality(m)):
        pat = ppm_iupac(m.ppm, ic_min, max_length=max_length)
        if len(pat) - pat.count("N") < min_length:
            continue
        # Segments of one motif cut with different flanks (ACTTCCG, GACTTCCG) are one motif.
        pat = next((p for p in patterns if _same_motif(p, pat)), pat)
        if pat not in patterns and len(patterns) >= max_segments:
            continue
        count[pat] = count.get(pat, 0) + 1
        # A Tomtom name beats a segment id, whichever segment of the pattern has it.
        if pat not in patterns or (patterns[pat] not in names.values() and m.name in names):
            patterns[pat] = names.get(m.name, m.name)
    pats = list(patterns)
    combos = []
    for i in range(len(pats)):
        for j in range(i, len(pats)):
            if i == j and count[pats[i]] < 2:
                continue
            combos.append(Combination(f"combination{len(combos) + 1}", [pats[i]], [pats[j]],
                                      patterns[pats[i]], patterns[pats[j]]))
    return combos


def _same_motif(p: str, q: str) -> bool:
    """Whether one IUPAC pattern occurs inside the other (IUPAC codes compatible)."""
    short, long_ = (p, q) if len(p) <= len(q) else (q, p)
    a = [set(IUPAC[c]) for c in short]
    b = [set(IUPAC[c]) for c in long_]
    return any(all(x & y for x, y in zip(a, b[i:i + len(a)])) for i in range(len(b) - len(a) + 1))


def _label_is(label: str, consensus: str) -> bool:
    """Whether a label (patterns joined by '|') names the motif ``consensus``."""
    iupac = re.compile(r"[ACGTRYSWKMBDHVN]+")
    return any(p == consensus or (iupac.fullmatch(p) and _same_motif(p, consensus))
               for p in label.split("|"))


def truth_labels(truth: dict) -> list[Combination]:
    """The planted pairs of a synthetic set's ``truth.json`` as combination labels."""
    cons = {m["name"]: m["consensus"] for m in truth["motifs"]}
    return [Combination(p["name"], [cons[p["motifA"]]], [cons[p["motifB"]]], p["motifA"], p["motifB"])
            for p in truth["pairs"]]


# --------------------------------------------------------------------------- matching


def _finder(patterns: Sequence[str]) -> re.Pattern:
    """One regex finding every (also overlapping) match of any pattern, via a lookahead."""
    alts = "|".join(f"(?:{pattern_regex(p).pattern})" for p in patterns)
    return re.compile(f"(?=({alts}))")


def find_spans(text: str, finder: re.Pattern) -> list[tuple[int, int]]:
    """``[(start, end)]`` of every match in ``text`` (overlapping matches included)."""
    return [(m.start(), m.start() + len(m.group(1))) for m in finder.finditer(text) if m.group(1)]


def choose_pair(a_spans: Sequence[tuple[int, int]], b_spans: Sequence[tuple[int, int]],
                homotypic: bool = False) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The closest pair of non-overlapping A and B sites (ties: leftmost), or None.

    For a homotypic pair only unordered site pairs count (A left of B), so the
    two roles of one pair of sites are one observation.
    """
    best, best_key = None, None
    for a in a_spans:
        for b in b_spans:
            if a[0] < b[1] and b[0] < a[1]:
                continue  # overlapping sites are one site, not a pair
            if homotypic and a[0] > b[0]:
                continue
            gap = max(a[0], b[0]) - min(a[1], b[1])
            key = (gap, min(a[0], b[0]), a[0])
            if best_key is None or key < best_key:
                best, best_key = (a, b), key
    return best


@dataclass
class Plan:
    """The chosen sites, one row per sequence: absolute spans in the full sequence."""

    seq: np.ndarray
    a: np.ndarray       # (n, 2) start, end
    b: np.ndarray
    n_candidates: int   # sequences with a fragment at all


def plan_sites(texts: Sequence[str], seq: np.ndarray, offset: np.ndarray, combo: Combination,
               max_sequences: int | None = None) -> Plan:
    """Pick, per sequence, the first fragment (in the given order) holding a pair of sites.

    ``texts`` are the fragments' sequences (``N`` outside the sequence never
    matches), ``offset`` the position of each fragment's first letter in its
    full sequence. Fragments must come grouped by sequence, strongest first.
    """
    fa, fb = _finder(combo.motifA), _finder(combo.motifB)
    done: set[int] = set()
    rows = []
    for text, s, off in zip(texts, seq.tolist(), offset.tolist()):
        if s in done:
            continue
        pair = choose_pair(find_spans(text, fa), find_spans(text, fb), combo.homotypic)
        if pair is None:
            continue
        done.add(s)
        (a0, a1), (b0, b1) = pair
        rows.append((s, a0 + off, a1 + off, b0 + off, b1 + off))
        if max_sequences is not None and len(rows) >= max_sequences:
            break
    arr = np.array(rows, dtype=np.int64).reshape(-1, 5)
    return Plan(seq=arr[:, 0], a=arr[:, 1:3], b=arr[:, 3:5], n_candidates=len(set(seq.tolist())))


# --------------------------------------------------------------------------- destruction


def _overlaps_match(text: str, lo: int, hi: int, finder: re.Pattern) -> bool:
    return any(s < hi and lo < e for s, e in find_spans(text, finder))


def destroy_span(seq: str, start: int, end: int, finder: re.Pattern, rng: np.random.Generator,
                 max_redraws: int = 50, context: int = 32) -> tuple[str, bool]:
    """A replacement for ``seq[start:end]`` that leaves no match of ``finder`` across it.

    Dinucleotide-preserving shuffles are drawn until one works (at most
    ``max_redraws``); a span whose shuffles cannot escape the pattern (e.g.
    ``TATATA`` has a single dinucleotide-preserving order) falls back to
    uniformly random bases. Returns ``(replacement, fell_back)``.
    """
    orig = seq[start:end]
    left = seq[max(0, start - context):start]
    right = seq[end:end + context]
    lo, hi = len(left), len(left) + len(orig)
    same = 0
    for _ in range(max_redraws):
        cand = dinucleotide_shuffle(orig, rng)
        if cand == orig:
            same += 1
            if same >= 8:  # the shuffle has (almost) no freedom here
                break
            continue
        if not _overlaps_match(left + cand + right, lo, hi, finder):
            return cand, False
    for _ in range(max_redraws):
        cand = "".join(DNA[i] for i in rng.integers(0, 4, len(orig)))
        if not _overlaps_match(left + cand + right, lo, hi, finder):
            return cand, True
    return cand, True


# --------------------------------------------------------------------------- mutagenesis


@dataclass
class Observations:
    """Per-sequence predictions of one (neuron, pair), averaged over replicates."""

    seq: np.ndarray
    f_orig: np.ndarray   # f(AB)
    f_scrA: np.ndarray   # A destroyed: f(B only)
    f_scrB: np.ndarray   # B destroyed: f(A only)
    f_scrAB: np.ndarray  # f(neither)
    fallbacks: int = 0
    replicates: int = 0
    n_candidates: int = 0

    @property
    def epsilon(self) -> np.ndarray:
        return self.f_orig - self.f_scrA - self.f_scrB + self.f_scrAB

    def __len__(self) -> int:
        return len(self.seq)


_CODE = np.zeros(256, np.int64)
for _i, _c in enumerate(DNA):
    _CODE[ord(_c)] = _i


def _edits(text: str, span: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Positions and base codes that write ``text`` over ``span``."""
    return np.arange(span[0], span[1]), _CODE[np.frombuffer(text.encode(), dtype=np.uint8)]


def mutagenesis(predict, X: np.ndarray, texts: Sequence[str], plan: Plan, combo: Combination,
                replicates: int = 10, rng: np.random.Generator | None = None, max_redraws: int = 50,
                max_rows: int = 4096) -> Observations:
    """Predict every planned sequence original / A destroyed / B destroyed / both.

    ``predict`` maps an (n, C, L) array to (n,) predictions on the label scale;
    ``texts`` are the full sequences (A, C, G, T, N) of ``X``'s rows. Variants
    of many sequences go to ``predict`` together, ``max_rows`` at a time.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    both = _finder(combo.motifA + combo.motifB)
    per = 1 + 3 * replicates
    n = len(plan.seq)
    out = np.zeros((n, 4))
    fallbacks = 0
    chunk = max(1, max_rows // per)
    for c0 in range(0, n, chunk):
        idx = np.arange(c0, min(n, c0 + chunk))
        rows_l, pos_l, base_l = [], [], []
        for j, i in enumerate(idx):
            text = texts[plan.seq[i]]
            a, b = tuple(plan.a[i]), tuple(plan.b[i])
            for r in range(replicates):
                ra, fa = destroy_span(text, a[0], a[1], both, rng, max_redraws)
                rb, fb = destroy_span(text, b[0], b[1], both, rng, max_redraws)
                fallbacks += fa + fb
                pa, ca = _edits(ra, a)
                pb, cb = _edits(rb, b)
                base = j * per + 1 + 3 * r
                # A destroyed, B destroyed, both destroyed (the same draws: common random numbers)
                for row, p, cc in ((base, pa, ca), (base + 1, pb, cb), (base + 2, pa, ca), (base + 2, pb, cb)):
                    rows_l.append(np.full(len(p), row))
                    pos_l.append(p)
                    base_l.append(cc)
        Xv = np.repeat(X[plan.seq[idx]], per, axis=0)
        if rows_l:
            rows, pos, base = np.concatenate(rows_l), np.concatenate(pos_l), np.concatenate(base_l)
            Xv[rows, :4, pos] = 0.0
            Xv[rows, base, pos] = 1.0
        pred = np.asarray(predict(Xv), dtype=np.float64).reshape(len(idx), per)
        out[idx, 0] = pred[:, 0]
        for k in range(3):
            out[idx, k + 1] = pred[:, 1 + k::3].mean(1)
    return Observations(seq=plan.seq.copy(), f_orig=out[:, 0], f_scrA=out[:, 1], f_scrB=out[:, 2],
                        f_scrAB=out[:, 3], fallbacks=int(fallbacks), replicates=replicates,
                        n_candidates=plan.n_candidates)


# --------------------------------------------------------------------------- statistics


def pair_statistics(obs: Observations, min_n: int = 6, n_boot: int = 2000, seed: int = 0) -> dict:
    """Raw statistics of one (neuron, pair) before multiple-testing correction.

    The seeds' columns ``a-o``, ``b-o``, ``ab-a``, ``ab-b``, ``ab-o`` are
    signed Wilcoxon p-values of the paired comparisons ("scr a" vs original,
    ...): negative when the first mean is the larger (see
    :func:`combmotif.stats.signed_p`). ``interaction-p`` is the Wilcoxon
    signed-rank p of epsilon against 0.
    """
    n = len(obs)
    row = {"n": n, "n_candidates": obs.n_candidates, "fallbacks": obs.fallbacks,
           "replicates": obs.replicates, "reason": ""}
    names = ["a-o", "b-o", "ab-a", "ab-b", "ab-o", "interaction-p", "epsilon", "ci_low", "ci_high",
             "effect_A", "effect_A_low", "effect_A_high", "effect_B", "effect_B_low", "effect_B_high",
             "joint"]
    row.update({k: np.nan for k in names})
    if n == 0:
        row["reason"] = "no sequence holds both motifs"
        return row
    o, a, b, ab = obs.f_orig, obs.f_scrA, obs.f_scrB, obs.f_scrAB
    eps = obs.epsilon
    eA, eB = b - ab, a - ab
    rng = np.random.default_rng(seed)
    row["epsilon"] = float(eps.mean())
    row["effect_A"], row["effect_B"] = float(eA.mean()), float(eB.mean())
    row["joint"] = float((o - ab).mean())
    if n < min_n:
        row["reason"] = f"only {n} sequences hold both motifs (< {min_n})"
        return row
    for key, x, y in (("a-o", a, o), ("b-o", b, o), ("ab-a", ab, a), ("ab-b", ab, b), ("ab-o", ab, o)):
        row[key] = stats.signed_p(stats.wilcoxon_p(x - y), x, y)
    # Differences at float32 rounding level are no evidence: the rank test is
    # scale-free and would find "interactions" in an exactly additive model.
    tol = 1e-5 * max(float(np.abs(o).mean()), 1e-3)
    row["interaction-p"] = stats.wilcoxon_p(np.where(np.abs(eps) <= tol, 0.0, eps))
    row["ci_low"], row["ci_high"] = stats.bootstrap_ci(eps, n_boot=n_boot, seed=rng)
    row["effect_A_low"], row["effect_A_high"] = stats.bootstrap_ci(eA, n_boot=n_boot, seed=rng)
    row["effect_B_low"], row["effect_B_high"] = stats.bootstrap_ci(eB, n_boot=n_boot, seed=rng)
    return row


def classify(df: pd.DataFrame, alpha: float = 0.05, min_relative: float = 0.0) -> pd.DataFrame:
    """Add BH ``q`` (over every tested row), ``interaction`` and ``direction``.

    ``min_relative`` > 0 also calls a significant pair additive when
    |epsilon| < min_relative x (|e_A| + |e_B|): with hundreds of sequences a
    trained model's slight non-additivity is significant however small; this
    floor asks for an interaction that matters next to the motifs' own
    effects. The ``reason`` column says when it applied.
    """
    df = df.copy()
    p = pd.to_numeric(df["interaction-p"], errors="coerce").to_numpy()
    df["q"] = stats.bh_qvalues(p)
    eps = df["epsilon"].to_numpy(dtype=float)
    total = df["effect_A"].to_numpy(dtype=float) + df["effect_B"].to_numpy(dtype=float)
    s = np.sign(total)
    tested = np.isfinite(p)
    sig = tested & (df["q"].to_numpy() < alpha)
    scale = np.abs(df["effect_A"].to_numpy(dtype=float)) + np.abs(df["effect_B"].to_numpy(dtype=float))
    small = sig & (np.abs(eps) < min_relative * scale)
    cls = np.where(~tested, "untested",
                   np.where(~sig | small, "additive",
                            np.where(s * eps > 0, "synergistic",
                                     np.where(s * eps < 0, "antagonistic", "unclassified"))))
    df["interaction"] = cls
    reason = np.array(["" if pd.isna(r) else str(r) for r in df["reason"]], dtype=object)
    reason[small] = f"|epsilon| < {min_relative:g} x (|e_A| + |e_B|)"
    df["reason"] = reason
    eA, eB = df["effect_A"].to_numpy(dtype=float), df["effect_B"].to_numpy(dtype=float)
    df["direction"] = np.where((eA > 0) & (eB > 0), "positive",
                               np.where((eA < 0) & (eB < 0), "negative", "mixed"))
    return df


# --------------------------------------------------------------------------- plots


def pair_summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per unordered motif pair (by name) over all neurons that tested it.

    ``interaction`` is the most common class among the tested rows (ties: the
    class with more sequences behind it), ``epsilon`` the sequence-weighted mean
    of their epsilons, ``rows``/``tested`` how many neurons' rows there are.
    """
    out = []
    if not len(df):
        return pd.DataFrame(columns=["motifA_name", "motifB_name", "interaction", "epsilon", "n",
                                     "rows", "tested", "agreeing"])
    keys = [tuple(sorted((str(a), str(b)))) for a, b in zip(df["motifA_name"], df["motifB_name"])]
    for key, grp in df.groupby(pd.Series(keys, index=df.index), sort=True):
        tested = grp[grp["interaction"] != "untested"]
        row = {"motifA_name": key[0], "motifB_name": key[1], "interaction": "untested",
               "epsilon": np.nan, "n": 0, "rows": len(grp), "tested": len(tested), "agreeing": 0}
        if len(tested):
            votes = tested.groupby("interaction")["n"].agg(["size", "sum"])
            cls = votes.sort_values(["size", "sum"], ascending=False, kind="stable").index[0]
            w = tested["n"].to_numpy(dtype=float)
            row.update(interaction=cls, n=int(w.sum()), agreeing=int((tested["interaction"] == cls).sum()),
                       epsilon=float(np.average(tested["epsilon"].to_numpy(dtype=float), weights=w)))
        out.append(row)
    return pd.DataFrame(out)


def plot_interaction_map(df: pd.DataFrame, path: str | Path, title: str = "") -> None:
    """Motif x motif grid coloured by interaction class (:func:`pair_summary` per cell)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    summ = pair_summary(df)
    names = sorted(set(summ["motifA_name"]) | set(summ["motifB_name"]))
    k = max(1, len(names))
    index = {n: i for i, n in enumerate(names)}
    grid = np.full((k, k), CLASSES.index("untested"))
    label = np.full((k, k), "", dtype=object)
    for r in summ.itertuples(index=False):
        i, j = index[r.motifA_name], index[r.motifB_name]
        text = f"{r.epsilon:+.2g}\n{r.agreeing}/{r.tested}" if r.tested else f"0/{r.rows}"
        grid[i, j] = grid[j, i] = CLASSES.index(r.interaction)
        label[i, j] = label[j, i] = text
    cmap = ListedColormap([CLASS_COLOURS[c] for c in CLASSES])
    size = min(12.0, 2.5 + 0.6 * k)
    fig, ax = plt.subplots(figsize=(size + 1.5, size))
    ax.imshow(grid, cmap=cmap, vmin=-0.5, vmax=len(CLASSES) - 0.5)
    for i in range(k):
        for j in range(k):
            if label[i, j]:
                ax.text(j, i, label[i, j], ha="center", va="center", fontsize=6)
    ax.set_xticks(range(len(names)))
    ax.set_yticks(range(len(names)))
    ax.set_xticklabels(names, rotation=90, fontsize=7)
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xticks(np.arange(-0.5, k), minor=True)
    ax.set_yticks(np.arange(-0.5, k), minor=True)
    ax.grid(which="minor", color="#757575", lw=0.4)
    ax.tick_params(which="minor", length=0)
    handles = [plt.Rectangle((0, 0), 1, 1, facecolor=CLASS_COLOURS[c], edgecolor="#757575") for c in CLASSES]
    ax.legend(handles, CLASSES, bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=7, frameon=False)
    ax.set_title(title or "motif interactions", fontsize=9)
    ax.set_xlabel("cell: majority class over the neurons testing the pair; "
                  "mean epsilon; rows agreeing / tested", fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------- config and stage runs


@dataclass
class InteractionConfig:
    """``configs/interaction/<model>.yaml``."""

    model: ModelSpec
    data: DataSpec = field(default_factory=DataSpec)
    results_dir: str | None = path_field(None)
    fragment_threshold: float = 0.9
    max_fragment_sequences: int = 2000
    labels_dir: str | None = path_field(None)
    label_sources: list[str] = field(default_factory=lambda: ["hand", "auto", "template"])
    template: str | None = path_field(None)
    discovery_dir: str | None = path_field(None)
    label_ic: float = 0.5
    label_max_length: int = 8
    max_segments: int = 4
    tomtom_q: float = 0.05
    replicates: int = 10
    max_redraws: int = 50
    max_pair_sequences: int = 500
    min_n: int = 6
    alpha: float = 0.05
    min_relative_epsilon: float = 0.0
    n_boot: int = 2000
    target_index: int = 0
    activation_tracks: Literal["zero", "keep"] = "zero"
    batch_size: int = 1024
    device: str = "auto"
    seed: int = 2024

    def validate(self) -> None:
        if not 0 < self.fragment_threshold <= 1:
            raise ValueError(f"'fragment_threshold' must be in (0, 1]; got {self.fragment_threshold}")
        bad = [s for s in self.label_sources if s not in ("hand", "auto", "template")]
        if bad or not self.label_sources:
            raise ValueError(f"'label_sources' entries must be hand, auto or template; got {bad or '[]'}")
        if self.replicates < 1 or self.max_redraws < 1 or self.min_n < 2:
            raise ValueError("'replicates' and 'max_redraws' must be >= 1, 'min_n' >= 2")
        if not 0 < self.alpha < 1 or self.min_relative_epsilon < 0:
            raise ValueError("'alpha' must be in (0, 1) and 'min_relative_epsilon' >= 0")
        # A count below 1 would select nothing and "finish" with empty tables.
        for key in ("max_fragment_sequences", "max_pair_sequences", "n_boot", "label_max_length",
                    "max_segments", "batch_size"):
            if getattr(self, key) < 1:
                raise ValueError(f"'{key}' must be >= 1; got {getattr(self, key)}")
        if not 0 < self.tomtom_q <= 1:
            raise ValueError(f"'tomtom_q' must be in (0, 1]; got {self.tomtom_q}")
        if self.label_ic < 0 or self.target_index < 0:
            raise ValueError("'label_ic' and 'target_index' must be >= 0")
        check_device(self.device)

    def check_inputs(self, source: str) -> None:
        """Check the label sources' files before any work (a template is read whole).

        A folder that does not exist yet is fine (no hand-written labels, no discovery
        run): those sources are skipped; one that is a file is an error.
        """
        for key, wanted in (("labels_dir", "hand"), ("discovery_dir", "auto")):
            folder = getattr(self, key)
            if folder and wanted in self.label_sources and Path(folder).exists() and not Path(folder).is_dir():
                raise InputError(f"{source}: '{key}' = {folder}: is a file, not a folder")
        if self.template and "template" in self.label_sources:
            try:
                read_labels(self.template)
            except InputError as exc:
                raise InputError(f"{source}: 'template': {exc}") from None


def neuron_dir(stage: Stage, layer: int, neuron: int) -> Path:
    return stage.layer_dir(layer) / f"neuron{neuron}"


def run_fragment_location(stage: Stage, layer: int, force: bool = False) -> Fragments:
    """``conv<L>/fragments.npz`` and ``neuron<k>/fragment_location.yaml`` for every neuron."""
    cfg: InteractionConfig = stage.cfg
    clean_partials(stage.out, depth=0)   # a killed run's temporaries never survive a rerun
    clean_partials(stage.layer_dir(layer), depth=1)
    path = stage.layer_dir(layer) / "fragments.npz"
    if path.is_file() and not force and stage._fresh(path):
        with np.load(path) as z:
            same = ("max_sequences" in z.files and float(z["threshold"]) == cfg.fragment_threshold
                    and int(z["max_sequences"]) == cfg.max_fragment_sequences)
        if same:
            return Fragments.load(path)
    stage.search([layer])
    res = MaxAct.load(stage.maxact_path(layer))
    X, _, _ = stage.data
    frags = locate_fragments(stage.loaded.module, X, res, cfg.fragment_threshold,
                             max_sequences=cfg.max_fragment_sequences, batch_size=cfg.batch_size,
                             device=stage.device, zero_extra_tracks=cfg.activation_tracks == "zero",
                             progress=True)
    for k in range(len(res.neuron_max)):
        write_text(neuron_dir(stage, layer, k) / "fragment_location.yaml", fragment_yaml(frags.of(k)))
    codes = fragment_codes(sequence_codes(X), frags)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, fingerprint=np.array(stage.fingerprint), codes=codes,
                                max_sequences=np.array(cfg.max_fragment_sequences),
                                **{f: np.asarray(getattr(frags, f)) for f in
                                   ("layer", "threshold", "rf") + Fragments._ROWS})
    return frags


def resolve_labels(stage: Stage, layer: int, neuron: int) -> tuple[list[Combination], str]:
    """Combination labels of a neuron and where they came from (first source that has them)."""
    cfg: InteractionConfig = stage.cfg
    # Sources are named relative to the neuron's folder, where labels.yaml records them.
    here = neuron_dir(stage, layer, neuron)
    for source in cfg.label_sources:
        if source == "hand" and cfg.labels_dir:
            for name in (f"conv{layer}_neuron{neuron}.yaml", f"conv{layer}/neuron{neuron}.yaml"):
                path = Path(cfg.labels_dir) / name
                if path.is_file():
                    return dedupe(read_labels(path)), f"hand-written {relative_path(path, here)}"
        if source == "auto":
            disc = Path(cfg.discovery_dir) if cfg.discovery_dir else stage.out.parent / "discovery"
            ndir = disc / f"conv{layer}" / f"neuron{neuron}"
            if (ndir / "segments.meme").is_file():
                combos = propose_labels(ndir / "segments.meme", ndir / "tomtom.tsv", cfg.label_ic,
                                        cfg.max_segments, cfg.tomtom_q, max_length=cfg.label_max_length)
                seg = relative_path(ndir / "segments.meme", here)
                return dedupe(combos), f"proposed from {seg} and tomtom.tsv"
        if source == "template" and cfg.template:
            return dedupe(read_labels(cfg.template)), f"template {relative_path(cfg.template, here)}"
    return [], "no labels (no hand-written file, no NeuronMotif segments, no template)"


def neuron_pairs(stage: Stage, layer: int, neuron: int, frags: Fragments,
                 combos: Sequence[Combination], texts: Sequence[str]) -> tuple[pd.DataFrame, dict]:
    """Mutagenesis and raw statistics of every combination of one neuron."""
    cfg: InteractionConfig = stage.cfg
    X, _, _ = stage.data
    mine = frags.of(neuron)
    ftexts = [texts[s][max(0, st):en] for s, st, en in zip(mine.seq.tolist(), mine.start.tolist(),
                                                          mine.end.tolist())]
    predict = _target_predictor(stage)
    rows, arrays = [], {}
    for ci, combo in enumerate(combos):
        plan = plan_sites(ftexts, mine.seq, mine.start, combo, cfg.max_pair_sequences)
        rng = np.random.default_rng([cfg.seed, layer, neuron, ci])
        obs = mutagenesis(predict, X, texts, plan, combo, cfg.replicates, rng, cfg.max_redraws)
        row = pair_statistics(obs, cfg.min_n, cfg.n_boot, seed=cfg.seed + ci)
        row.update({"task": f"conv{layer}_neuron{neuron}", "layer": layer, "neuron": neuron,
                    "combination": combo.name, "motifA": "|".join(combo.motifA),
                    "motifB": "|".join(combo.motifB), "motifA_name": combo.nameA,
                    "motifB_name": combo.nameB})
        rows.append(row)
        for key in ("seq", "f_orig", "f_scrA", "f_scrB", "f_scrAB"):
            arrays[f"{combo.name}.{key}"] = getattr(obs, key)
    cols = [c for c in STATS_COLUMNS if c not in ("q", "interaction", "direction")]
    return pd.DataFrame(rows, columns=cols), arrays


def _target_predictor(stage: Stage):
    index = stage.cfg.target_index

    def predict(x: np.ndarray) -> np.ndarray:
        out = np.asarray(stage.loaded.predict(x, batch_size=stage.cfg.batch_size))
        if out.ndim == 1:
            return out
        return out[:, index]
    return predict


UNIT_SETTINGS = ("fragment_threshold", "max_fragment_sequences", "replicates", "max_redraws",
                 "max_pair_sequences", "min_n", "n_boot", "seed", "target_index")


def run_scr(stage: Stage, layer: int, neurons: Sequence[int], force: bool = False,
            log=print) -> pd.DataFrame:
    """Mutagenesis of the given neurons, then the layer merge.

    One neuron is a unit: ``labels.yaml``, ``observations.npz`` and ``pairs.csv``,
    then ``stamp.json`` (the weights and data fingerprint, the labels and the
    settings that shape it) written last and removed before the unit is redone.
    A unit whose stamp matches is skipped unless ``force``; one made otherwise,
    or without its stamp (a killed run's), is redone.
    """
    frags = run_fragment_location(stage, layer)
    X, _, _ = stage.data
    texts = None
    skipped = []
    for k in neurons:
        ndir = neuron_dir(stage, layer, k)
        combos, source = resolve_labels(stage, layer, k)
        stamp = json.loads(json.dumps({"fingerprint": stage.fingerprint, "labels": labels_yaml(combos, ""),
                                       "settings": {key: getattr(stage.cfg, key) for key in UNIT_SETTINGS}}))
        made = read_stamp(ndir / "stamp.json")
        if not force and made is not None and (ndir / "pairs.csv").is_file():
            if made == stamp:
                skipped.append(k)
                continue
            log(f"conv{layer} neuron{k}: made with other settings ({settings_changes(made, stamp)}); "
                f"redoing it")
        (ndir / "stamp.json").unlink(missing_ok=True)   # unmarked until the unit is whole again
        n_frag = int((frags.neuron == k).sum())
        if combos and n_frag:
            if texts is None:
                texts = _texts(X)
            df, arrays = neuron_pairs(stage, layer, k, frags, combos, texts)
        else:
            df, arrays = pd.DataFrame(columns=[c for c in STATS_COLUMNS
                                               if c not in ("q", "interaction", "direction")]), {}
        write_text(ndir / "labels.yaml", labels_yaml(combos, f"conv{layer} neuron{k}: {source}"))
        save_npz(ndir / "observations.npz", **arrays)
        with atomic_path(ndir / "pairs.csv") as tmp:
            df.to_csv(tmp, index=False, float_format="%.6g")
        write_json(ndir / "stamp.json", stamp)
        tested = int(np.isfinite(pd.to_numeric(df["interaction-p"], errors="coerce")).sum()) if len(df) else 0
        log(f"conv{layer} neuron{k}: {n_frag} fragments, {len(combos)} combinations ({source}); "
            f"{tested} tested")
        fault_point("mutagenesis")
    if skipped:
        log(f"conv{layer}: {len(skipped)} neurons already done, skipped "
            f"({_ranges(skipped)}; use --force to redo)")
    return merge_layer(stage, layer)


def _ranges(values: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0-2, 5"``."""
    out, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            out.append(f"{start}-{v}" if v != start else f"{v}")
            start = None
    return ", ".join(out)


def _texts(X: np.ndarray) -> list[str]:
    from .sequences import decode
    return decode(sequence_codes(X))


def _read_pairs(path: Path) -> pd.DataFrame:
    # Patterns such as "NA" must stay strings: only empty cells are missing.
    return pd.read_csv(path, keep_default_na=False, na_values=[""],
                       dtype={"motifA": str, "motifB": str, "motifA_name": str, "motifB_name": str,
                              "reason": str, "task": str, "combination": str})


def merge_layer(stage: Stage, layer: int) -> pd.DataFrame:
    """BH over every pair tested in the layer's neuron units -> motif_pair_stats.csv + map."""
    cfg: InteractionConfig = stage.cfg
    ldir = stage.layer_dir(layer)
    parts = [_read_pairs(p) for p in sorted(ldir.glob("neuron*/pairs.csv"),
                                            key=lambda p: int(p.parent.name.removeprefix("neuron")))]
    parts = [p for p in parts if len(p)]
    df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=[c for c in STATS_COLUMNS if c not in ("q", "interaction", "direction")])
    df = classify(df, cfg.alpha, cfg.min_relative_epsilon)[STATS_COLUMNS]
    with atomic_path(ldir / "motif_pair_stats.csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(ldir / "motif_pair_summary.csv") as tmp:
        pair_summary(df).to_csv(tmp, index=False, float_format="%.6g")
    plot_interaction_map(df, ldir / "interaction_map.png",
                         f"{stage.name} conv{layer}: motif pairs (BH q < {cfg.alpha:g})")
    return df


def summary_line(df: pd.DataFrame, layer: int) -> str:
    c = df["interaction"].value_counts() if len(df) else {}
    return (f"conv{layer}: {len(df)} pairs: " +
            ", ".join(f"{c.get(k, 0)} {k}" for k in CLASSES))


def run_sequence_scope(stage: Stage, combos: Sequence[Combination], tag: str = "sequences",
                       log=print, reference=None) -> pd.DataFrame:
    """The same mutagenesis and test on whole sequences instead of a neuron's fragments.

    Every scanned sequence holding both motifs is a candidate (the first
    ``max_pair_sequences`` by index are used). This measures what the model
    does with a pair regardless of which neuron carries it; the synthetic
    checks use it with the planted pairs. Writes ``interaction/<tag>/``.

    ``reference`` (optional) maps the same (n, C, L) variants to a second
    prediction, e.g. a synthetic set's noise-free planted function; its mean
    epsilon on the very same variants (same draws) goes to ``reference_epsilon``.
    It tells a pair the model did not learn apart from one the test missed.
    """
    cfg: InteractionConfig = stage.cfg
    X, _, _ = stage.data
    texts = _texts(X)
    seq = np.arange(len(texts))
    predict = _target_predictor(stage)
    rows = []
    for ci, combo in enumerate(combos):
        plan = plan_sites(texts, seq, np.zeros(len(seq), np.int64), combo, cfg.max_pair_sequences)
        plan.n_candidates = len(texts)
        rng = np.random.default_rng([cfg.seed, 0, 0, ci])
        obs = mutagenesis(predict, X, texts, plan, combo, cfg.replicates, rng, cfg.max_redraws)
        row = pair_statistics(obs, cfg.min_n, cfg.n_boot, seed=cfg.seed + ci)
        if reference is not None:
            # The destruction draws depend only on the seed and the texts, so the
            # same seed rebuilds exactly the variants the model was given.
            ref = mutagenesis(reference, X, texts, plan, combo, cfg.replicates,
                              np.random.default_rng([cfg.seed, 0, 0, ci]), cfg.max_redraws)
            row["reference_epsilon"] = float(ref.epsilon.mean()) if len(ref) else np.nan
        row.update({"task": tag, "layer": 0, "neuron": -1, "combination": combo.name,
                    "motifA": "|".join(combo.motifA), "motifB": "|".join(combo.motifB),
                    "motifA_name": combo.nameA, "motifB_name": combo.nameB})
        rows.append(row)
        log(f"{combo.name} ({combo.nameA} x {combo.nameB}): {len(obs)} sequences, "
            f"{obs.fallbacks} fallbacks")
    extra = ["reference_epsilon"] if reference is not None else []
    df = classify(pd.DataFrame(rows), cfg.alpha, cfg.min_relative_epsilon)[STATS_COLUMNS + extra]
    out = stage.out / tag
    with atomic_path(out / "motif_pair_stats.csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    plot_interaction_map(df, out / "interaction_map.png", f"{stage.name}: motif pairs over whole sequences")
    return df


def planted_function(truth: dict):
    """The noise-free planted label of a synthetic set as a ``predict`` for :func:`mutagenesis`."""
    import importlib

    from .evaluate import SYNTHETIC_MODULES

    synth = importlib.import_module(SYNTHETIC_MODULES[truth["task"]])

    def predict(x: np.ndarray) -> np.ndarray:
        return np.asarray(synth.noiseless(x, truth), dtype=np.float64)
    return predict


def compare_with_truth(df: pd.DataFrame, truth: dict) -> pd.DataFrame:
    """One row per planted pair: the planted class and the calls of the rows testing it.

    A row tests a planted pair when its two motifs are the pair's two
    consensus sequences, in either order, up to flanks: one IUPAC pattern
    inside the other (so proposed labels such as ``GACTTCCG`` count for
    ``ACTTCCG``; a regex label counts only when equal). ``called`` is the most common class
    among the tested rows (ties: the class with more sequences behind it);
    ``agree`` the fraction of tested rows with the planted class; ``epsilon``,
    ``q`` and ``n`` describe the row with the most sequences, and
    ``planted_epsilon`` is that row's ``reference_epsilon`` where the table has one
    (what the planted rule itself gives on the same variants).
    """
    cons = {m["name"]: m["consensus"].upper().replace("U", "T") for m in truth["motifs"]}
    out = []
    for p in truth["pairs"]:
        ca, cb = cons[p["motifA"]], cons[p["motifB"]]
        mine = df[[(_label_is(a, ca) and _label_is(b, cb)) or (_label_is(a, cb) and _label_is(b, ca))
                   for a, b in zip(df["motifA"].astype(str), df["motifB"].astype(str))]]
        tested = mine[mine["interaction"] != "untested"]
        row = {"pair": p["name"], "motifA": p["motifA"], "motifB": p["motifB"], "planted": p["class"],
               "planted_interaction": p["interaction"], "rows": len(mine), "tested": len(tested),
               "called": "untested", "agree": np.nan, "epsilon": np.nan, "q": np.nan, "n": 0}
        if len(tested):
            votes = tested.groupby("interaction")["n"].agg(["size", "sum"])
            called = votes.sort_values(["size", "sum"], ascending=False, kind="stable").index[0]
            best = tested.sort_values(["n", "q"], ascending=[False, True], kind="stable").iloc[0]
            row.update(called=called, epsilon=best["epsilon"], q=best["q"], n=int(best["n"]),
                       agree=float((tested["interaction"] == p["class"]).mean()))
            if "reference_epsilon" in tested:
                row["planted_epsilon"] = best["reference_epsilon"]
        out.append(row)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- command line


def main_fragment_location(argv: list[str] | None = None) -> None:
    """``run_fragment_location.sh <layer> <config>``."""
    from .cli import run_cli

    def _main(args: argparse.Namespace) -> int:
        cfg = load_config(args.config, InteractionConfig)
        stage = Stage(cfg, args.config, "interaction")
        stage.check_layers([args.layer], key=None)
        frags = run_fragment_location(stage, args.layer, force=args.force)
        n_neurons = len(np.unique(frags.neuron))
        print(f"conv{args.layer}: {len(frags)} windows above {cfg.fragment_threshold:g} x max in "
              f"{len(np.unique(frags.seq))} sequences for {n_neurons} neurons -> "
              f"{stage.layer_dir(args.layer) / 'fragments.npz'}")
        return 0

    p = argparse.ArgumentParser(description="Locate the fragments that drive each neuron of a layer")
    p.add_argument("layer", type=int, help="conv layer (1-based)")
    p.add_argument("config", help="configs/interaction/<model>.yaml")
    p.add_argument("--force", action="store_true", help="recompute")
    run_cli(_main, p, argv)


def main_scr(argv: list[str] | None = None) -> None:
    """``run_scr.sh <layer> <first-neuron> <last-neuron> <config>`` (neurons half-open, as the seeds)."""
    from .cli import run_cli

    def _main(args: argparse.Namespace) -> int:
        cfg = load_config(args.config, InteractionConfig)
        cfg.check_inputs(args.config)
        stage = Stage(cfg, args.config, "interaction")
        n = len(stage.check_layers([args.layer], key=None)[args.layer])
        stage.check_target()
        try:
            neurons = parse_range(f"{args.first}-{args.last}", n=n)
        except ConfigError as exc:
            raise ConfigError(f"neurons {args.first} {args.last} (first, one past the last) of "
                              f"conv{args.layer}: {exc}") from None
        df = run_scr(stage, args.layer, neurons, force=args.force)
        print(summary_line(df, args.layer) + f" -> {stage.layer_dir(args.layer) / 'motif_pair_stats.csv'}")
        stage.refresh_front_page()
        return 0

    p = argparse.ArgumentParser(description="Motif-pair mutagenesis and epistasis for neurons of a layer")
    p.add_argument("layer", type=int, help="conv layer (1-based)")
    p.add_argument("first", type=int, help="first neuron (0-based)")
    p.add_argument("last", type=int, help="one past the last neuron")
    p.add_argument("config", help="configs/interaction/<model>.yaml")
    p.add_argument("--force", action="store_true", help="redo neurons that are already done")
    run_cli(_main, p, argv)


def main_check_truth(argv: list[str] | None = None) -> None:
    """Test the planted pairs of a synthetic set (or of a hand-written truth) and compare the
    calls with their classes."""
    from .cli import run_cli
    from .data.truth import is_planted, load_truth

    def _main(args: argparse.Namespace) -> int:
        cfg = load_config(args.config, InteractionConfig)
        stage = Stage(cfg, args.config, "interaction")
        stage.check_layers(args.layer or [], key=None)
        _, _, meta = stage.data
        truth = load_truth(args.truth or Path(meta["path"]).parent / "truth.json")
        if not truth["pairs"]:
            raise InputError(f"{truth.get('source') or args.truth}: 'pairs' is empty: no pair to check")
        combos = truth_labels(truth)
        # A hand-written truth has no planted rule: no planted_epsilon column then.
        reference = planted_function(truth) if is_planted(truth) else None
        df = run_sequence_scope(stage, combos, "truth_pairs", reference=reference)
        cmp = compare_with_truth(df, truth)
        print("planted pairs tested over whole sequences (epsilon: the model's; planted_epsilon: the "
              "planted rule's on the same variants):")
        print(cmp.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        hits = int((cmp["called"] == cmp["planted"]).sum())
        print(f"{hits}/{len(cmp)} planted pairs get their planted class "
              f"(-> {stage.out / 'truth_pairs' / 'motif_pair_stats.csv'})")
        for L in args.layer or []:
            path = stage.layer_dir(L) / "motif_pair_stats.csv"
            if path.is_file():
                layer_cmp = compare_with_truth(pd.read_csv(path), truth)
                print(f"conv{L} neuron-level rows testing planted pairs:")
                print(layer_cmp.to_string(index=False))
        return 0

    p = argparse.ArgumentParser(description="Check interaction calls against a synthetic set's truth.json "
                                            "or a hand-written truth")
    p.add_argument("config", help="configs/interaction/<model>.yaml")
    p.add_argument("--truth", help="truth.json or a hand-written truth file (default: truth.json next to "
                                   "the data file)")
    p.add_argument("--layer", type=int, action="append", help="also summarise conv<L>'s neuron-level rows")
    run_cli(_main, p, argv)
