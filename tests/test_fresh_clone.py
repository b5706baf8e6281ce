"""A newcomer's run from a copy of the repository at another path.

The repository's files (tracked and untracked-but-not-ignored, so uncommitted
work is tested too; in CI this equals a clone) are copied into a temporary
folder, and every stage runs there through its user-facing shell wrapper on a
tiny synthetic set and a tiny model: data -> train -> evaluate -> discovery
with pages -> contribution -> interaction -> compare. Afterwards no text file
in the copy may hold the copy's or the original repository's absolute path:
records and pages must work wherever the repository lies.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from combmotif.checkpoint import load_checkpoint, save_checkpoint
from combmotif.models.saluki import SalukiModel
from combmotif.paths import portable_command, recorded_path

REPO = Path(__file__).resolve().parents[1]
TEXT_SUFFIXES = {".json", ".csv", ".yaml", ".yml", ".html", ".tsv", ".txt", ".meme", ".js"}
TINY_N = 1500


def copy_repository(dest: Path) -> None:
    """Copy what ``git clone`` of the working tree would hold (plus untracked, not ignored files)."""
    try:
        listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                 cwd=REPO, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git working tree: nothing to clone")
    for rel in filter(None, listing.decode().split("\0")):
        src = REPO / rel
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel)


def derive_config(clone: Path, shipped: str, out: str, **changes) -> str:
    """Write ``out`` (relative to the copy) from a shipped config with ``changes`` merged over it,
    so the test follows the shipped configs' schema; returns the path relative to the copy."""
    cfg = yaml.safe_load((clone / shipped).read_text())
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(cfg.get(key), dict):
            cfg[key] = {**cfg[key], **value}
        else:
            cfg[key] = value
    (clone / out).write_text(yaml.safe_dump(cfg, sort_keys=False))
    return out


def run(clone: Path, stage_dir: str, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run one wrapper from its stage folder, as the README tells a user to."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    # The current venv (sys.prefix, not the resolved interpreter, which lies outside it):
    # setup_env.sh honours COMBMOTIF_VENV, so no new venv is built in the copy.
    env.update(COMBMOTIF_VENV=sys.prefix, OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    proc = subprocess.run(list(argv), cwd=clone / stage_dir, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(argv)} in {stage_dir}/ failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def text_files_holding(root: Path, needles: list[str]) -> dict[str, str]:
    """Text files under ``root`` that the run wrote (new, or changed from the repository's
    copy) and that hold one of ``needles``: file -> the needle found."""
    hits = {}
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if p.is_file() and p.suffix in TEXT_SUFFIXES and not (
                (REPO / rel).is_file() and (REPO / rel).read_bytes() == p.read_bytes()):
            text = p.read_text(errors="replace")
            found = [n for n in needles if n in text]
            if found:
                hits[str(rel)] = found[0]
    return hits


@pytest.mark.slow
def test_every_stage_runs_from_a_copy_at_another_path(tmp_path):
    if sys.prefix == sys.base_prefix:  # the copy borrows this venv; never install into a system Python
        pytest.skip("run from the project's virtual environment (bash test.sh)")
    clone = tmp_path / "elsewhere" / "CombMotif copy"
    copy_repository(clone)
    assert (clone / "quickstart.sh").is_file()

    # data: a small synthetic MRL set (truth.json and planted.meme included)
    run(clone, ".", "bash", "-c", "source scripts/setup_env.sh && "
        f"python generate_dataset/make_synthetic_mrl.py --out data/synthetic_mrl --n {TINY_N} --seed 0")
    data = clone / "data" / "synthetic_mrl"
    assert {"data.csv", "truth.json", "planted.meme"} <= {p.name for p in data.iterdir()}
    # ... its noAUG variant from an absolute --csv, as make_default.sh passes it, and a
    # small half-life set (their records are checked for absolute paths below)
    run(clone, ".", "bash", "-c", "source scripts/setup_env.sh && python generate_dataset/make_noaug.py "
        '--csv "$PWD/data/synthetic_mrl/data.csv" --out data/synthetic_mrl_noAUG && '
        "python generate_dataset/make_synthetic_halflife.py --out data/synthetic_halflife --n 200 "
        "--length 512 --seed 0")
    assert (clone / "data" / "synthetic_mrl_noAUG" / "truth.json").is_file()
    assert (clone / "data" / "synthetic_halflife" / "data.h5").is_file()

    # The shipped checkpoints find their data set in the copy, not where they were trained.
    for name, rel in (("mrl_predictor", "data/synthetic_mrl/data.csv"),
                      ("hl_predictor", "data/synthetic_halflife/data.h5")):
        _, ckpt = load_checkpoint(clone / "model_weights" / f"{name}-best.pth")
        assert Path(ckpt["data"]["path"]) == (clone / rel).resolve()

    # train + evaluate a tiny model (conv1, conv2) on it
    train_cfg = derive_config(
        clone, "configs/training/mrl_predictor.yaml", "configs/training/tiny.yaml", name="tiny",
        device="cpu", data={"top_n": TINY_N, "test_n": 200},
        model={"num_layers": 1, "filters": 8, "gru_units": 8, "dense_units": 8},
        train={"epochs": 1, "batch_size": 64, "max_minutes": 5},
        output={"weights_dir": "../../model_weights", "name": "tiny"})
    run(clone, "mrl", "bash", "run_training.sh", f"../{train_cfg}")
    assert (clone / "model_weights" / "tiny-best.pth").is_file()
    run(clone, "mrl", "bash", "run_test.sh", f"../{train_cfg}")
    results = clone / "results" / "tiny"
    assert any((results / "evaluation").iterdir())

    # discovery with pages on conv1 and conv2, four neurons each
    disc_cfg = derive_config(
        clone, "configs/interpreting/mrl_predictor.yaml", "configs/interpreting/tiny.yaml",
        model={"checkpoint": "../../model_weights/tiny-best.pth"}, name="tiny", device="cpu",
        batch_size=512, layers={"ind": "0-4", "per_layer": {}},
        sampling={"population": 16, "max_generations": 4, "patience": 2, "bin_cap": 20, "screen": 2048},
        demix={"kmeans_n_init": 1},
        matching={"tomtom_backend": "memelite"}, report={"enabled": True, "png": True})
    run(clone, "motif_discovery", "bash", "main.sh", "1", "2", f"../{disc_cfg}")
    disc = results / "discovery"
    for layer in (1, 2):
        assert (disc / f"conv{layer}" / "index.html").is_file()
        assert (disc / f"conv{layer}" / "neuron0" / "ppms.meme").is_file()
    assert (results / "index.html").is_file()

    # contribution of the same neurons
    contrib_cfg = derive_config(
        clone, "configs/contribution/mrl_predictor.yaml", "configs/contribution/tiny.yaml",
        model={"checkpoint": "../../model_weights/tiny-best.pth"}, device="cpu", neurons="0-4",
        data={"split": "train", "max_sequences": 600}, batch_size=512,
        knockout={"sequences": 20, "replicates": 1, "draws": 2})
    run(clone, "motif_contribution", "bash", "run_search_maxact.sh", "1", "2", f"../{contrib_cfg}")
    run(clone, "motif_contribution", "bash", "run_contribution.sh", "1", "2", f"../{contrib_cfg}")
    for layer in (1, 2):
        assert (results / "contribution" / f"conv{layer}" / "neuron_contribution.csv").is_file()

    # interaction on conv2 (labels proposed from the discovery above)
    inter_cfg = derive_config(
        clone, "configs/interaction/mrl_predictor.yaml", "configs/interaction/tiny.yaml",
        model={"checkpoint": "../../model_weights/tiny-best.pth"}, device="cpu",
        data={"split": "train", "max_sequences": 600}, labels_dir=None, label_sources=["auto"],
        max_fragment_sequences=200, replicates=2, max_pair_sequences=50, n_boot=100, batch_size=512)
    run(clone, "motif_interaction", "bash", "run_search_maxact.sh", "2", "2", f"../{inter_cfg}")
    run(clone, "motif_interaction", "bash", "run_fragment_location.sh", "2", f"../{inter_cfg}")
    run(clone, "motif_interaction", "bash", "run_scr.sh", "2", "0", "4", f"../{inter_cfg}")
    assert (results / "interaction" / "conv2" / "motif_pair_stats.csv").is_file()

    # compare: NeuronMotif's finished units against the cheap baselines
    cmp_cfg = derive_config(
        clone, "configs/others/method_compare.yaml", "configs/others/tiny_compare.yaml",
        model={"checkpoint": "../../model_weights/tiny-best.pth"}, name="tiny", device="cpu",
        layers=[2], neurons="0-4", data={"split": "train", "max_sequences": 600}, batch_size=512,
        match={"tomtom_backend": "memelite"},
        methods={"neuronmotif": {"enabled": True, "config": "../interpreting/tiny.yaml", "run": False},
                 "max_seqlet": {"enabled": True, "top_n": 50},
                 "modisco": {"enabled": False},
                 "class_optimization": {"enabled": True, "restarts": 2, "steps": 20, "output": False}})
    run(clone, "motif_discovery", "bash", "compare.sh", f"../{cmp_cfg}")
    assert (results / "compare" / "index.html").is_file()

    # Nothing the run wrote holds this machine's absolute paths (the shipped records are
    # checked by test_shipped_records_hold_no_absolute_path).
    needles = sorted({str(clone), str(clone.resolve()), str(REPO), str(REPO.resolve())}, key=len)
    hits = text_files_holding(clone, needles)
    assert not hits, f"absolute paths in: {hits}"
    # Pages link their files relatively, so a results folder can be moved or shared.
    links = [(p.relative_to(clone), link) for p in clone.glob("results/**/*.html")
             for link in re.findall(r'(?:href|src)="([^"#]*)', p.read_text())]
    assert links
    bad = [(p, link) for p, link in links if link.startswith(("/", "file:"))]
    assert not bad, bad[:5]
    # Binary records whose strings are stored uncompressed: checkpoints (a zip without
    # compression) and HDF5 attributes.
    for rec in [*clone.glob("model_weights/*-best.pth"), *clone.glob("data/**/*.h5")]:
        raw = rec.read_bytes()
        assert not any(n.encode() in raw for n in needles), f"absolute path in {rec.relative_to(clone)}"


# --------------------------------------------------------------------------- the path helpers


def test_checkpoint_records_its_data_relative_and_resolves_it_on_load(tmp_path):
    data = tmp_path / "data" / "set" / "data.csv"
    data.parent.mkdir(parents=True)
    data.write_text("utr,rl\n")
    torch.manual_seed(0)
    model = SalukiModel(4, 50, 1, filters=4, gru_units=4, dense_units=4)
    ckpt_path = tmp_path / "weights" / "toy-best.pth"
    save_checkpoint(ckpt_path, model, {"format": "mrl_csv", "path": str(data)}, {})
    raw = torch.load(ckpt_path, weights_only=False)
    assert raw["data"]["path"] == "../data/set/data.csv"
    assert str(tmp_path).encode() not in ckpt_path.read_bytes()
    _, ckpt = load_checkpoint(ckpt_path)
    assert Path(ckpt["data"]["path"]) == data.resolve()
    # Moving the checkpoint and its data together keeps them linked.
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "weights", moved / "weights")
    shutil.copytree(tmp_path / "data", moved / "data")
    _, ckpt = load_checkpoint(moved / "weights" / "toy-best.pth")
    assert Path(ckpt["data"]["path"]) == (moved / "data" / "set" / "data.csv").resolve()
    # The same weights saved twice give the same bytes (the temporary name is not recorded).
    again = tmp_path / "weights2" / "toy-best.pth"
    save_checkpoint(again, model, {"format": "mrl_csv", "path": str(data)}, {})
    assert again.read_bytes() == ckpt_path.read_bytes()


def test_an_old_absolute_record_falls_back_to_this_repository(tmp_path):
    old = "/machine/that/trained/it/configs/training/mrl_predictor.yaml"
    assert recorded_path(old, tmp_path) == REPO / "configs" / "training" / "mrl_predictor.yaml"
    existing = tmp_path / "x.csv"
    existing.write_text("")
    assert recorded_path(str(existing), REPO) == existing
    missing = "/machine/that/trained/it/no/such/file.csv"
    assert recorded_path(missing, tmp_path) == Path(missing)
    assert recorded_path("../a/b.csv", tmp_path / "w") == tmp_path / "a" / "b.csv"


def test_command_is_recorded_as_run_from_the_repository(monkeypatch):
    monkeypatch.chdir(REPO / "mrl")
    cmd = portable_command([str(REPO / "mrl" / "train.py"), "--config",
                            "../configs/training/mrl_predictor.yaml", "--epochs", "1"])
    assert cmd == "python mrl/train.py --config configs/training/mrl_predictor.yaml --epochs 1"
    # an output still to be made, given as an absolute path, and the --flag=value form
    cmd = portable_command(["evaluate.py", f"--out={REPO / 'results' / 'new'}", "--out", str(REPO / "x y")])
    assert cmd == "python mrl/evaluate.py --out=results/new --out 'x y'"


def test_shipped_records_hold_no_absolute_path():
    for rec in sorted((REPO / "model_weights").glob("*-best.json")):
        text = rec.read_text()
        assert str(REPO) not in text and '"/' not in text, rec.name
        ckpt = torch.load(rec.with_suffix(".pth"), weights_only=False)
        assert not Path(ckpt["data"]["path"]).is_absolute()
        assert not ckpt["command"].startswith("/")
