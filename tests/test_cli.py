"""The one command line: ``combmotif <stage> <config> [--layers] [--neurons] ...`` and its aliases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from combmotif.__main__ import build_parser, legacy_argv, main
from combmotif.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
STAGES = ("train", "evaluate", "search", "discovery", "contribution", "fragments", "pairs", "compare",
          "report", "validate", "generate")


def test_every_stage_is_a_subcommand():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(STAGES) <= set(sub.choices)


@pytest.mark.parametrize("text,layers", [("1-4", [1, 2, 3, 4]), ("3", [3]), ("2-2", [2])])
def test_layers_are_inclusive(text, layers):
    args = build_parser().parse_args(["discovery", "c.yaml", "--layers", text])
    assert args.layers == layers and args.config == "c.yaml" and not args.force


def test_neurons_are_half_open_like_a_slice():
    args = build_parser().parse_args(["pairs", "c.yaml", "--layers", "4", "--neurons", "0:3", "--force"])
    assert args.neurons.indices(64) == [0, 1, 2] and args.force and args.scope == "neurons"
    default = build_parser().parse_args(["pairs", "c.yaml", "--layers", "4"])
    assert default.neurons.indices(3) == [0, 1, 2]
    with pytest.raises(ConfigError, match="3-1"):
        build_parser().parse_args(["pairs", "c.yaml", "--layers", "4", "--neurons", "3:1"]).neurons.indices(8)


@pytest.mark.parametrize("argv,needles", [
    (["discovery", "c.yaml", "--layers", "3-1"], ["--layers", "layer range 3..1"]),
    (["contribution", "c.yaml", "--layers", "x"], ["--layers", "'x'"]),
    (["pairs", "c.yaml", "--layers", "1", "--neurons", "0-4"], ["--neurons", "0-4", "half-open"]),
    (["discovery", "c.yaml"], ["--layers"]),
    (["nosuchstage", "c.yaml"], ["nosuchstage"]),
])
def test_a_bad_command_line_is_one_error_line(argv, needles, capsys, tmp_path):
    with pytest.raises(SystemExit) as ex:
        main(argv)
    assert ex.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    assert all(n in err[0] for n in needles), err[0]


def test_missing_config_names_the_file(capsys, tmp_path):
    with pytest.raises(SystemExit) as ex:
        main(["contribution", str(tmp_path / "absent.yaml"), "--layers", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert ex.value.code == 2 and len(err) == 1 and "absent.yaml" in err[0]


@pytest.mark.parametrize("command,argv,expected", [
    ("contribution", ["1", "4", "c.yaml", "--force"], ["contribution", "c.yaml", "--layers", "1-4", "--force"]),
    ("search:interaction", ["4", "4", "c.yaml"], ["search", "c.yaml", "--layers", "4-4", "--stage", "interaction"]),
    ("fragments", ["4", "c.yaml"], ["fragments", "c.yaml", "--layers", "4"]),
    ("pairs", ["4", "0", "64", "c.yaml"], ["pairs", "c.yaml", "--layers", "4", "--neurons", "0:64"]),
    ("discovery", ["c.yaml", "--layer", "3"], ["discovery", "c.yaml", "--layers", "3"]),
    ("discovery", ["c.yaml", "--layers", "1", "4"], ["discovery", "c.yaml", "--layers", "1-4"]),
    ("report", ["c.yaml", "--layers", "1", "2"], ["report", "c.yaml", "--layers", "1-2"]),
    ("train", ["--config", "c.yaml", "--epochs", "1"], ["train", "c.yaml", "--epochs", "1"]),
    ("evaluate", ["--config=c.yaml"], ["evaluate", "c.yaml"]),
    ("generate:mrl", ["--out", "o"], ["generate", "mrl", "--out", "o"]),
    ("validate:contribution", ["1", "2", "c.yaml"], ["validate", "contribution", "c.yaml", "--layers", "1-2"]),
    ("validate:interaction", ["c.yaml", "--layer", "3", "--layer", "4"],
     ["validate", "interaction", "c.yaml", "--layers", "3-4"]),
    ("validate:discovery", ["--config", "c.yaml", "--truth", "t.json", "--layers", "1-5"],
     ["validate", "discovery", "c.yaml", "--truth", "t.json", "--layers", "1-4"]),
    ("validate:discovery", ["--config", "c.yaml", "--truth", "t.json", "--layers", "1,2,3"],
     ["validate", "discovery", "c.yaml", "--truth", "t.json", "--layers", "1-3"]),
])
def test_older_script_forms_map_onto_the_subcommands(command, argv, expected):
    assert legacy_argv(command, argv) == expected


def test_recovery_table_keeps_its_default_config_and_truth():
    argv = legacy_argv("validate:discovery", ["--per-layer"])
    assert argv[:3] == ["validate", "discovery", str(REPO / "configs/interpreting/mrl_predictor.yaml")]
    assert argv[3:] == ["--per-layer", "--truth", str(REPO / "data/synthetic_mrl/truth.json")]


@pytest.mark.parametrize("check,flags", [("discovery", ["--layers", "2-3"]),
                                         ("contribution", ["--layers", "2-3", "--device", "cpu"]),
                                         ("interaction", ["--layers", "2-3", "--device", "cpu"])])
def test_validate_takes_the_config_and_inclusive_layers_like_every_stage(check, flags):
    args = build_parser().parse_args(["validate", check, "c.yaml", *flags, "--truth", "t.json"])
    assert args.config == "c.yaml" and args.layers == [2, 3] and args.truth == "t.json"
    assert args.func.__name__ == f"validate_{check}"


def test_validate_contribution_needs_its_layers(capsys):
    with pytest.raises(SystemExit) as ex:
        main(["validate", "contribution", "c.yaml"])
    err = capsys.readouterr().err.strip().splitlines()
    assert ex.value.code == 2 and len(err) == 1 and "--layers" in err[0]


@pytest.mark.parametrize("stage", ["discovery", "contribution", "compare"])
def test_neurons_overrides_the_configs_selection_only_when_given(stage):
    from combmotif.commands import _overrides

    layers = [] if stage == "compare" else ["--layers", "2"]
    args = build_parser().parse_args([stage, "c.yaml", *layers, "--neurons", "0:3"])
    assert args.neurons.indices(8) == [0, 1, 2]
    key = "layers.ind" if stage == "discovery" else "neurons"
    assert _overrides(args, neurons=key) == ({"layers": {"ind": "0-3"}} if stage == "discovery"
                                             else {"neurons": "0-3"})
    plain = build_parser().parse_args([stage, "c.yaml", *layers])
    assert plain.neurons is None and _overrides(plain, neurons=key) is None


def test_compare_layers_override_the_configs_list():
    from combmotif.commands import _overrides

    args = build_parser().parse_args(["compare", "c.yaml", "--layers", "1-2", "--device", "cpu"])
    assert _overrides(args, neurons="neurons", layers="layers") == {"device": "cpu", "layers": [1, 2]}


@pytest.mark.parametrize("stage", ["search", "discovery", "contribution", "fragments", "pairs", "compare"])
def test_every_stage_takes_layers_force_and_device(stage):
    help_text = next(a for a in build_parser()._actions if a.dest == "command").choices[stage].format_help()
    assert all(flag in help_text for flag in ("--layers", "--force", "--device", "--debug"))


WRAPPERS = [p.relative_to(REPO) for d in ("motif_discovery", "motif_contribution", "motif_interaction")
            for p in sorted((REPO / d).glob("*.sh"))]


@pytest.mark.parametrize("wrapper", WRAPPERS, ids=str)
def test_a_wrapper_without_its_arguments_is_a_usage_error(wrapper):
    proc = subprocess.run(["bash", str(REPO / wrapper)], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, COMBMOTIF_VENV=sys.prefix))
    err = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(err) == 1 and err[0].startswith("error: "), proc.stderr


def test_training_scripts_fall_back_to_their_default_config():
    assert legacy_argv("train", ["--epochs", "2"], default_config="d.yaml") == ["train", "d.yaml", "--epochs", "2"]


def test_python_dash_m_combmotif_runs_a_generator(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "combmotif", "generate", "mrl", "--out", str(tmp_path / "m"),
                           "--n", "200", "--seed", "1"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "m").iterdir()} >= {"data.csv", "truth.json", "planted.meme"}


def test_setup_env_puts_combmotif_on_the_path(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["COMBMOTIF_VENV"] = sys.prefix
    script = "source scripts/setup_env.sh && source scripts/setup_env.sh && cd / && combmotif --help"
    proc = subprocess.run(["bash", "-c", f"cd {REPO} && {script}"], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert all(stage in proc.stdout for stage in STAGES)


def test_records_name_the_command_as_python_dash_m_combmotif():
    from combmotif.paths import portable_command

    main_py = REPO / "combmotif" / "__main__.py"
    cmd = portable_command([str(main_py), "evaluate", str(REPO / "configs/training/mrl_predictor.yaml")])
    assert cmd == "python -m combmotif evaluate configs/training/mrl_predictor.yaml"


def test_neurons_flag_selects_the_contribution_neurons(tmp_path, capsys):
    import pandas as pd

    from tiny_cnn import write_toy_checkpoint

    write_toy_checkpoint(tmp_path, 300, filters=4)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model: {checkpoint: toy-best.pth}\nresults_dir: results\nmin_n: 5\ndevice: cpu\n"
                   "knockout: {enabled: false}\n")
    with pytest.raises(SystemExit) as ex:
        main(["contribution", str(cfg), "--layers", "1", "--neurons", "0:9"])
    err = capsys.readouterr().err.strip().splitlines()
    assert ex.value.code == 2 and len(err) == 1 and "--neurons 0:9 of conv1" in err[0]
    assert not (tmp_path / "results").exists()
    with pytest.raises(SystemExit) as ex:
        main(["contribution", str(cfg), "--layers", "1", "--neurons", "1:3"])
    assert ex.value.code == 0, capsys.readouterr().err
    table = pd.read_csv(tmp_path / "results/toy/contribution/conv1/neuron_contribution.csv")
    assert list(table["neuron"]) == [1, 2]
