"""Run the model comparison: groups, significance, signs, pairs -> ``results/compare_models/<name>/``.

Outputs (CSV, each written atomically): ``groups.csv``, ``members.csv``,
``membership.csv``, ``significance.csv``, ``signs.csv``, ``pairs.csv``
(:mod:`.groups`, :mod:`.tables`), ``site_checks.csv`` (:mod:`.site_check`: groups
some models lack, checked on those models' own sequences) and ``comparison.json``: the models compared
(label, name, results folder relative to the comparison's) and the settings, which
each model's front page reads to link the comparisons that include it. The page
and figures are drawn by the command (report layer) from the returned tables.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import layout
from ..io import write_json
from ..motifs.match import write_csv
from ..paths import relative_path
from .config import ComparedModel, CompareModelsConfig
from .groups import groups_table, match_families, membership_table, model_families, pooled_database
from .site_check import CHECK_COLUMNS, apply_checks, checked_groups, decide, model_checks
from .tables import pairs_table, significance_table, signs_table

TABLES = ("groups", "members", "membership", "significance", "signs", "pairs", "site_checks")


def comparison_dir(cfg: CompareModelsConfig) -> Path:
    """``<results_dir>/compare_models/<name>/`` (:func:`combmotif.layout.model_comparison_dir`).

    Parameters
    ----------
    cfg : CompareModelsConfig
        A loaded config (``name`` filled in).

    Returns
    -------
    pathlib.Path
    """
    return layout.model_comparison_dir(cfg.results_dir, cfg.name)


def run_compare_models(cfg: CompareModelsConfig, models: list[ComparedModel], log=None
                       ) -> dict[str, pd.DataFrame]:
    """Compare the models and write the tables (see the module docstring).

    Parameters
    ----------
    cfg : CompareModelsConfig
        From :func:`combmotif.compare_models.config.load_compare_models_config`.
    models : list of ComparedModel
        Its models.
    log : callable, optional
        Told of families recomputed and of each model's site checks.

    Returns
    -------
    dict of str to pandas.DataFrame
        One entry per name of :data:`TABLES`.

    Raises
    ------
    combmotif.errors.InputError
        A model without discovery outputs (checked for every model before any work).
    """
    families = [model_families(m) for m in models]   # each raises before anything is written
    database = pooled_database(models)
    labels = [m.label for m in models]
    members = match_families(models, families, cfg.match_q, cfg.min_cover, database)
    groups = groups_table(members, labels)
    checks = site_checks(cfg, models, groups, members, log)
    groups = apply_checks(groups, checks, labels)
    tables = {"groups": groups, "members": members, "membership": membership_table(groups, labels),
              "significance": significance_table(models, members),
              "signs": signs_table(models, members, groups, checks), "pairs": pairs_table(models, members, groups),
              "site_checks": checks}
    out = comparison_dir(cfg)
    for name in TABLES:
        write_csv(out / f"{name}.csv", tables[name])
    write_json(out / "comparison.json", {
        "name": cfg.name, "match_q": cfg.match_q, "min_cover": cfg.min_cover, "layers": cfg.layers,
        "site_check": {k: getattr(cfg, k) for k in (
            "site_check", "site_check_min_neurons", "site_check_min_relative", "site_check_min_sd",
            "site_check_sequences", "site_check_replicates", "alpha", "seed")},
        "models": [{"label": m.label, "name": m.name, "molecule": m.molecule,
                    "results": relative_path(m.model_dir, out)} for m in models]})
    return tables


def site_checks(cfg: CompareModelsConfig, models: list[ComparedModel], groups: pd.DataFrame,
                members: pd.DataFrame, log=None) -> pd.DataFrame:
    """Every model's push of the patterns of groups some models lack (:mod:`.site_check`).

    A model without an interaction config (its model and data) is not checked.

    Parameters
    ----------
    cfg : CompareModelsConfig
        ``site_check*``, ``alpha`` and ``seed``.
    models : list of ComparedModel
        The compared models.
    groups, members : pandas.DataFrame
        :func:`.groups.groups_table`, :func:`.groups.match_families`.
    log : callable, optional
        Told of each model's checks.

    Returns
    -------
    pandas.DataFrame
        :func:`.site_check.decide` (no rows when ``site_check`` is off or nothing is checked).
    """
    from ..config import load_config
    from ..errors import CombMotifError
    from ..interaction.stage import InteractionConfig
    from ..perturb import target_predictor
    from ..stage import Stage

    if not cfg.site_check:
        return pd.DataFrame(columns=CHECK_COLUMNS)
    todo = checked_groups(groups, members, [m.label for m in models], cfg.site_check_min_neurons)
    if not len(todo):
        return pd.DataFrame(columns=CHECK_COLUMNS)
    frames = []
    for m in models:
        if m.interaction_config is None:
            continue
        try:
            stage = Stage(load_config(m.interaction_config, InteractionConfig), m.interaction_config,
                          "interaction")
            X = stage.data[0]
        except CombMotifError as exc:
            raise type(exc)(f"site check of model {m.label!r} needs its model and sequences: {exc} "
                            f"(or set site_check: false)") from None
        frames.append(model_checks(todo, m.label, target_predictor(stage), X,
                                   cfg.site_check_sequences, cfg.site_check_replicates, cfg.seed,
                                   stage.cfg.max_redraws, stage.cfg.n_boot))
        if log is not None:
            log(f"{m.label}: site checks of {len(todo)} groups")
    return decide(pd.concat(frames, ignore_index=True), cfg.alpha, cfg.site_check_min_relative,
                  min_sd=cfg.site_check_min_sd) if frames \
        else pd.DataFrame(columns=CHECK_COLUMNS)


def comparisons_of(model_dir: str | Path) -> list[dict]:
    """The comparisons in the model's results root that include it (for its front page).

    Parameters
    ----------
    model_dir : str or Path
        ``results/<model>``.

    Returns
    -------
    list of dict
        ``name``, ``labels`` (every model compared), ``index`` (the page, relative to ``model_dir``).
    """
    import json

    model_dir = Path(model_dir).resolve()
    root = model_dir.parent / layout.MODEL_COMPARISONS
    out = []
    for rec in sorted(root.glob("*/comparison.json")) if root.is_dir() else []:
        try:
            data = json.loads(rec.read_text())
            dirs = [(rec.parent / m["results"]).resolve() for m in data["models"]]
        except (ValueError, KeyError, TypeError, OSError):
            continue   # a half-written or foreign file: no link rather than a broken page
        if model_dir in dirs:
            out.append({"name": data.get("name", rec.parent.name),
                        "labels": [m["label"] for m in data["models"]],
                        "index": relative_path(rec.parent / "index.html", model_dir)})
    return out
