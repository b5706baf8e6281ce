"""The one results layout: ``<results_dir>/<model>/<stage>/conv<L>/neuron<k>/``.

Every stage, the validation checks and the report build their folders here, so
a folder's name is decided in one place.
"""

from __future__ import annotations

import os
from pathlib import Path

from .paths import repo_root

#: The stage folders under ``<results_dir>/<model>/``.
STAGES = ("evaluation", "discovery", "contribution", "interaction", "compare")


def results_root(results_dir: str | os.PathLike | None) -> Path:
    """The results root: the config's ``results_dir``, else ``<repo>/results``.

    Parameters
    ----------
    results_dir : path-like or None
        The run section's ``results_dir`` (already absolute when read from a config).

    Returns
    -------
    pathlib.Path
    """
    return Path(results_dir) if results_dir else repo_root() / "results"


def model_dir(results_dir: str | os.PathLike | None, model: str) -> Path:
    """``<results_dir>/<model>/``: every stage's folder of one model.

    Parameters
    ----------
    results_dir : path-like or None
        See :func:`results_root`.
    model : str
        The model's name (:func:`combmotif.models.loader.model_name`).

    Returns
    -------
    pathlib.Path
    """
    return results_root(results_dir) / model


def stage_dir(results_dir: str | os.PathLike | None, model: str, stage: str) -> Path:
    """``<results_dir>/<model>/<stage>/``.

    Parameters
    ----------
    results_dir : path-like or None
        See :func:`results_root`.
    model : str
        The model's name.
    stage : str
        One of :data:`STAGES`.

    Returns
    -------
    pathlib.Path
    """
    return model_dir(results_dir, model) / stage


def layer_dir(stage_folder: str | os.PathLike, layer: int) -> Path:
    """``<stage folder>/conv<layer>/``.

    Parameters
    ----------
    stage_folder : path-like
        A folder from :func:`stage_dir`.
    layer : int
        Conv layer number (1-based).

    Returns
    -------
    pathlib.Path
    """
    return Path(stage_folder) / f"conv{layer}"


def neuron_dir(stage_folder: str | os.PathLike, layer: int, neuron: int) -> Path:
    """``<stage folder>/conv<layer>/neuron<neuron>/``.

    Parameters
    ----------
    stage_folder : path-like
        A folder from :func:`stage_dir`.
    layer : int
        Conv layer number (1-based).
    neuron : int
        Channel index in that layer (0-based).

    Returns
    -------
    pathlib.Path
    """
    return layer_dir(stage_folder, layer) / f"neuron{neuron}"


def contribution_table(model_folder: str | os.PathLike, layer: int) -> Path:
    """``<model folder>/contribution/conv<layer>/neuron_contribution.csv``: the signs the pages show.

    Parameters
    ----------
    model_folder : path-like
        A folder from :func:`model_dir`.
    layer : int
        Conv layer number (1-based).

    Returns
    -------
    pathlib.Path
    """
    return layer_dir(model_stage_dir(model_folder, "contribution"), layer) / "neuron_contribution.csv"


def model_stage_dir(model_folder: str | os.PathLike, stage: str) -> Path:
    """``<model folder>/<stage>/``, from a model's folder rather than from a config.

    Parameters
    ----------
    model_folder : path-like
        A folder from :func:`model_dir`.
    stage : str
        One of :data:`STAGES`.

    Returns
    -------
    pathlib.Path
    """
    return Path(model_folder) / stage


def collected_motifs(model_folder: str | os.PathLike) -> Path:
    """``<model folder>/discovery/collected_motifs.csv``: the distinct database motifs found.

    Parameters
    ----------
    model_folder : path-like
        A folder from :func:`model_dir`.

    Returns
    -------
    pathlib.Path
    """
    return model_stage_dir(model_folder, "discovery") / "collected_motifs.csv"


#: The folder under a results root that holds the cross-model comparisons.
MODEL_COMPARISONS = "compare_models"


def model_comparison_dir(results_dir: str | os.PathLike | None, name: str) -> Path:
    """``<results_dir>/compare_models/<name>/``: one comparison of several models' results.

    Beside the models' own folders, not inside one: it belongs to none of them.

    Parameters
    ----------
    results_dir : path-like or None
        See :func:`results_root`.
    name : str
        The comparison's name.

    Returns
    -------
    pathlib.Path
    """
    return results_root(results_dir) / MODEL_COMPARISONS / name
