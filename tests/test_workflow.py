"""The Snakemake workflow (workflow/Snakefile) on a tiny model: discovery in 2 shards per layer,
merged, gives the bytes of one plain discovery run; a second run has nothing to do."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from combmotif.checkpoint import save_checkpoint
from combmotif.models.saluki import SalukiModel
from combmotif.neuronmotif.discovery_config import load_discovery_config
from combmotif.neuronmotif.shards import SHARDS, candidate_groups, decide_groups, shard_name
from combmotif.neuronmotif.stage import run_discovery

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or shutil.which("snakemake")

CONFIG = """model: {checkpoint: toy-best.pth}
results_dir: %s
seed: 3
sampling: {bin_cap: 20, population: 16, max_generations: 6, patience: 2, screen: 2048}
demix: {min_cluster_size: 10, min_neurons: 2}
report: {enabled: false}
"""


def tiny_model_configs(tmp: Path) -> tuple[Path, Path]:
    """A 2-conv-layer Saluki model (4 filters, a max-pool below conv2) and two configs, results a/ and b/."""
    torch.manual_seed(0)
    save_checkpoint(tmp / "toy-best.pth", SalukiModel(4, 50, 1, filters=4), {}, {})
    for name in ("a", "b"):
        (tmp / f"{name}.yaml").write_text(CONFIG % name)
    return tmp / "a.yaml", tmp / "b.yaml"


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def snakemake(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_WAIT_POLICY="PASSIVE")
    return subprocess.run([SNAKEMAKE, "--snakefile", str(ROOT / "workflow" / "Snakefile"), "--directory", str(tmp),
                           "--configfile", str(tmp / "wf.yaml"), "--cores", "2", *args],
                          cwd=tmp, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed (requirements.txt pins it)")
def test_workflow_shards_give_the_bytes_of_one_run_and_resume_with_nothing_to_do(tmp_path):
    plain, sharded = tiny_model_configs(tmp_path)
    cfg = load_discovery_config(plain)
    run_discovery(cfg, [1, 2], progress=False)          # what main.sh 1 2 runs (pages off)
    (tmp_path / "wf.yaml").write_text(f"shard_size: 2\ngpus: 0\nmodels:\n  toy:\n"
                                      f"    discovery: {sharded}\n    layers: 1-2\n")
    done = snakemake(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = tmp_path / "a" / "toy" / "discovery", tmp_path / "b" / "toy" / "discovery"
    # 2 shards of 2 neurons per layer ran, one decision and one merge per layer
    logs = os.listdir(tmp_path / "b" / "toy" / "workflow" / "logs")
    for layer in (1, 2):
        for job in ("0-1_P1", "2-3_P1", "decide_P1", "merge"):
            assert f"discovery_conv{layer}_{job}.log" in logs
        assert not (b / f"conv{layer}" / SHARDS).exists()     # staging removed once merged
    assert digests(a) == digests(b) and len(digests(a)) > 20
    again = snakemake(tmp_path)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_the_layer_decision_is_the_one_run_s_test_over_every_shard():
    cfg = load_discovery_config(ROOT / "configs" / "interpreting" / "mrl_predictor.yaml")
    assert candidate_groups(cfg, pooled=True) == [1, 2, 3] and candidate_groups(cfg, pooled=False) == [1]
    neurons = list(range(12))
    low = {str(k): 0.5 + 0.01 * k for k in neurons}            # far below the 0.95 target
    high = {str(k): 1.0 + 0.001 * k for k in neurons}          # significantly above it
    assert decide_groups(low, neurons, 1, cfg, pooled=True)[0] is False     # raise P: shards again at 2
    done, test = decide_groups(high, neurons, 2, cfg, pooled=True)
    assert done and test["pattern_groups"] == 2 and test["p"] < 0.1
    assert decide_groups(low, neurons, 3, cfg, pooled=True)[0]              # the last P is kept
    assert decide_groups(low, neurons, 1, cfg, pooled=False)[0]             # not adaptive: one test, kept
    assert shard_name([5, 3, 9]) == "3-9"


def test_steps_refuse_an_undecided_or_unstaged_layer(tmp_path):
    from combmotif.errors import InputError
    from combmotif.neuronmotif.shards import decide_layer, merge_layer, run_shard
    from combmotif.neuronmotif.stage import load_model

    _, sharded = tiny_model_configs(tmp_path)
    cfg = load_discovery_config(sharded)
    model = load_model(cfg)
    run_shard(model, 1, cfg, [0, 1], log=lambda m: None)
    with pytest.raises(InputError, match=r"neurons \[2, 3\] of conv1"):       # shard 2-3 never ran
        decide_layer(model, 1, cfg)
    with pytest.raises(InputError, match="not decided"):
        merge_layer(model, 1, cfg, log=lambda m: None)
    with pytest.raises(InputError, match="--groups 2"):                       # conv1: no max-pool below
        run_shard(model, 1, cfg, [2, 3], groups=2, log=lambda m: None)
