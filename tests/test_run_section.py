"""The shared run section (combmotif/run.py), the one model-name rule and the one results layout."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from combmotif.baselines.compare_config import CompareConfig
from combmotif.config import load_config
from combmotif.contribution.stage import ContributionConfig
from combmotif.errors import ConfigError
from combmotif.interaction.stage import InteractionConfig
from combmotif.layout import layer_dir, model_dir, neuron_dir, stage_dir
from combmotif.models.loader import ModelSpec, model_name
from combmotif.neuronmotif.discovery_config import DiscoveryConfig
from combmotif.run import RunConfig
from combmotif.train_config import TrainConfig, load_train_config

STAGE_CONFIGS = {"discovery": (DiscoveryConfig, {}), "contribution": (ContributionConfig, {}),
                 "interaction": (InteractionConfig, {}), "compare": (CompareConfig, {"layers": [1]})}
RUN_KEYS = ("model", "data", "results_dir", "name", "seed", "device", "batch_size")


def _write(folder: Path, body: dict) -> Path:
    path = folder / "c.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


@pytest.mark.parametrize("stage", sorted(STAGE_CONFIGS))
def test_every_stage_config_has_the_run_section_with_the_same_defaults(stage, tmp_path):
    cls, extra = STAGE_CONFIGS[stage]
    assert issubclass(cls, RunConfig)
    cfg = load_config(_write(tmp_path, {"model": {"checkpoint": "m-best.pth"}, **extra}), cls)
    got = {k: getattr(cfg, k) for k in RUN_KEYS[2:]}
    assert got == {"results_dir": None, "name": None, "seed": 0, "device": "auto", "batch_size": 1024}
    assert cfg.model_name == "m"
    assert cfg.stage_dir(stage).parts[-2:] == ("m", stage)
    assert cfg.model.checkpoint == str(tmp_path / "m-best.pth")


@pytest.mark.parametrize("stage", sorted(STAGE_CONFIGS))
def test_the_old_output_dir_key_names_its_new_name(stage, tmp_path):
    cls, extra = STAGE_CONFIGS[stage]
    path = _write(tmp_path, {"model": {"checkpoint": "m.pth"}, "output_dir": "r", **extra})
    with pytest.raises(ConfigError, match=r"c\.yaml: 'output_dir' is now 'results_dir'"):
        load_config(path, cls)


def test_results_dir_resolves_against_the_config_folder(tmp_path):
    path = _write(tmp_path, {"model": {"checkpoint": "m.pth"}, "results_dir": "out", "name": "x"})
    cfg = load_config(path, ContributionConfig)
    assert cfg.stage_dir("contribution") == tmp_path / "out" / "x" / "contribution"


def test_training_results_dir_is_top_level_and_the_old_key_says_so(tmp_path):
    body = {"name": "tiny", "data": {"format": "mrl_csv", "path": "d.csv"},
            "output": {"weights_dir": "w"}, "results_dir": "res"}
    cfg = load_train_config(_write(tmp_path, body))
    assert isinstance(cfg, TrainConfig) and cfg.seed == 0 and cfg.device == "auto"
    assert cfg.model_results_dir == tmp_path / "res" / "tiny"
    body = {**body, "output": {"weights_dir": "w", "results_dir": "res"}}
    body.pop("results_dir")
    with pytest.raises(ConfigError, match=r"'output\.results_dir' is now 'results_dir'"):
        load_train_config(_write(tmp_path, body))


@pytest.mark.parametrize("spec,name,expected", [
    (ModelSpec(checkpoint="/w/mrl_predictor-best.pth"), None, "mrl_predictor"),
    (ModelSpec(checkpoint="/w/plain.pth"), None, "plain"),
    (ModelSpec(keras_hdf5="/w/retrained_evolution_model.hdf5"), None, "retrained_evolution_model"),
    (ModelSpec(keras_hdf5="/w/k.h5", name="given"), None, "given"),
    (ModelSpec(checkpoint="/w/m-best.pth", name="spec"), "run", "run"),
])
def test_one_model_name_rule(spec, name, expected):
    assert model_name(spec, name) == expected


def test_layout_builds_one_shape(tmp_path):
    stage = stage_dir(tmp_path, "m", "discovery")
    assert model_dir(tmp_path, "m") == tmp_path / "m"
    assert stage == tmp_path / "m" / "discovery"
    assert layer_dir(stage, 3) == stage / "conv3"
    assert neuron_dir(stage, 3, 7) == stage / "conv3" / "neuron7"
    assert stage_dir(None, "m", "x").parts[-3:] == ("results", "m", "x")


def test_run_fields_are_keyword_only_so_stage_keys_may_be_required():
    fields = {f.name: f for f in dataclasses.fields(CompareConfig)}
    assert all(fields[k].kw_only for k in RUN_KEYS)
    assert fields["layers"].default is dataclasses.MISSING


@pytest.mark.parametrize("cls", [DiscoveryConfig, CompareConfig])
def test_motif_db_files_resolve_once_against_the_config_folder(cls, tmp_path):
    from combmotif.config import to_dict

    extra = {"layers": [1]} if cls is CompareConfig else {}
    body = {"model": {"checkpoint": "m.pth"}, "motif_db": "planted+curated+db/x.meme", **extra}
    cfg = load_config(_write(tmp_path, body), cls)
    assert cfg.motif_db == f"planted+curated+{tmp_path / 'db' / 'x.meme'}"
    # Written records name the file relative to where they lie, never by this machine's path.
    assert to_dict(cfg, relative_to=tmp_path / "out")["motif_db"] == "planted+curated+../db/x.meme"
    body["motif_db"] = ["jaspar:2024:CORE", "a+b.meme"]
    cfg = load_config(_write(tmp_path, body), cls)
    assert cfg.motif_db == ["jaspar:2024:CORE", str(tmp_path / "a+b.meme")]
