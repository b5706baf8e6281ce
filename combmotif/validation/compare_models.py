"""``combmotif validate compare-models <config>``: the comparison against each model's planted truth.

Each model's ``truth.json`` (the ``data_dir`` of its discovery config) says which
motifs its set holds (``frequency`` > 0: a motif a filter removed, such as ATG
from the noAUG set, is listed with frequency 0), their signs, and its pairs.
Planted motifs are matched across sets by name. Three tables:

1. motifs: each planted motif -> ``shared`` / ``<label>-only`` as planted and as
   found, with the group's cross-model match q. A model *found* a motif when one
   of its families recovers it by the project's one rule
   (:mod:`combmotif.validation.recovered`): the family is named after it (its
   representative matched the planted database at q < ``recovery_q``), its
   representative's Tomtom rows match it (:func:`~combmotif.validation.interaction.family_aliases`),
   or its label pattern (informative letters only) holds the motif at
   ``min_identity``, or its consensus does (only for motifs with at least
   ``min_letters`` informative letters: a 3-mer sits in any consensus by chance).
   A model's recovering families must hold ``min_neurons`` (2) neurons: one neuron's
   cluster is no evidence the model learned the motif. Found shared = the models'
   recovering families are in one group, or a model without such families uses
   the sites of that group's motif (the comparison's site check,
   :mod:`combmotif.compare_models.site_check`; ``<label>_by`` says ``sites``).
2. signs: for motifs planted in several models, the planted signs and the found
   ones (the group's contribution sign per model), and whether each changes.
3. pairs: each planted pair -> the models where it interacts (class not additive)
   as planted and as found (the pair table's class of the two motifs' groups).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..compare_models.config import ComparedModel, load_compare_models_config
from ..compare_models.groups import group_class
from ..compare_models.stage import run_compare_models
from ..data.truth import load_truth
from ..errors import InputError
from ..motifs.families import read_families
from ..motifs.patterns import pattern_letters
from .interaction import family_aliases
from .recovered import MIN_IDENTITY, RECOVERY_Q, evidence, motif_identity

INTERACTING = ("synergistic", "antagonistic")


def model_truth(model: ComparedModel) -> dict:
    """A model's truth.json (its discovery config's ``data_dir``).

    Parameters
    ----------
    model : ComparedModel
        The model.

    Returns
    -------
    dict
        The loaded truth.

    Raises
    ------
    combmotif.errors.InputError
        No ``data_dir`` or no truth.json in it.
    """
    if not model.data_dir or not (Path(model.data_dir) / "truth.json").is_file():
        raise InputError(f"{model.discovery_config}: 'data_dir' = {model.data_dir!r} holds no truth.json "
                         f"(the comparison's check needs each model's synthetic set)")
    return load_truth(Path(model.data_dir) / "truth.json")


def present(motif: dict) -> bool:
    """Whether a truth motif occurs in its set (``frequency`` > 0 when given).

    Parameters
    ----------
    motif : dict
        A truth.json motif entry.

    Returns
    -------
    bool
    """
    freq = motif.get("frequency", motif.get("planted_frequency"))
    return freq is None or float(freq) > 0


def planted_motifs(truths: list[dict], labels: list[str]) -> list[dict]:
    """The planted motifs of every truth, one per distinct consensus (the species-independent id).

    Parameters
    ----------
    truths : list of dict
        The models' truths.
    labels : list of str
        Their labels.

    Returns
    -------
    list of dict
        ``motif`` (its names joined by ``/``), ``consensus``, ``names`` and ``effects``
        (label -> planted effect, for the models whose set holds it: :func:`present`).
    """
    out: dict[str, dict] = {}
    for lab, t in zip(labels, truths):
        for m in t["motifs"]:
            entry = out.setdefault(m["consensus"].upper().replace("U", "T"),
                                   {"consensus": m["consensus"], "names": [], "effects": {}})
            if m["name"] not in entry["names"]:
                entry["names"].append(m["name"])
            if present(m):
                entry["effects"].setdefault(lab, float(m["effect"]))
    return [dict(e, motif="/".join(e["names"])) for e in out.values()]


def recovering_families(model: ComparedModel, planted: list[dict], recovery_q: float = RECOVERY_Q,
                        min_identity: float = MIN_IDENTITY, min_letters: float = 4.0) -> dict[str, list[str]]:
    """Planted motif -> the model's family ids that recover it (module docstring).

    Parameters
    ----------
    model : ComparedModel
        The model (its families must exist).
    planted : list of dict
        :func:`planted_motifs` (they need not be planted in this model's set).
    recovery_q : float
        Tomtom q below which a match recovers.
    min_identity : float
        Consensus identity at which a family recovers a motif.
    min_letters : float
        Informative letters a planted consensus needs for identity in the consensus to count.

    Returns
    -------
    dict of str to list of str
        Keyed by ``motif``.
    """
    names = {n for p in planted for n in p["names"]}
    aliases = family_aliases(model.model_dir, names, recovery_q)
    both = model.molecule == "dna"
    out: dict[str, list[str]] = {p["motif"]: [] for p in planted}
    for fam in read_families(model.model_dir):
        named = ({fam.target} if fam.q < recovery_q else set()) | set(aliases.get(fam.pattern, ()))
        for p in planted:
            c = p["consensus"]
            # the label pattern holds only informative letters (N elsewhere): a short motif inside
            # it was learned; inside the consensus (any flank) only a longer one is evidence
            ident = max(motif_identity(c, fam.pattern, both)[0] if fam.pattern else 0.0,
                        motif_identity(c, fam.consensus, both)[0] if pattern_letters(c) >= min_letters else 0.0)
            q = recovery_q / 2 if named & set(p["names"]) else float("nan")
            if evidence(ident, q, min_identity, recovery_q):
                out[p["motif"]].append(fam.id)
    return out


def _found(members: pd.DataFrame, models: list[ComparedModel], fams: dict[str, dict[str, list[str]]],
           name: str, min_neurons: int, learned: dict | None = None
           ) -> tuple[str, str, dict[str, str], dict[str, int], dict[str, list[str]]]:
    """(found class, best group, model -> its group for the motif, model -> neurons, model -> every
    group holding a recovering family) of one planted motif."""
    labels = [m.label for m in models]
    learned = learned or {}
    groups, neurons, weight = {}, {}, {}
    for lab in labels:
        mine = members[(members["model"] == lab) & members["family"].isin(fams[lab].get(name, []))]
        for g, n in zip(mine["group"], mine["n_neurons"]):
            weight[g] = weight.get(g, 0) + int(n)
        neurons[lab] = len({n for s in mine["neurons"] for n in str(s).split(";") if n})
        # one neuron's cluster is no evidence that the model learned the motif
        groups[lab] = list(dict.fromkeys(mine["group"])) if neurons[lab] >= min_neurons else []
    found_in = [lab for lab in labels if groups[lab]]
    if not found_in:
        return "not found", "", {}, neurons, groups
    counts = pd.Series([g for lab in found_in for g in groups[lab]]).value_counts(sort=False)
    # the group most models reach the motif through, then the one with most of its neurons
    best = max(counts.index, key=lambda g: (counts[g], weight[g], -int(g[1:])))
    # a model without a family of its own that uses the motif's sites (compare_models.site_check)
    for lab in labels:
        if not groups[lab] and learned.get((best, lab)) == "sites":
            groups[lab] = [best]
    found_in = [lab for lab in labels if groups[lab]]
    holders = [lab for lab in found_in if best in groups[lab]]
    per_model = {lab: best if best in groups[lab] else groups[lab][0] for lab in found_in}
    cls = group_class(holders, labels)
    return (cls if len(holders) == len(found_in) else group_class(found_in, labels) + " (unmatched)",
            best, per_model, neurons, groups)


def motif_table(models, planted: list[dict], tables, fams, min_neurons: int = 2) -> pd.DataFrame:
    """One row per planted motif: planted and found class, match q, each model's families.

    Parameters
    ----------
    models : list of ComparedModel
        The compared models.
    planted : list of dict
        :func:`planted_motifs`.
    tables : dict of str to pandas.DataFrame
        :func:`combmotif.compare_models.stage.run_compare_models`.
    fams : dict
        Label -> :func:`recovering_families`.
    min_neurons : int
        Neurons a model's recovering families must hold for the motif to count as found there.

    Returns
    -------
    pandas.DataFrame
        ``motif``, ``consensus``, ``planted``, ``found``, ``ok``, ``group``, ``match_q`` and
        per model ``<label>_families``, ``<label>_neurons``, ``<label>_by`` (``neurons`` or
        ``sites``); ``attrs["groups"]``: motif -> model -> group.
    """
    labels = [m.label for m in models]
    match_q = dict(zip(tables["groups"]["group"], tables["groups"]["match_q"]))
    learned = {(g, lab): str(v) for lab in labels if f"{lab}_learned" in tables["groups"]
               for g, v in zip(tables["groups"]["group"], tables["groups"][f"{lab}_learned"])}
    rows, where, every = [], {}, {}
    for p in planted:
        found, best, where[p["motif"]], neurons, every[p["motif"]] = _found(
            tables["members"], models, fams, p["motif"], min_neurons, learned)
        planted_in = [lab for lab in labels if lab in p["effects"]]
        cls = group_class(planted_in, labels) if planted_in else "absent"
        row = {"motif": p["motif"], "consensus": p["consensus"], "planted": cls, "found": found,
               "ok": cls == found or (cls == "absent" and found == "not found"),
               "group": best, "match_q": match_q.get(best, float("nan"))}
        for lab in labels:
            row.update({f"{lab}_families": ";".join(fams[lab].get(p["motif"], [])), f"{lab}_neurons": neurons[lab],
                        f"{lab}_by": learned.get((where[p["motif"]].get(lab), lab), "") if lab in where[p["motif"]]
                        else ""})
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["groups"] = where
    out.attrs["all_groups"] = every
    return out


def sign_table(models, planted: list[dict], motifs: pd.DataFrame, signs: pd.DataFrame) -> pd.DataFrame:
    """Motifs planted in several models: planted and found sign per model, and whether each changes.

    Parameters
    ----------
    models : list of ComparedModel
        The compared models.
    planted : list of dict
        :func:`planted_motifs`.
    motifs : pandas.DataFrame
        :func:`motif_table`.
    signs : pandas.DataFrame
        ``signs.csv``.

    Returns
    -------
    pandas.DataFrame
        ``motif``, per model ``<label>_planted`` / ``<label>_found``, ``planted_change``,
        ``found_change``, ``ok``.
    """
    labels = [m.label for m in models]
    by_group = signs.set_index("group") if len(signs) else None
    rows = []
    effects = {p["motif"]: p["effects"] for p in planted}
    for _, r in motifs[motifs["planted"] == "shared"].iterrows():
        row = {"motif": r["motif"]}
        for lab in labels:
            e = effects[r["motif"]][lab]
            row[f"{lab}_planted"] = "+" if e > 0 else "-" if e < 0 else "0"
            g = motifs.attrs["groups"][r["motif"]].get(lab)
            row[f"{lab}_found"] = (str(by_group.loc[g, f"{lab}_sign"]) if by_group is not None and g
                                   and not pd.isna(by_group.loc[g, f"{lab}_sign"]) else "")
        planted = {row[f"{lab}_planted"] for lab in labels}
        found = [row[f"{lab}_found"] for lab in labels]
        row["planted_change"] = len(planted) > 1
        row["found_change"] = len(set(found)) > 1 if all(f in ("+", "-") for f in found) else None
        row["ok"] = row["found_change"] == row["planted_change"] and all(
            row[f"{lab}_found"] == row[f"{lab}_planted"] for lab in labels)
        rows.append(row)
    return pd.DataFrame(rows)


def pair_table(models, truths, planted: list[dict], motifs: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Each planted pair: the models where it interacts as planted and as found.

    Parameters
    ----------
    models : list of ComparedModel
        The compared models.
    truths : list of dict
        Their truths.
    planted : list of dict
        :func:`planted_motifs` (a pair's motifs are named by it).
    motifs : pandas.DataFrame
        :func:`motif_table`.
    pairs : pandas.DataFrame
        ``pairs.csv``.

    Returns
    -------
    pandas.DataFrame
        ``pair``, per model ``<label>_planted`` / ``<label>_found`` (class), ``planted``,
        ``found`` (:func:`~combmotif.compare_models.groups.group_class` of the interacting
        models, ``none``), ``ok``.
    """
    labels = [m.label for m in models]
    planted_pairs: dict[tuple[str, str], dict[str, str]] = {}
    motif_of = {n: p["motif"] for p in planted for n in p["names"]}
    for lab, t in zip(labels, truths):
        for p in t["pairs"]:
            key = tuple(sorted((motif_of[p["motifA"]], motif_of[p["motifB"]])))
            planted_pairs.setdefault(key, {})[lab] = p["class"]
    rows = []
    every = motifs.attrs.get("all_groups", {})
    for (a, b), classes in planted_pairs.items():
        row = {"pair": f"{a}+{b}"}
        for lab in labels:
            row[f"{lab}_planted"] = classes.get(lab, "")
            row[f"{lab}_found"] = _pair_call(pairs, lab, motifs.attrs["groups"], every, a, b)
        inter = [[lab for lab in labels if row[f"{lab}_{k}"] in INTERACTING] for k in ("planted", "found")]
        row["planted"], row["found"] = (group_class(x, labels) if x else "none" for x in inter)
        row["ok"] = row["planted"] == row["found"]
        rows.append(row)
    return pd.DataFrame(rows)


def _pair_call(pairs: pd.DataFrame, lab: str, best: dict, every: dict, a: str, b: str) -> str:
    """A model's class for planted motifs ``a`` and ``b``: over every group pair holding families
    that recover them, a tested row first, then the motifs' best groups, then the lowest q."""
    if not len(pairs):
        return ""
    ga_all = every.get(a, {}).get(lab) or [best[a].get(lab)]
    gb_all = every.get(b, {}).get(lab) or [best[b].get(lab)]
    want = {(x, y) for x in ga_all for y in gb_all if x and y}
    want |= {(y, x) for x, y in want}
    hit = pairs[[(x, y) in want for x, y in zip(pairs["groupA"], pairs["groupB"])]]
    if not len(hit):
        return ""
    top = {(best[a].get(lab), best[b].get(lab)), (best[b].get(lab), best[a].get(lab))}
    hit = hit.assign(_tested=hit[f"{lab}_class"].isin(list(INTERACTING) + ["additive"]),
                     _top=[(x, y) in top for x, y in zip(hit["groupA"], hit["groupB"])],
                     _q=pd.to_numeric(hit[f"{lab}_q"], errors="coerce").fillna(2.0))
    hit = hit.sort_values(["_tested", "_top", "_q"], ascending=[False, False, True], kind="stable")
    return str(hit[f"{lab}_class"].iloc[0])


def truth_tables(config: str | Path, overrides: dict | None = None, min_neurons: int = 2) -> dict[str, pd.DataFrame]:
    """Run the comparison and set it against each model's truth (module docstring).

    Parameters
    ----------
    config : str or Path
        The comparison's config.
    overrides : dict, optional
        Config keys set over the file's.
    min_neurons : int
        See :func:`motif_table`.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``motifs`` (:func:`motif_table`), ``signs`` (:func:`sign_table`), ``pairs`` (:func:`pair_table`).
    """
    cfg, models = load_compare_models_config(config, overrides)
    truths = [model_truth(m) for m in models]          # every truth read before any work
    tables = run_compare_models(cfg, models)
    planted = planted_motifs(truths, [m.label for m in models])
    fams = {m.label: recovering_families(m, planted) for m in models}
    motifs = motif_table(models, planted, tables, fams, min_neurons)
    return {"motifs": motifs, "signs": sign_table(models, planted, motifs, tables["signs"]),
            "pairs": pair_table(models, truths, planted, motifs, tables["pairs"])}


def check_compare_models(config: str | Path, overrides: dict | None = None, print_=print) -> int:
    """Print the three tables of :func:`truth_tables`.

    Parameters
    ----------
    config : str or Path
        The comparison's config.
    overrides : dict, optional
        Config keys set over the file's.
    print_ : callable
        Where the tables go.

    Returns
    -------
    int
        0.
    """
    t = truth_tables(config, overrides)
    motifs, signs, pairs = t["motifs"], t["signs"], t["pairs"]
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print_(f"Planted motifs: shared / model-specific (match q: Tomtom between the groups' families)\n"
               f"{motifs.to_string(index=False)}\n{int(motifs['ok'].sum())} of {len(motifs)} as planted")
        if len(signs):
            print_(f"\nShared motifs' signs (planted vs found contribution sign)\n{signs.to_string(index=False)}")
        if len(pairs):
            print_(f"\nPlanted pairs: where they interact\n{pairs.to_string(index=False)}")
    return 0
