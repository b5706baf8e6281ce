"""Combination labels: two motifs, each one or more patterns, and where they come from.

Labels come from a hand-written YAML (the seeds' layout), else are proposed
from a neuron's NeuronMotif segments and their Tomtom matches
(:func:`propose_labels`), else from a template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import yaml

from ..errors import InputError
from ..motifs.formats import information_content
from ..sequences import DNA, IUPAC, pattern_regex


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
        """Whether A and B are the same motif (a pair of sites is then unordered)."""
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
    """``{combinationN: {motifA: [...], motifB: [...], nameA?, nameB?}}`` -> combinations.

    Parameters
    ----------
    data : dict
        The parsed YAML.
    source : str
        Named in errors.

    Returns
    -------
    list of Combination
    """
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
    """Combination labels from a YAML file in the seeds' layout (:func:`parse_labels`).

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    list of Combination
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError:
        raise InputError(f"{path}: combination labels not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return parse_labels(data or {}, str(path))


def labels_yaml(combos: Sequence[Combination], header: str = "") -> str:
    """The seeds' layout; names (Tomtom matches) are kept as nameA/nameB.

    Parameters
    ----------
    combos : sequence of Combination
        The labels.
    header : str
        Written as comment lines first.

    Returns
    -------
    str
    """
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
    """Drop repeated combinations, including (B, A) after (A, B).

    Parameters
    ----------
    combos : sequence of Combination
        The labels.

    Returns
    -------
    list of Combination
    """
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

    Parameters
    ----------
    ppm : numpy.ndarray
        (W, 4) probabilities (rows are normalised).
    ic_min : float
        Bits below which a column is ``N``.
    mass : float
        Probability the letters of a column must reach.
    max_length : int, optional
        Longest pattern kept.

    Returns
    -------
    str
    """
    p = np.asarray(ppm, dtype=np.float64)
    p = p / p.sum(1, keepdims=True)
    ic = information_content(p)
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
    """Tomtom's 10-column TSV (comment lines start with '#').

    Parameters
    ----------
    path : str or Path
        The table; a missing or empty one reads as no rows.

    Returns
    -------
    pandas.DataFrame
    """
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

    Parameters
    ----------
    segments_meme : str or Path
        The neuron's ``segments.meme``.
    tomtom_tsv : str or Path, optional
        Its ``tomtom.tsv``.
    ic_min, max_length
        As :func:`ppm_iupac`.
    max_segments : int
        Distinct patterns kept.
    q_max : float
        Tomtom q-value a name needs.
    min_length : int
        Fewest informative letters a pattern needs.

    Returns
    -------
    list of Combination
    """
    from ..motifs.formats import read_motifs

    if "MOTIF" not in Path(segments_meme).read_text():
        return []  # NeuronMotif found no segment for this neuron
    motifs = read_motifs(segments_meme, "meme")
    names = _tomtom_names(tomtom_tsv, q_max)
    patterns: dict[str, str] = {}
    count: dict[str, int] = {}
    for m in sorted(motifs, key=lambda m: -_quality(m)):
        pat = ppm_iupac(m.ppm, ic_min, max_length=max_length)
        if len(pat) - pat.count("N") < min_length:
            continue
        # Segments of one motif cut with different flanks (ACTTCCG, GACTTCCG) are one motif.
        pat = next((p for p in patterns if same_motif(p, pat)), pat)
        if pat not in patterns and len(patterns) >= max_segments:
            continue
        count[pat] = count.get(pat, 0) + 1
        # A Tomtom name beats a segment id, whichever segment of the pattern has it.
        if pat not in patterns or (patterns[pat] not in names.values() and m.name in names):
            patterns[pat] = names.get(m.name, m.name)
    return _pair_patterns(patterns, count)


def _quality(m) -> float:
    """NeuronMotif's segment quality (``q=`` in the MEME description), else total information."""
    found = re.search(r"(?:^|,)q=([-+0-9.eE]+)", m.altname or "")
    return float(found.group(1)) if found else m.total_information


def family_labels(segments_meme: str | Path, seg_family: dict[str, str], families: Sequence,
                  max_segments: int = 4) -> list[Combination]:
    """Combination labels of a neuron spoken of as model-wide motif families.

    As :func:`propose_labels`, but each segment stands for its family
    (:mod:`combmotif.motifs.families`): the family's pattern and name, so two
    segments of one family are one motif (paired with itself, never with each
    other), and a family whose pattern is too degenerate to be a label is skipped.

    Parameters
    ----------
    segments_meme : str or Path
        The neuron's ``segments.meme``.
    seg_family : dict of str to str
        Segment motif_id -> family id.
    families : sequence of Family
        The model's families (``id``, ``pattern``, ``name``, ``usable``).
    max_segments : int
        Distinct families kept, best segments first.

    Returns
    -------
    list of Combination
    """
    from ..motifs.formats import read_motifs

    if "MOTIF" not in Path(segments_meme).read_text():
        return []
    by_id = {f.id: f for f in families}
    patterns: dict[str, str] = {}
    count: dict[str, int] = {}
    for m in sorted(read_motifs(segments_meme, "meme"), key=lambda m: -_quality(m)):
        fam = by_id.get(seg_family.get(m.name, ""))
        if fam is None or not fam.usable:
            continue
        pat = next((p for p in patterns if same_motif(p, fam.pattern)), fam.pattern)
        if pat not in patterns and len(patterns) >= max_segments:
            continue
        count[pat] = count.get(pat, 0) + 1
        patterns.setdefault(pat, fam.name)
    return _pair_patterns(patterns, count)


def _tomtom_names(tomtom_tsv: str | Path | None, q_max: float) -> dict[str, str]:
    """Segment id -> its best Tomtom target with q <= ``q_max``."""
    if tomtom_tsv is None or not Path(tomtom_tsv).is_file():
        return {}
    tt = read_tomtom(tomtom_tsv)
    qcol = "q-value" if "q-value" in tt.columns else None
    if not (qcol and len(tt)):
        return {}
    tt = tt[pd.to_numeric(tt[qcol], errors="coerce") <= q_max]
    tt = tt.sort_values(qcol, kind="stable").drop_duplicates("Query_ID")
    return dict(zip(tt["Query_ID"].astype(str), tt["Target_ID"].astype(str)))


def _pair_patterns(patterns: dict[str, str], count: dict[str, int]) -> list[Combination]:
    """Every pair of distinct patterns, and a pattern with itself when two segments hold it."""
    pats = list(patterns)
    combos = []
    for i in range(len(pats)):
        for j in range(i, len(pats)):
            if i == j and count[pats[i]] < 2:
                continue
            combos.append(Combination(f"combination{len(combos) + 1}", [pats[i]], [pats[j]],
                                      patterns[pats[i]], patterns[pats[j]]))
    return combos


def same_motif(p: str, q: str) -> bool:
    """Whether one IUPAC pattern occurs inside the other (IUPAC codes compatible).

    Parameters
    ----------
    p, q : str
        IUPAC patterns.

    Returns
    -------
    bool
    """
    short, long_ = (p, q) if len(p) <= len(q) else (q, p)
    a = [set(IUPAC[c]) for c in short]
    b = [set(IUPAC[c]) for c in long_]
    return any(all(x & y for x, y in zip(a, b[i:i + len(a)])) for i in range(len(b) - len(a) + 1))
