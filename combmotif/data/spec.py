"""A YAML spec of planted motifs, effects and pair rules for the synthetic MRL generator.

Users plant their own ground truth with ``combmotif generate mrl --spec FILE
--out DIR``. The task is MRL only for now: 50-nt 5'UTRs, the CDS taken to start
right after them (the MRL model's input)::

    task: mrl            # only mrl (50-nt UTRs)
    n: 60000             # UTRs (default 100000)
    seed: 7              # default 0
    length: 50           # only 50
    baseline: 5.0        # label with no motif (default 5.0)
    target_r2: 0.87      # noise ceiling r2 to aim at (default 0.87) ... or noise_sd: 0.4
    free_span: 50        # position-free motifs and pairs are planted in 0..free_span-1 (default length)
    description: free text
    motifs:
      - {name: mA, consensus: TTCGCA, effect: 0.4, planted_frequency: 0.15}
      # optional per motif: start_min, start_max (the motif counts, and is planted, only with its
      # start in this window), frame: in | out (an ATG-like rule relative to the CDS at 50;
      # then planted_frequency must be 0), region, rule (free text)
    pairs:               # the pair rules
      - name: mA+mB              # default "<motifA>+<motifB>"
        motifA: mA
        motifB: mB
        interaction: 0.8         # added when the rule holds
        arrangements:            # default: presence of both anywhere, any order
          - {order: AB, gap: [3, 3]}   # A 5' of B; gap = bases between the end of A and the start of B
          - {order: BA, gap: [0, 6]}   # several arrangements = OR; order: any = either order
        syntax: or               # optional: hard | soft | order | or (derived when absent)
        planted_co_frequency: 0.08    # UTRs receiving the pair in a rule arrangement (default 0.08)
        control_frequency: 0.08       # UTRs receiving A and B at an order/gap OUTSIDE the rule (default 0)
        control_gap_max: 18           # largest control gap (default: the rule's largest gap + 10)

A gap may be one integer or ``[min, max]``; an arrangement without a gap
allows any gap that fits the UTR. Everything is checked before any work; a
mistake is one :class:`~combmotif.errors.InputError` line naming the file, the
key and the value. The label rule and truth.json are those of
:mod:`combmotif.data.synthetic_mrl` (the noise-free label is recomputed from the
final sequence: natural occurrences count). A spec without ``arrangements``
gives the same set as the built-in tables (``generate_dataset/specs/mrl_default.yaml``
is the shipped set, byte for byte).

:func:`random_spec` draws a spec with other motifs and pairs (generalisation
benchmark); :func:`write_spec` writes one.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import InputError
from ..io import write_text
from .grammar import GRAMMAR_SPEC, unit_combos
from .planting import iupac_mask
from .truth_schema import check_arrangements, check_entry, check_lists, derive_syntax, is_number

TOP_KEYS = ("task", "n", "seed", "length", "baseline", "target_r2", "noise_sd", "free_span",
            "description", "motifs", "pairs")
MOTIF_KEYS = ("name", "consensus", "effect", "planted_frequency", "start_min", "start_max", "frame",
              "region", "rule")
PAIR_KEYS = ("name", "motifA", "motifB", "interaction", "arrangements", "syntax", "planted_co_frequency",
             "control_frequency", "control_gap_max")
LENGTH = 50
__all__ = ["read_spec", "check_spec", "spec_tables", "make_from_spec", "write_spec", "random_spec",
           "random_motifs", "dissimilar", "GRAMMAR_SPEC"]


def read_spec(path: str | os.PathLike) -> dict:
    """Read and check a spec file (YAML; see the module docstring).

    Parameters
    ----------
    path : path-like
        The spec.

    Returns
    -------
    dict
        The checked spec with defaults filled in (:func:`check_spec`).

    Raises
    ------
    InputError
        A missing or unreadable file, or any bad key or value (one line naming file and key).
    """
    import yaml

    src = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{src}: spec file not found" + (" (it is a directory)" if p.is_dir() else ""))
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{src}: not UTF-8 text (byte {exc.start})") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{src}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return check_spec(data, src)


def _number(value: Any, where: str, lo: float | None = None, hi: float | None = None,
            integer: bool = False) -> float | int:
    ok = (isinstance(value, int) and not isinstance(value, bool)) if integer else is_number(value)
    if not ok or (lo is not None and value < lo) or (hi is not None and value > hi):
        kind = "an integer" if integer else "a number"
        rng = "" if lo is None else f" in [{lo:g}, {hi:g}]" if hi is not None else f" >= {lo:g}"
        raise InputError(f"{where} must be {kind}{rng}; got {value!r}")
    return int(value) if integer else float(value)


def _unknown(entry: Mapping[str, Any], known: tuple, where: str) -> None:
    bad = [k for k in entry if k not in known]
    if bad:
        raise InputError(f"{where}: unknown key '{bad[0]}' (known: {', '.join(known)})")


def check_spec(spec: Any, source: str = "spec") -> dict:
    """Check a spec dict and fill in its defaults.

    Parameters
    ----------
    spec : mapping
        The spec, as read from YAML.
    source : str, optional
        Its file, for the messages.

    Returns
    -------
    dict
        A new dict: top-level defaults set, numbers as float (int for counts), motifs with
        ``planted_frequency``, pairs with ``name``, ``planted_co_frequency`` and, when they
        have arrangements, each as ``{order, gap: [min, max]}`` plus ``syntax``.

    Raises
    ------
    InputError
        ``<source>: <key> ...`` for the first bad key or value.
    """
    if not isinstance(spec, Mapping):
        raise InputError(f"{source}: top level must be a mapping with 'motifs' (and 'pairs')")
    _unknown(spec, TOP_KEYS, source)
    if spec.get("task", "mrl") != "mrl":
        raise InputError(f"{source}: 'task' = {spec['task']!r}: only 'mrl' (50-nt 5'UTRs) is supported")
    if spec.get("length", LENGTH) != LENGTH:
        raise InputError(f"{source}: 'length' = {spec['length']!r}: only {LENGTH} (the MRL model's UTRs)")
    if "target_r2" in spec and "noise_sd" in spec:
        raise InputError(f"{source}: give 'target_r2' or 'noise_sd', not both")
    out: dict[str, Any] = {"task": "mrl", "n": _number(spec.get("n", 100_000), f"{source}: 'n'", 100, integer=True),
                           "seed": _number(spec.get("seed", 0), f"{source}: 'seed'", 0, integer=True),
                           "length": LENGTH,
                           "baseline": _number(spec.get("baseline", 5.0), f"{source}: 'baseline'")}
    if "noise_sd" in spec:
        out["noise_sd"] = _number(spec["noise_sd"], f"{source}: 'noise_sd'", 0)
    else:
        out["target_r2"] = _number(spec.get("target_r2", 0.87), f"{source}: 'target_r2'", 0, 1)
        if not 0 < out["target_r2"] < 1:
            raise InputError(f"{source}: 'target_r2' must be in (0, 1); got {spec['target_r2']!r}")
    out["free_span"] = _number(spec.get("free_span", LENGTH), f"{source}: 'free_span'", 1, LENGTH, integer=True)
    if "description" in spec:
        out["description"] = str(spec["description"])
    check_lists(spec, source)
    motifs = [_check_motif(m, f"{source}: motifs[{i}]") for i, m in enumerate(spec["motifs"])]
    names = [m["name"] for m in motifs]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise InputError(f"{source}: motifs[{i}].name {name!r} is used twice")
    lengths = {m["name"]: len(m["consensus"]) for m in motifs}
    pairs = [_check_pair(p, f"{source}: pairs[{i}]", lengths, out["free_span"])
             for i, p in enumerate(spec.get("pairs") or [])]
    pnames = [p["name"] for p in pairs]
    for i, name in enumerate(pnames):
        if name in pnames[:i]:
            raise InputError(f"{source}: pairs[{i}].name {name!r} is used twice")
    out["motifs"], out["pairs"] = motifs, pairs
    return out


def _check_motif(m: Any, where: str) -> dict:
    """One checked spec motif (keys as given, numbers as float, ``planted_frequency`` set)."""
    check_entry(m, where)
    _unknown(m, MOTIF_KEYS, where)
    name = m.get("name")
    if not isinstance(name, str) or not name or any(c.isspace() or c in "+/" for c in name):
        raise InputError(f"{where}.name must be a name without spaces, '+' or '/'; got {name!r}")
    cons = m.get("consensus")
    if not isinstance(cons, str):
        raise InputError(f"{where}.consensus must be an IUPAC string; got {cons!r}")
    iupac_mask(cons, source=f"{where}.consensus")
    cons = cons.strip().upper().replace("U", "T")
    if not 1 <= len(cons) <= LENGTH:
        raise InputError(f"{where}.consensus {cons!r} must be 1-{LENGTH} letters long")
    if "effect" not in m:
        raise InputError(f"{where} ({name}) is missing key 'effect'")
    out = dict(m, name=name, consensus=cons, effect=_number(m["effect"], f"{where}.effect"),
               planted_frequency=_number(m.get("planted_frequency", 0.15), f"{where}.planted_frequency", 0, 1))
    top = LENGTH - len(cons)
    for key in ("start_min", "start_max"):
        if key in m:
            out[key] = _number(m[key], f"{where}.{key}", 0, top, integer=True)
    if out.get("start_min", 0) > out.get("start_max", top):
        raise InputError(f"{where}: start_min {out['start_min']} > start_max {out.get('start_max', top)}")
    if m.get("frame") not in (None, "in", "out"):
        raise InputError(f"{where}.frame must be in, out or null; got {m['frame']!r}")
    if m.get("frame") and out["planted_frequency"] > 0:
        raise InputError(f"{where}: a motif with a frame rule is not planted; set planted_frequency: 0")
    for key in ("region", "rule"):
        if key in m and not isinstance(m[key], str):
            raise InputError(f"{where}.{key} must be text; got {m[key]!r}")
    return out


def _check_pair(p: Any, where: str, lengths: Mapping[str, int], free_span: int) -> dict:
    """One checked spec pair; arrangements as ``{order, gap: [min, max]}`` (``lengths``: motif -> nt)."""
    check_entry(p, where)
    _unknown(p, PAIR_KEYS, where)
    for side in ("motifA", "motifB"):
        if p.get(side) not in lengths:
            raise InputError(f"{where}.{side} names unknown motif {p.get(side)!r} "
                             f"(motifs: {', '.join(lengths)})")
    a, b = p["motifA"], p["motifB"]
    if a == b:
        raise InputError(f"{where}: motifA and motifB are both {a!r}; a pair needs two motifs")
    if "interaction" not in p:
        raise InputError(f"{where} is missing key 'interaction'")
    out = {"name": p.get("name", f"{a}+{b}"), "motifA": a, "motifB": b,
           "interaction": _number(p["interaction"], f"{where}.interaction"),
           "planted_co_frequency": _number(p.get("planted_co_frequency", 0.08),
                                           f"{where}.planted_co_frequency", 0, 1)}
    if not isinstance(out["name"], str) or not out["name"] or any(c.isspace() for c in out["name"]):
        raise InputError(f"{where}.name must be a name without spaces; got {out['name']!r}")
    widest = LENGTH - lengths[a] - lengths[b]
    arr = [_check_arrangement(x, f"{where}.arrangements[{j}]", widest)
           for j, x in enumerate(_arrangement_list(p.get("arrangements"), f"{where}.arrangements"))]
    if arr == [{"order": "any", "gap": [0, widest]}] and "syntax" not in p:
        arr = []        # "any order, any gap" is the presence rule
    ctrl = _number(p.get("control_frequency", 0.0), f"{where}.control_frequency", 0, 1)
    if not arr:
        for key in ("control_frequency", "control_gap_max", "syntax"):
            if key in p and p[key] not in (0, 0.0, None, "presence"):
                raise InputError(f"{where}.{key} = {p[key]!r} needs 'arrangements' (a presence rule has "
                                 "no arrangement outside it)")
        return out
    out.update(arrangements=arr, control_frequency=ctrl)
    if "control_gap_max" in p:
        out["control_gap_max"] = _number(p["control_gap_max"], f"{where}.control_gap_max", 0, widest,
                                         integer=True)
    truth_form = [{"order": x["order"], "gap_min": x["gap"][0], "gap_max": x["gap"][1]} for x in arr]
    out["syntax"] = p.get("syntax") or derive_syntax(truth_form)
    check_arrangements({"arrangements": truth_form, "syntax": out["syntax"]}, where)
    rule, control = unit_combos(dict(out, arrangements=truth_form), lengths[a], lengths[b], free_span)
    if out["planted_co_frequency"] > 0 and not len(rule):
        raise InputError(f"{where}.arrangements: no rule gap fits the planting region (free_span {free_span} "
                         f"nt: gaps up to {free_span - lengths[a] - lengths[b]} with {a} and {b})")
    if ctrl > 0 and not len(control):
        raise InputError(f"{where}.control_frequency = {ctrl:g}: no order/gap outside the rule fits "
                         f"(raise control_gap_max or set control_frequency: 0)")
    return out


def _arrangement_list(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        raise InputError(f"{where} must be a non-empty list of {{order, gap}}; got {value!r}")
    return value


def _check_arrangement(x: Any, where: str, widest: int) -> dict:
    """``{order, gap}`` -> ``{"order", "gap": [min, max]}``; a gap must fit the 50-nt UTR."""
    check_entry(x, where)
    _unknown(x, ("order", "gap"), where)
    order = x.get("order", "any")
    if order not in ("AB", "BA", "any"):
        raise InputError(f"{where}.order must be AB, BA or any; got {order!r}")
    gap = x.get("gap", [0, widest])
    if isinstance(gap, int) and not isinstance(gap, bool):
        gap = [gap, gap]
    if (not isinstance(gap, list) or len(gap) != 2
            or not all(isinstance(g, int) and not isinstance(g, bool) for g in gap) or not 0 <= gap[0] <= gap[1]):
        raise InputError(f"{where}.gap must be an integer or [min, max] with 0 <= min <= max; got {gap!r}")
    if gap[1] > widest:
        raise InputError(f"{where}.gap = {gap!r} does not fit the {LENGTH}-nt UTR with these two motifs "
                         f"(largest gap {widest})")
    return {"order": order, "gap": list(gap)}


def spec_tables(spec: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """A checked spec's motifs and pairs as the generator's rule tables (truth.json form).

    Parameters
    ----------
    spec : mapping
        A spec from :func:`check_spec` or :func:`read_spec`.

    Returns
    -------
    motifs, pairs : list of dict
        Motif entries as given; pair entries with ``arrangements`` as
        ``{order, gap_min, gap_max}`` (presence pairs: name, motifA, motifB,
        interaction, planted_co_frequency only, as the built-in tables).
    """
    motifs = copy.deepcopy(list(spec["motifs"]))
    pairs = []
    for p in spec["pairs"]:
        q = {k: p[k] for k in ("name", "motifA", "motifB", "interaction", "planted_co_frequency")}
        if p.get("arrangements"):
            q["syntax"] = p["syntax"]
            q["arrangements"] = [{"order": x["order"], "gap_min": x["gap"][0], "gap_max": x["gap"][1]}
                                 for x in p["arrangements"]]
            q["control_frequency"] = p["control_frequency"]
            if "control_gap_max" in p:
                q["control_gap_max"] = p["control_gap_max"]
        pairs.append(q)
    return motifs, pairs


def make_from_spec(spec: Mapping[str, Any], n: int | None = None, seed: int | None = None,
                   noise_sd: float | None = None, target_r2: float | None = None):
    """Generate the set a spec describes (arguments given here override the spec's).

    Parameters
    ----------
    spec : mapping
        A checked spec.
    n, seed, noise_sd, target_r2 : optional
        Overrides (the command line's flags).

    Returns
    -------
    tuple
        ``(df, truth)`` as :func:`combmotif.data.synthetic_mrl.make_mrl`.
    """
    from .synthetic_mrl import make_mrl

    motifs, pairs = spec_tables(spec)
    if noise_sd is None and target_r2 is None:
        noise_sd, target_r2 = spec.get("noise_sd"), spec.get("target_r2", 0.87)
    return make_mrl(n=spec["n"] if n is None else n, seed=spec["seed"] if seed is None else seed,
                    noise_sd=noise_sd, target_r2=0.87 if target_r2 is None else target_r2,
                    baseline=spec["baseline"], motifs=motifs, pairs=pairs, free_span=spec["free_span"])


def write_spec(path: str | os.PathLike, spec: Mapping[str, Any]) -> None:
    """Write a spec as YAML, atomically, after checking it (``read_spec`` gives it back).

    Parameters
    ----------
    path : path-like
        The file to write.
    spec : mapping
        The spec (checked first; nothing is written when it is bad).

    Raises
    ------
    InputError
        When the spec fails :func:`check_spec`.
    """
    import yaml

    checked = check_spec(spec, str(path))
    write_text(path, yaml.safe_dump(checked, sort_keys=False, default_flow_style=None, width=100))


def dissimilar(a: str, b: str, min_overlap: int = 5, min_mismatches: int = 3) -> bool:
    """Whether two motifs differ in >= ``min_mismatches`` bases at every offset overlapping >= ``min_overlap``.

    Parameters
    ----------
    a, b : str
        ACGT strings.
    min_overlap, min_mismatches : int, optional
        The alignment rule (defaults 5 and 3).

    Returns
    -------
    bool
        True when no alignment of the two is that close (a motif compared with itself is not).
    """
    for off in range(-(len(b) - 1), len(a)):
        pairs = [(a[i], b[i - off]) for i in range(max(0, off), min(len(a), off + len(b)))]
        if len(pairs) >= min_overlap and sum(x != y for x, y in pairs) < min_mismatches:
            return False
    return True


def random_motifs(rng: np.random.Generator, count: int, lengths: tuple[int, int] = (6, 7),
                  avoid: tuple[str, ...] = ()) -> list[str]:
    """``count`` random ACGT motifs without ATG, mutually dissimilar (:func:`dissimilar`).

    Also refused: fewer than three distinct bases or a base four times in a row
    (low complexity, which a dinucleotide shuffle cannot destroy).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws.
    count : int
        Motifs wanted.
    lengths : tuple of int, optional
        Inclusive range of lengths (default 6-7).
    avoid : tuple of str, optional
        Motifs the new ones must also be dissimilar from.

    Returns
    -------
    list of str
        The motifs, in the order drawn.
    """
    out: list[str] = []
    for _ in range(100_000):
        if len(out) == count:
            return out
        k = int(rng.integers(lengths[0], lengths[1] + 1))
        m = "".join("ACGT"[i] for i in rng.integers(0, 4, size=k))
        if ("ATG" in m or len(set(m)) < 3 or any(c * 4 in m for c in "ACGT")
                or not all(dissimilar(m, o) for o in (*out, *avoid))):
            continue
        out.append(m)
    raise InputError(f"random_motifs: could not draw {count} dissimilar motifs of {lengths} nt")


def random_spec(seed: int, n_motifs: int = 6, n_pairs: int = 3, n: int = 60_000,
                lengths: tuple[int, int] = (6, 7), target_r2: float = 0.87) -> dict:
    """A spec with other motifs and pairs (presence rules), for the generalisation benchmark.

    Pairs take the classes synergistic, antagonistic, additive in turn (the first
    three: one of each); a synergistic pair has two main effects of one sign and an
    interaction of that sign, an antagonistic one an interaction against them, the
    additive control two opposite main effects, no interaction and a higher
    co-planting rate (like the shipped set's enhE+repF). Motifs beyond the pairs' are
    single motifs with a main effect.

    Parameters
    ----------
    seed : int
        Every draw comes from ``np.random.default_rng(seed)``; also the spec's seed.
    n_motifs, n_pairs : int, optional
        Motifs (>= 2 x n_pairs) and pairs (defaults 6 and 3).
    n : int, optional
        UTRs in the set (default 60,000).
    lengths : tuple of int, optional
        Motif lengths, inclusive range (default 6-7).
    target_r2 : float, optional
        Noise ceiling r2 (default 0.87).

    Returns
    -------
    dict
        A checked spec (:func:`check_spec`).
    """
    if n_motifs < 2 * n_pairs:
        raise InputError(f"random_spec: n_motifs {n_motifs} < 2 x n_pairs {n_pairs}")
    rng = np.random.default_rng(seed)
    seqs = random_motifs(rng, n_motifs, lengths)
    size = np.round(rng.uniform(0.4, 0.7, size=n_motifs), 2)
    sign = np.where(rng.random(n_motifs) < 0.5, -1.0, 1.0)
    pairs = []
    for j in range(n_pairs):
        kind = ("synergistic", "antagonistic", "additive")[j % 3]
        s = sign[2 * j]
        sign[2 * j + 1] = -s if kind == "additive" else s
        eps = {"synergistic": s * round(float(rng.uniform(0.6, 0.9)), 2),
               "antagonistic": -s * round(float(rng.uniform(0.4, 0.6)), 2), "additive": 0.0}[kind]
        pairs.append({"name": f"m{2 * j + 1}+m{2 * j + 2}", "motifA": f"m{2 * j + 1}", "motifB": f"m{2 * j + 2}",
                      "interaction": eps, "planted_co_frequency": 0.12 if kind == "additive" else 0.08})
    motifs = [{"name": f"m{i + 1}", "consensus": seqs[i], "effect": float(sign[i] * size[i]),
               "planted_frequency": 0.15} for i in range(n_motifs)]
    return check_spec({"task": "mrl", "n": n, "seed": seed, "length": LENGTH, "baseline": 5.0,
                       "target_r2": target_r2, "description": f"random_spec(seed={seed})",
                       "motifs": motifs, "pairs": pairs}, f"random_spec({seed})")
