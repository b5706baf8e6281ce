"""A synthetic *mouse* half-life set: the human generator with partly different planted rules.

Same transcripts, tracks, features, noise rule and H5 layout as
:mod:`combmotif.data.synthetic_halflife` (the human set); only the 3'UTR rule
table differs, so a comparison of a human and a mouse model has a known answer.
Relative to the human table (:data:`~combmotif.data.synthetic_halflife.MOTIFS`):

========  ==================  =============================================
motif     mouse effect        relation to the human set
========  ==================  =============================================
ARE       -0.5                shared, same effect
PUM       -0.45               shared, same effect
let7      -0.4                shared, same effect
GRE       -0.55 (human -0.3)  shared, another effect size (same sign)
Crich     -0.45 (human +0.45) shared, opposite sign
stabE     absent              human only
mmuSE     +0.5                mouse only (GTCCGAAG: no Tomtom match to any human motif)
========  ==================  =============================================

Pairs: PUM+let7 synergistic in both; ARE+GRE synergistic in mouse only (the
human set's additive control); Crich+stabE (human, antagonistic) cannot exist
in mouse. Shared motifs keep the human name and consensus. The mouse
truth.json adds ``species`` ("mouse") and ``overlap``: every motif and pair of
either set with its status (:func:`truth_overlap`), the answer a model
comparison is checked against. Readers of the one truth layout
(:mod:`combmotif.data.truth`) ignore both keys.
"""

from __future__ import annotations

from typing import Any, Mapping

from .synthetic_halflife import MOTIFS, PAIRS, make_halflife
from .truth import pair_class

MOTIF_STATUS = ("shared", "effect_size", "sign_flip", "reference_only", "species_only")
PAIR_STATUS = ("shared", "class_changed", "reference_only", "species_only", "additive")


def _mouse_motifs() -> list[dict[str, Any]]:
    """The mouse rule table, derived from the human one so shared motifs stay identical."""
    changed = {"GRE": dict(effect=-0.55, rule="GU-rich element anywhere in the 3'UTR (stronger in mouse)"),
               "Crich": dict(effect=-0.45, rule="C-rich element anywhere in the 3'UTR (destabilising in "
                                                "mouse, stabilising in human)")}
    out = [dict(m, **changed.get(m["name"], {})) for m in MOTIFS if m["name"] != "stabE"]
    out.append(dict(name="mmuSE", consensus="GTCCGAAG", effect=0.5, planted_frequency=0.15,
                    rule="synthetic mouse-only stabilising element anywhere in the 3'UTR"))
    return out


MOUSE_MOTIFS: list[dict[str, Any]] = _mouse_motifs()
MOUSE_PAIRS: list[dict[str, Any]] = [
    dict(name="PUM+let7", motifA="PUM", motifB="let7", interaction=-0.6, planted_co_frequency=0.12),
    dict(name="ARE+GRE", motifA="ARE", motifB="GRE", interaction=-0.5, planted_co_frequency=0.12),
]


def make_mouse_halflife(n: int = 16_000, length: int = 1024, seed: int = 1, noise_sd: float | None = None,
                        target_r: float = 0.92, return_noiseless: bool = False) -> tuple:
    """Generate the synthetic mouse half-life set (:data:`MOUSE_MOTIFS`, :data:`MOUSE_PAIRS`).

    Parameters
    ----------
    n : int, optional
        Number of transcripts (default 16,000: 12,800 train, 1,600 valid, 1,600 test).
    length : int, optional
        L, as for the human set (default 1024).
    seed : int, optional
        Seed of every random draw (default 1: other transcripts than the human set's seed 0).
    noise_sd : float, optional
        Gaussian noise sd; ``None`` picks the one giving a ceiling r of ``target_r``.
    target_r : float, optional
        Noise ceiling r over the whole set (default 0.92, as human).
    return_noiseless : bool, optional
        Also return ``{split: noise-free labels}``.

    Returns
    -------
    tuple
        ``(splits, truth)`` (or with the noise-free labels third) as
        :func:`combmotif.data.synthetic_halflife.make_halflife` returns them; ``truth``
        carries ``species`` and ``overlap`` (against the human rule table).
    """
    out = make_halflife(n=n, length=length, seed=seed, noise_sd=noise_sd, target_r=target_r,
                        return_noiseless=return_noiseless, motifs=MOUSE_MOTIFS, pairs=MOUSE_PAIRS)
    truth = out[1]
    truth["species"] = "mouse"
    truth["overlap"] = {"reference": {"set": "synthetic_halflife", "species": "human"},
                        **truth_overlap({"motifs": MOTIFS, "pairs": PAIRS}, truth)}
    return out


def _key(consensus: str) -> str:
    return consensus.upper().replace("U", "T")


def _motif_status(ref: Mapping[str, Any] | None, m: Mapping[str, Any] | None) -> str:
    if m is None:
        return "reference_only"
    if ref is None:
        return "species_only"
    a, b = float(ref["effect"]), float(m["effect"])
    if a * b < 0:
        return "sign_flip"
    return "shared" if abs(a - b) < 1e-9 else "effect_size"


def _pair_classes(truth: Mapping[str, Any]) -> dict[frozenset, tuple[str, str]]:
    """{unordered pair of consensus: (pair name, class)}; the class is derived when absent."""
    motifs = {m["name"]: m for m in truth["motifs"]}
    out = {}
    for p in truth.get("pairs", []):
        a, b = motifs[p["motifA"]], motifs[p["motifB"]]
        cls = p.get("class") or pair_class(a["effect"], b["effect"], p["interaction"])
        out[frozenset((_key(a["consensus"]), _key(b["consensus"])))] = (p["name"], cls)
    return out


def _pair_status(ref_cls: str | None, cls: str | None) -> str:
    act_ref, act = ref_cls not in (None, "additive"), cls not in (None, "additive")
    if act_ref and act:
        return "shared" if ref_cls == cls else "class_changed"
    return "reference_only" if act_ref else "species_only" if act else "additive"


def truth_overlap(reference: Mapping[str, Any], truth: Mapping[str, Any]) -> dict[str, list[dict]]:
    """How two planted rule tables overlap: every motif and pair of either with its status.

    Motifs are matched by consensus (the species-independent id; names are
    reported as each set has them), pairs by their two motifs' consensus in
    either order. A pair *interacts* when its class is not additive.

    Parameters
    ----------
    reference : mapping
        A truth dict (or ``{"motifs", "pairs"}`` rule tables): the reference set (human).
    truth : mapping
        The other set's (mouse).

    Returns
    -------
    dict
        ``motifs``: ``{name, consensus, status, effect_reference, effect}`` per motif of
        either set, status one of :data:`MOTIF_STATUS` (effect None where absent);
        ``pairs``: ``{name, motifs (two consensus), status, class_reference, class}``,
        status one of :data:`PAIR_STATUS` (``additive``: in neither does it interact).
    """
    ref = {_key(m["consensus"]): m for m in reference["motifs"]}
    own = {_key(m["consensus"]): m for m in truth["motifs"]}
    motifs = []
    for key in list(ref) + [k for k in own if k not in ref]:
        r, m = ref.get(key), own.get(key)
        motifs.append({"name": (m or r)["name"], "consensus": key, "status": _motif_status(r, m),
                       "effect_reference": None if r is None else float(r["effect"]),
                       "effect": None if m is None else float(m["effect"])})
    ref_pairs, own_pairs = _pair_classes(reference), _pair_classes(truth)
    pairs = []
    for key in list(ref_pairs) + [k for k in own_pairs if k not in ref_pairs]:
        r, m = ref_pairs.get(key, (None, None)), own_pairs.get(key, (None, None))
        pairs.append({"name": m[0] or r[0], "motifs": sorted(key), "status": _pair_status(r[1], m[1]),
                      "class_reference": r[1], "class": m[1]})
    return {"motifs": motifs, "pairs": pairs}
