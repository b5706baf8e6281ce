"""The comparison's tables beside the groups: match significance, contribution signs, pair classes.

All read the models' own stage outputs; nothing is recomputed:

* significance (``significance.csv``): per group, model and neuron of its
  families, the best database-match q of the neuron's member segments
  (``discovery/conv<L>/matches.csv``) and its -log10;
* signs (``signs.csv``): a family's sign in a model = the sign of the median
  effect of its neurons that the contribution stage called positive or negative
  (``contribution/conv<L>/neuron_contribution.csv``; knockout the same from
  ``neuron_knockout.csv``); ``0`` when no neuron was called. A model that holds
  the group by sites only (:mod:`.site_check`) takes the sign of its push there;
  ``agreement``: ``agree`` / ``differ`` over the models with a sign;
* pairs (``pairs.csv``): every tested candidate family pair of each model
  (``interaction/conv<L>/candidates.csv``, ``pairs --scope sequence``) mapped to
  its two groups, the class per model side by side; ``absent`` where a model
  has no family in one of the groups, empty where it has both but did not test them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..motifs.collect import layer_dirs
from ..motifs.match import read_matches
from .config import ComparedModel

SIGNIFICANCE_COLUMNS = ["group", "model", "family", "neuron", "segment", "target", "q", "neg_log10_q"]
_CONV = re.compile(r"^conv(\d+)$")


def _layers_of(folder: Path | None, layers: list[int] | None) -> list[tuple[int, Path]]:
    """``(L, conv<L> folder)`` of a stage folder, restricted to ``layers`` when given."""
    if folder is None or not Path(folder).is_dir():
        return []
    found = sorted((int(m.group(1)), p) for p in Path(folder).iterdir()
                   if (m := _CONV.match(p.name)) and p.is_dir())
    return [(L, p) for L, p in found if layers is None or L in layers]


def significance_table(models: list[ComparedModel], members: pd.DataFrame) -> pd.DataFrame:
    """Per group, model and neuron: the best database-match q of its member segments.

    Parameters
    ----------
    models : list of ComparedModel
        The compared models.
    members : pandas.DataFrame
        :func:`combmotif.compare_models.groups.match_families`.

    Returns
    -------
    pandas.DataFrame
        :data:`SIGNIFICANCE_COLUMNS`; neurons whose segments have no match row are left out.
    """
    from ..motifs.families import read_families

    frames = []
    for m in models:
        matches = [read_matches(p).assign(layer=L) for L, p in layer_dirs(m.model_dir)
                   if m.layers is None or L in m.layers]
        hits = pd.concat([h for h in matches if len(h)], ignore_index=True) if any(len(h) for h in matches) else None
        if hits is None:
            continue
        hits = hits.assign(q=pd.to_numeric(hits["q"], errors="coerce")).dropna(subset=["q"])
        hits = hits.sort_values("q", kind="stable").drop_duplicates("segment")
        seg_family = {s: f.id for f in read_families(m.model_dir) for s in f.members}
        mine = members[members["model"] == m.label]
        group_of = dict(zip(mine["family"], mine["group"]))
        hits = hits.assign(family=hits["segment"].map(seg_family))
        hits = hits[hits["family"].isin(group_of)]
        hits = hits.assign(neuron="conv" + hits["layer"].astype(str) + "/neuron" + hits["neuron"].astype(str))
        hits = hits.sort_values("q", kind="stable").drop_duplicates(["family", "neuron"])
        frames.append(pd.DataFrame({
            "group": hits["family"].map(group_of), "model": m.label, "family": hits["family"],
            "neuron": hits["neuron"], "segment": hits["segment"], "target": hits["target"],
            "q": hits["q"], "neg_log10_q": -np.log10(np.clip(hits["q"].to_numpy(float), 1e-300, 1.0))}))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SIGNIFICANCE_COLUMNS)
    order = {g: i for i, g in enumerate(dict.fromkeys(members["group"]))}
    out = out.assign(_g=out["group"].map(order)).sort_values(["_g", "model", "neuron"], kind="stable")
    return out.drop(columns="_g").reset_index(drop=True)[SIGNIFICANCE_COLUMNS]


def _neuron_calls(model: ComparedModel, kind: str) -> pd.DataFrame:
    """A model's per-neuron calls (``neuron``, ``call``, ``effect``) of one contribution table."""
    frames = []
    for L, path in _layers_of(model.contribution_dir, model.layers):
        f = path / f"neuron_{kind}.csv"
        if not f.is_file():
            continue
        df = pd.read_csv(f)
        if "target" in df.columns and (df["target"] == model.target_index).any():
            df = df[df["target"] == model.target_index]
        frames.append(pd.DataFrame({"neuron": [f"conv{L}/neuron{k}" for k in df["neuron"]],
                                    "call": df["contribution"].astype(str).to_numpy(),
                                    "effect": pd.to_numeric(df["effect"], errors="coerce").to_numpy()}))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["neuron", "call", "effect"])


def family_sign(calls: pd.DataFrame, neurons: set[str]) -> tuple[float, str, int, int]:
    """A family's sign: the median effect of its called neurons, and its sign.

    Parameters
    ----------
    calls : pandas.DataFrame
        ``neuron``, ``call`` (positive / negative / neutral), ``effect``.
    neurons : set of str
        The family's neurons (``conv<L>/neuron<k>``).

    Returns
    -------
    median : float
        Median effect of the called neurons (NaN when none).
    sign : str
        ``+``, ``-`` or ``0`` (no neuron called); empty when no neuron has a row.
    n_called, n : int
        Called neurons, neurons with a row.
    """
    mine = calls[calls["neuron"].isin(neurons)]
    called = mine[mine["call"].isin(["positive", "negative"])]
    if not len(mine):
        return float("nan"), "", 0, 0
    if not len(called):
        return float("nan"), "0", 0, len(mine)
    med = float(np.median(called["effect"].to_numpy(float)))
    return med, "+" if med > 0 else "-" if med < 0 else "0", len(called), len(mine)


def _agreement(signs: list[str]) -> str:
    """``agree`` / ``differ`` over the non-zero signs; empty with fewer than two."""
    s = [x for x in signs if x in ("+", "-")]
    return "" if len(s) < 2 else "agree" if len(set(s)) == 1 else "differ"


def signs_table(models: list[ComparedModel], members: pd.DataFrame, groups: pd.DataFrame,
                checks: pd.DataFrame | None = None) -> pd.DataFrame:
    """``signs.csv``: per group, each model's contribution and knockout sign side by side.

    Parameters
    ----------
    models : list of ComparedModel
        The compared models (those without a contribution config give empty columns).
    members : pandas.DataFrame
        :func:`combmotif.compare_models.groups.match_families`.
    groups : pandas.DataFrame
        :func:`combmotif.compare_models.groups.groups_table`.
    checks : pandas.DataFrame, optional
        :func:`combmotif.compare_models.site_check.decide`.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``name``, ``class``; per model ``<label>_effect`` (median), ``<label>_sign``,
        ``<label>_called`` (``n_called/n``, or ``sites``: the sign of the site check's push),
        ``<label>_knockout``, ``<label>_knockout_sign``; ``agreement``, ``knockout_agreement``.
    """
    calls = {m.label: (_neuron_calls(m, "contribution"), _neuron_calls(m, "knockout")) for m in models}
    by_sites = {} if checks is None or not len(checks) else {
        (r["group"], r["model"]): float(r["push"]) for r in checks.to_dict(orient="records") if r["learned"] == "sites"}
    rows = []
    for _, g in groups.iterrows():
        row = {"group": g["group"], "name": g["name"], "class": g["class"]}
        signs, ko_signs = [], []
        for m in models:
            mine = members[(members["group"] == g["group"]) & (members["model"] == m.label)]
            neurons = {n for s in mine["neurons"] for n in str(s).split(";") if n}
            med, sign, n_called, n = family_sign(calls[m.label][0], neurons)
            ko, ko_sign, _, _ = family_sign(calls[m.label][1], neurons)
            called = f"{n_called}/{n}" if n else ""
            if not neurons and (g["group"], m.label) in by_sites:
                med = ko = by_sites[(g["group"], m.label)]
                sign = ko_sign = "+" if med > 0 else "-" if med < 0 else "0"
                called = "sites"
            row.update({f"{m.label}_effect": med, f"{m.label}_sign": sign, f"{m.label}_called": called,
                        f"{m.label}_knockout": ko, f"{m.label}_knockout_sign": ko_sign})
            signs.append(sign)
            ko_signs.append(ko_sign)
        row.update(agreement=_agreement(signs), knockout_agreement=_agreement(ko_signs))
        rows.append(row)
    return pd.DataFrame(rows)


def _model_pairs(model: ComparedModel, group_of: dict[str, str]) -> dict[tuple[str, str], dict]:
    """A model's tested candidate pairs keyed by their (sorted) group pair; one row per key."""
    frames = [pd.read_csv(p / "candidates.csv", keep_default_na=False)
              for _, p in _layers_of(model.interaction_dir, model.layers) if (p / "candidates.csv").is_file()]
    out: dict[tuple[str, str], dict] = {}
    if not frames:
        return out
    df = pd.concat(frames, ignore_index=True)
    df = df.assign(_q=pd.to_numeric(df["q"], errors="coerce").fillna(2.0),
                   _tested=~df["interaction"].isin(["", "untested"]))
    df = df.sort_values(["_tested", "_q"], ascending=[False, True], kind="stable")
    for r in df.to_dict(orient="records"):
        ga, gb = group_of.get(str(r["familyA"])), group_of.get(str(r["familyB"]))
        if ga is None or gb is None:
            continue
        key = tuple(sorted((ga, gb), key=lambda g: int(g[1:])))
        out.setdefault(key, r)
    return out


def pairs_table(models: list[ComparedModel], members: pd.DataFrame, groups: pd.DataFrame) -> pd.DataFrame:
    """``pairs.csv``: every group pair some model tested, each model's class side by side.

    Parameters
    ----------
    models : list of ComparedModel
        The compared models (those without an interaction config give ``not run``).
    members : pandas.DataFrame
        :func:`combmotif.compare_models.groups.match_families`.
    groups : pandas.DataFrame
        :func:`combmotif.compare_models.groups.groups_table`.

    Returns
    -------
    pandas.DataFrame
        ``groupA``, ``groupB``, ``nameA``, ``nameB``; per model ``<label>_class``
        (synergistic / antagonistic / additive / untested; ``absent``: a group the
        model lacks; empty: not a candidate there; ``not run``), ``<label>_epsilon``,
        ``<label>_q``, ``<label>_families``; ``agreement`` over the tested classes.
    """
    found = {}
    for m in models:
        mine = members[members["model"] == m.label]
        found[m.label] = _model_pairs(m, dict(zip(mine["family"], mine["group"])))
    keys = sorted({k for v in found.values() for k in v}, key=lambda k: (int(k[0][1:]), int(k[1][1:])))
    names = dict(zip(groups["group"], groups["name"]))
    held = {m.label: set(members.loc[members["model"] == m.label, "group"]) for m in models}
    rows = []
    for ga, gb in keys:
        row = {"groupA": ga, "groupB": gb, "nameA": names.get(ga, ""), "nameB": names.get(gb, "")}
        classes = []
        for m in models:
            r = found[m.label].get((ga, gb))
            cls = ("not run" if m.interaction_dir is None else str(r["interaction"]) if r else
                   "" if {ga, gb} <= held[m.label] else "absent")
            row.update({f"{m.label}_class": cls,
                        f"{m.label}_epsilon": pd.to_numeric(r["epsilon"], errors="coerce") if r else np.nan,
                        f"{m.label}_q": pd.to_numeric(r["q"], errors="coerce") if r else np.nan,
                        f"{m.label}_families": f"{r['familyA']}+{r['familyB']}" if r else ""})
            classes.append(cls)
        tested = [c for c in classes if c in ("synergistic", "antagonistic", "additive")]
        row["agreement"] = "" if len(tested) < 2 else "agree" if len(set(tested)) == 1 else "differ"
        rows.append(row)
    return pd.DataFrame(rows)
