"""The workflow through the SLURM executor plugin on a single-node cluster that
scripts/slurm_up.sh starts here (Debian's slurm-wlm); skipped where it cannot start."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from test_workflow import ROOT, SNAKEMAKE, digests, tiny_model_configs

from combmotif.neuronmotif.discovery_config import load_discovery_config
from combmotif.neuronmotif.stage import run_discovery

MISSING = [b for b in ("slurmctld", "slurmd", "sbatch", "squeue") if shutil.which(b) is None]


@pytest.fixture
def cluster():
    """``SLURM_CONF`` of a cluster started for the test and stopped after it (skips when it cannot start)."""
    if SNAKEMAKE is None:
        pytest.skip("snakemake is not installed (requirements.txt pins it)")
    if MISSING:
        pytest.skip(f"SLURM is not installed here ({', '.join(MISSING)} missing; Debian: apt-get install slurm-wlm)")
    up = subprocess.run(["bash", str(ROOT / "scripts" / "slurm_up.sh")], capture_output=True, text=True, timeout=90)
    if up.returncode != 0 or "SLURM_CONF=" not in up.stdout:
        pytest.skip(f"the single-node SLURM cluster did not start: {up.stderr.strip()[-300:]}")
    conf = up.stdout.strip().split("SLURM_CONF=", 1)[1]
    yield conf
    subprocess.run(["bash", str(ROOT / "scripts" / "slurm_down.sh"), conf], timeout=60)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_workflow_runs_through_slurm_with_the_bytes_of_one_run(tmp_path, cluster):
    plain, sharded = tiny_model_configs(tmp_path)
    run_discovery(load_discovery_config(plain), [1, 2], progress=False)
    (tmp_path / "wf.yaml").write_text(f"shard_size: 2\ngpus: 0\nmodels:\n  toy:\n"
                                      f"    discovery: {sharded}\n    layers: 1-2\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SLURM_CONF=cluster, OMP_WAIT_POLICY="PASSIVE")
    done = subprocess.run(
        [SNAKEMAKE, "--snakefile", str(ROOT / "workflow" / "Snakefile"), "--directory", str(tmp_path),
         "--configfile", str(tmp_path / "wf.yaml"), "--profile", str(ROOT / "workflow" / "profiles" / "slurm"),
         "--slurm-status-command", "squeue", "--slurm-no-account", "--slurm-init-seconds-before-status-checks", "1",
         "--latency-wait", "5", "--default-resources", "mem_mb=1000", "runtime=30", "cpus_per_task=1",
         "--set-resources", "discovery_shard:mem_mb=1000"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=540)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    jobs = Path(cluster).with_name("jobcomp.txt").read_text()
    # 2 layers x 2 shards went through SLURM (plan, decide and merge run where snakemake runs)
    assert jobs.count("JobState=COMPLETED") == 4 and "JobState=FAILED" not in jobs
    a, b = tmp_path / "a" / "toy" / "discovery", tmp_path / "b" / "toy" / "discovery"
    assert digests(a) == digests(b)
