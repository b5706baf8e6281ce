"""Motifs the output depends on that no family stands for: TF-MoDISco on the output.

Families are made from what maximally activates single neurons. A motif the
model uses can stay out of them: its neurons fuse it with a neighbour into a
composite (``CACAAAGTCA``: one planted motif overlapped with another) whose
segments match only the neighbour, or it raises no neuron to the top of its
range. Such a motif is never paired, so a pair it belongs to is never tested.
Attribution of the output sees it wherever it moves the prediction, so the
importance candidates also draw on the patterns TF-MoDISco (modisco-lite, the
TF-MoDISco baseline's recipe, :mod:`combmotif.baselines.modisco`) finds in the
contributions of the output over a seeded subset of the scanned sequences:
in-silico mutagenesis (exact for any head, a GRU included) for inputs up to
``ISM_MAX_LENGTH`` nt, input gradients beyond (ISM costs 3 L + 1 model calls a
sequence).

A pattern becomes an *attribution family* ``T1, T2, ...`` (by seqlets, most
first) when its IUPAC label pattern (the families' rule:
:func:`~combmotif.interaction.labels.ppm_iupac`, ``min_letters``) is usable and
does not overlap the pattern of a family the candidates already use, nor of an
earlier attribution family (:func:`~combmotif.motifs.patterns.patterns_overlap`,
the families' rule for "one motif cut at other places"). Its effect is then
measured and ranked with the families' (:mod:`.importance`), so it is paired
only when destroying it moves the prediction as much as the top families do.

Outputs (``results/<model>/interaction/attribution/``): ``patterns.meme`` (every
pattern's PPM, named ``P<i>``), ``patterns.csv`` (:data:`PATTERN_COLUMNS`: sign,
seqlets, label pattern and whether it became a family, or why not) and
``stamp.json`` (weights, data and settings: the patterns are recomputed when one
changes; the comparison with the families is redone on every call).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..io import atomic_path
from ..motifs.families import Family, FamilySettings, pattern_letters, patterns_overlap
from ..motifs.formats import Motif, read_motifs
from ..motifs.meme_writer import write_meme
from ..stamps import make_stamp, unit_is_fresh, write_stamp
from .labels import ppm_iupac

ISM_MAX_LENGTH = 200       # longer inputs: gradients (ISM costs 3 L + 1 model calls per sequence)
LEIDEN_RUNS = 10           # modisco-lite's Leiden restarts (its default 50 is for 400-bp inputs x 10^4)
PATTERN_COLUMNS = ["pattern_id", "sign", "n_seqlets", "contribution", "consensus", "label", "letters",
                   "family", "note"]


def _method(length: int) -> str:
    """``"ism"`` for inputs up to :data:`ISM_MAX_LENGTH` nt, ``"gradient"`` beyond."""
    return "ism" if length <= ISM_MAX_LENGTH else "gradient"


def attribution_patterns(fn, X: np.ndarray, n_sequences: int, seed: int = 0, device="cpu"
                         ) -> tuple[list[Motif], dict]:
    """TF-MoDISco patterns of the output's contributions over a seeded subset of ``X``.

    Parameters
    ----------
    fn : callable
        Differentiable x (B, C, L) -> (B,) target
        (:func:`combmotif.baselines.contributions.target_fn`).
    X : numpy.ndarray
        (N, C, L) one-hot inputs.
    n_sequences : int
        Sequences attributed (a subset drawn with ``seed`` when ``X`` has more).
    seed : int
        Seed of the subset.
    device : str or torch.device
        Where ``fn`` runs.

    Returns
    -------
    tuple of (list of Motif, dict)
        One PPM per pattern (positive metacluster first), named ``P<i>``, with
        ``meta`` ``sign`` (+1: raises the output), ``n_seqlets`` and
        ``contribution``; and the run's header (attribution, sizes). No pattern (and a
        ``note``) where modisco-lite's clustering comes out empty.
    """
    from ..baselines.modisco import ModiscoConfig, modisco_unit, pick_sequences

    rows = pick_sequences(len(X), n_sequences, seed)
    method = _method(X.shape[-1])
    cfg = ModiscoConfig(attribution=method, max_sequences=None, n_leiden_runs=LEIDEN_RUNS)
    try:
        pats, info = modisco_unit(fn, np.ascontiguousarray(X[rows], dtype=np.float32), cfg, device)
    except ValueError as e:
        # modisco-lite fails on a metacluster whose seqlets form no cluster (max() of nothing),
        # e.g. contributions that are 0 outside one motif: no pattern, not a failed stage.
        if "empty" not in str(e):
            raise
        return [], {"attribution": method, "n_sequences": int(len(rows)), "note": f"modisco-lite: {e}"}
    motifs = [Motif(f"P{i + 1}", p.pattern.ppm, nsites=float(p.pattern.size),
                    meta={"sign": p.sign, "n_seqlets": int(p.pattern.size),
                          "contribution": float(p.pattern.info["contribution"])})
              for i, p in enumerate(pats)]
    return motifs, info


def attribution_families(patterns: Sequence[Motif], families: Sequence[Family],
                         settings: FamilySettings | None = None) -> tuple[list[Family], pd.DataFrame]:
    """The patterns no family stands for, as families ``T1, T2, ...``, and the table of all.

    Parameters
    ----------
    patterns : sequence of Motif
        :func:`attribution_patterns` (``meta``: ``sign``, ``n_seqlets``, ``contribution``).
    families : sequence of Family
        The families the candidates already use.
    settings : FamilySettings, optional
        The label rule (``label_ic``, ``label_max_length``, ``min_letters``, ``min_overlap``).

    Returns
    -------
    tuple of (list of Family, pandas.DataFrame)
        The new families (most seqlets first) and :data:`PATTERN_COLUMNS` for every pattern.
    """
    s = settings or FamilySettings()
    order = sorted(range(len(patterns)), key=lambda i: -int(patterns[i].meta.get("n_seqlets", 0)))
    kept: list[Family] = []
    rows = []
    for i in order:
        m = patterns[i]
        label = ppm_iupac(m.ppm, s.label_ic, max_length=s.label_max_length)
        letters = pattern_letters(label)
        row = {"pattern_id": m.name, "sign": m.meta.get("sign"), "n_seqlets": m.meta.get("n_seqlets"),
               "contribution": m.meta.get("contribution"), "consensus": m.consensus, "label": label,
               "letters": letters, "family": "", "note": ""}
        if letters < s.min_letters:
            row["note"] = f"label {label or '-'}: fewer than {s.min_letters:g} informative letters"
        elif (same := next((f for f in [*families, *kept]
                            if patterns_overlap(label, f.pattern, s.min_overlap, s.min_letters)), None)):
            row["note"] = f"the motif of {same.id} ({same.pattern})"
        else:
            fid = f"T{len(kept) + 1}"
            kept.append(Family(id=fid, name=f"{fid}-{label}", representative=m, pattern=label, letters=letters,
                               members=[m.name], neurons=[], leader=m.name,
                               note=f"TF-MoDISco on the output: {m.meta.get('n_seqlets')} seqlets"))
            row["family"] = fid
        rows.append(row)
    return kept, pd.DataFrame(rows, columns=PATTERN_COLUMNS)


def stage_attribution_patterns(stage, log=print) -> list[Motif]:
    """The stage's TF-MoDISco patterns of the output: the cache when its stamp still holds,
    else computed and cached (``interaction/attribution/``, see the module doc).

    They need the model and the data only, not discovery, so ``combmotif fragments
    --attribution`` can make them while discovery runs, and ``pairs --scope sequence``
    finds them cached.

    Parameters
    ----------
    stage : Stage
        The interaction stage; ``cfg.attribution_sequences`` 0 turns the source off.
    log : callable
        Told when the patterns are computed or reused.

    Returns
    -------
    list of Motif
        ``meta``: ``sign``, ``n_seqlets``, ``contribution`` (empty when the source is off).
    """
    from ..baselines.contributions import target_fn

    cfg = stage.cfg
    if not cfg.attribution_sequences:
        return []
    out = stage.out / "attribution"
    stamp = make_stamp(stage.fingerprint, {"attribution_sequences": cfg.attribution_sequences, "seed": cfg.seed,
                                           "target_index": cfg.target_index, "leiden_runs": LEIDEN_RUNS,
                                           "ism_max_length": ISM_MAX_LENGTH})
    meme = out / "patterns.meme"
    if unit_is_fresh(out / "stamp.json", stamp, output=meme, name="attribution patterns", log=log):
        return _read_patterns(out)
    n, length = min(cfg.attribution_sequences, len(stage.data[0])), stage.data[0].shape[-1]
    how = (f"in-silico mutagenesis, {n * (3 * length + 1):,} model calls"
           if _method(length) == "ism" else "input gradients")
    log(f"attribution: TF-MoDISco on the output over {n} sequences ({how})")
    model = stage.loaded.module.eval()
    fn = target_fn(model, ("output", cfg.target_index), stage.loaded.in_channels)
    patterns, _ = attribution_patterns(fn, stage.data[0], cfg.attribution_sequences, cfg.seed, stage.device)
    out.mkdir(parents=True, exist_ok=True)
    (out / "stamp.json").unlink(missing_ok=True)
    with atomic_path(out / "patterns.json") as tmp:
        pd.DataFrame([{"name": m.name, **m.meta} for m in patterns],
                     columns=["name", "sign", "n_seqlets", "contribution"]).to_json(tmp, orient="records")
    write_meme(meme, patterns)
    write_stamp(out / "stamp.json", stamp)
    return patterns


def attribution_enabled(cfg) -> bool:
    """Whether the candidates use attribution families.

    Parameters
    ----------
    cfg : InteractionConfig
        Patterns are drawn (``attribution_sequences``) and the importance pairs that
        take them are on (``importance_top``).

    Returns
    -------
    bool
    """
    return bool(cfg.importance_top and cfg.attribution_sequences)


def make_attribution_patterns(stage) -> str:
    """``combmotif fragments --attribution``: make (or find fresh) the stage's patterns.

    Parameters
    ----------
    stage : Stage
        The interaction stage.

    Returns
    -------
    str
        One line: how many patterns and where, or that the source is off.
    """
    if not attribution_enabled(stage.cfg):
        return "attribution: off (attribution_sequences or importance_top is 0 in the config)"
    patterns = stage_attribution_patterns(stage)
    return (f"attribution: {len(patterns)} TF-MoDISco patterns of the output -> "
            f"{stage.out / 'attribution' / 'patterns.meme'}")


def stage_attribution_families(stage, families: Sequence[Family], log=print) -> list[Family]:
    """The stage's attribution families against ``families`` (:func:`stage_attribution_patterns`,
    compared with the families on every call).

    Parameters
    ----------
    stage : Stage
        The interaction stage; ``cfg.attribution_sequences`` 0 turns the source off.
    families : sequence of Family
        The families the candidates use.
    log : callable
        Told when the patterns are computed.

    Returns
    -------
    list of Family
    """
    cfg = stage.cfg
    if not cfg.attribution_sequences:
        return []
    patterns = stage_attribution_patterns(stage, log)
    settings = FamilySettings(label_ic=cfg.label_ic, label_max_length=cfg.label_max_length)
    kept, table = attribution_families(patterns, families, settings)
    with atomic_path(stage.out / "attribution" / "patterns.csv") as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    return kept


def _read_patterns(out: Path) -> list[Motif]:
    """The cached patterns with their ``meta`` back."""
    meta = {r["name"]: r for r in pd.read_json(out / "patterns.json", orient="records").to_dict("records")}
    if not meta:   # TF-MoDISco found nothing: the MEME file holds no motif, which read_motifs refuses
        return []
    motifs = read_motifs(out / "patterns.meme")
    for m in motifs:
        r = meta.get(m.name, {})
        m.meta = {"sign": int(r.get("sign", 0)), "n_seqlets": int(r.get("n_seqlets", 0)),
                  "contribution": float(r.get("contribution", 0.0))}
    return motifs
