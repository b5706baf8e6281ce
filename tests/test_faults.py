"""Crash safety: kill -9 at each phase of a real run, rerun, compare with a clean run.

Each stage runs as the user runs it (its Python entry point in a subprocess) on a
tiny model and data set. ``COMBMOTIF_FAULT=<phase>[:<n>]`` makes
:func:`combmotif.io.fault_point` SIGKILL the run at the n-th time it reaches
that phase. After the rerun the outputs must be byte-identical to those of an
uninterrupted run in another folder, finished units must not have been
recomputed (same inode and mtime, and the log says what was skipped or reused),
and no temporary may remain.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tiny_cnn import write_toy_checkpoint

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

#: Names a finished run may not leave behind (kept files of unfinished layers included).
TEMPORARY = (".partial-", ".samples.npz", ".demixed.json")


def _run(script: str, *args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE", "HOME": os.environ.get("HOME", "/tmp")}
    if fault:
        env["COMBMOTIF_FAULT"] = fault
    proc = subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True,
                          env=env, timeout=300)
    if fault:
        assert proc.returncode == -signal.SIGKILL, (fault, proc.returncode, proc.stderr[-2000:])
    else:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _temporaries(d: Path) -> list[str]:
    return [str(p.relative_to(d)) for p in d.rglob("*")
            if p.name.startswith(TEMPORARY) or p.name.endswith(".tmp")]


def _ident(p: Path) -> tuple[int, int]:
    st = p.stat()
    return st.st_ino, st.st_mtime_ns


def _assert_same(fault: Path, clean: Path) -> None:
    assert not _temporaries(fault), _temporaries(fault)
    a, b = _tree(fault), _tree(clean)
    assert a and sorted(a) == sorted(b)
    assert [k for k in a if a[k] != b[k]] == []


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """Checkpoint, data and template shared by the clean and the faulted runs (so that no
    output differs by an input's path); each config writes to its own folder."""
    d = tmp_path_factory.mktemp("faults") / "in"
    d.mkdir()
    write_toy_checkpoint(d, 150, filters=6)
    (d / "template.yaml").write_text("combination1:\n  motifA: [ACG]\n  motifB: [TTA]\n")
    return d


def _configs(inputs: Path, stage: str, body: str) -> tuple[Path, Path]:
    key = "results_dir"
    out = []
    for run in ("clean", "fault"):
        cfg = inputs / f"{stage}-{run}.yaml"
        cfg.write_text(f"{key}: ../{stage}-{run}\n" + textwrap.dedent(body))
        out.append(cfg)
    return out[0], out[1]


def test_discovery_survives_kills_in_sampling_demixing_and_pages(inputs):
    clean, fault = _configs(inputs, "discovery", """
        model: {checkpoint: toy-best.pth}
        seed: 0
        device: cpu
        motif_db: curated
        report: {png: false}
        sampling: {population: 16, max_generations: 8, patience: 3, screen: 2048, bin_cap: 8}
    """)
    script = "motif_discovery/discover.py"
    for layer in ("2", "3"):
        _run(script, str(clean), "--layer", layer)
    root = inputs.parent / "discovery-fault"
    ddir = root / "toy" / "discovery"

    # conv2 (enumerated, no pool below: each neuron is written as soon as it is demixed)
    _run(script, str(fault), "--layer", "2", fault="demixing:3")
    done = sorted(ddir.glob("conv2/neuron*/samples.npz"))
    assert len(done) == 3 and (ddir / "conv2" / ".samples.npz").is_file()
    before = {p: _ident(p) for p in done}
    rerun = _run(script, str(fault), "--layer", "2")
    assert "reusing the sampling of 3 neurons" in rerun.stderr and "sampled" not in rerun.stderr
    assert {p: _ident(p) for p in done} == before                 # finished neurons not redone

    # conv3 (GA, a pool below: the layer's test over all neurons decides the pattern groups)
    _run(script, str(fault), "--layer", "3", fault="sampling")
    assert not (ddir / "conv3" / ".samples.npz").exists()        # nothing finished: sampled again
    _run(script, str(fault), "--layer", "3", fault="demixing:2")
    assert (ddir / "conv3" / ".samples.npz").is_file() and not list(ddir.glob("conv3/neuron*"))
    pages = _run(script, str(fault), "--layer", "3", fault="pages")
    assert "reusing the sampling of 6 neurons" in pages.stderr
    done = sorted(ddir.glob("conv3/neuron*/samples.npz"))
    assert len(done) == 6 and not (ddir / "conv3" / ".samples.npz").exists()
    before = {p: _ident(p) for p in done}
    # what a kill in the middle of a write leaves: temporaries of dead runs (a pid that
    # is gone, or none) are removed; a live writer's is not
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (ddir / "conv3" / f".partial-neuron0.pid{dead.pid}.x1").mkdir()
    (ddir / "conv3" / "neuron1" / ".partial-page.html.old").write_text("half")
    live = ddir / "conv3" / f".partial-neuron2.pid{os.getpid()}.x2"
    live.mkdir()
    last = _run(script, str(fault), "--layer", "3")
    assert "already done" in last.stderr
    assert {p: _ident(p) for p in done} == before
    assert live.is_dir()
    live.rmdir()
    _assert_same(root, inputs.parent / "discovery-clean")


def test_contribution_survives_a_kill_during_the_knockout(inputs):
    clean, fault = _configs(inputs, "contribution", """
        model: {checkpoint: toy-best.pth}
        min_n: 5
        device: cpu
        seed: 1
        knockout: {sequences: 20, replicates: 2, draws: 2}
    """)
    script = "motif_contribution/neuron_contribution.py"
    _run(script, "1", "2", str(clean))
    out = inputs.parent / "contribution-fault" / "toy" / "contribution"
    _run(script, "1", "2", str(fault), fault="knockout:2")
    # conv2's association is finished and marked; its knockout is absent, not an old one
    assert (out / "conv2" / "neuron_contribution.stamp.json").is_file()
    assert not (out / "conv2" / "neuron_knockout.csv").exists()
    finished = [out / "conv1" / "neuron_contribution.csv", out / "conv1" / "neuron_knockout.csv",
                out / "conv2" / "neuron_contribution.csv"]
    before = {p: _ident(p) for p in finished}
    rerun = _run(script, "1", "2", str(fault))
    assert "conv1: contribution already done" in rerun.stdout
    assert {p: _ident(p) for p in finished} == before
    _assert_same(out.parent.parent, inputs.parent / "contribution-clean")

    # every unit finished, then a setting changes: the units it shapes are redone
    fault.write_text(fault.read_text().replace("seed: 1", "seed: 2"))
    changed = _run(script, "1", "2", str(fault))
    assert "neuron_knockout.csv was made with other settings (settings.seed 1 -> 2); redoing it" \
        in changed.stdout
    assert _ident(out / "conv1" / "neuron_contribution.csv") == before[finished[0]]
    assert _ident(out / "conv1" / "neuron_knockout.csv") != before[finished[1]]


def test_interaction_survives_a_kill_during_mutagenesis(inputs):
    clean, fault = _configs(inputs, "interaction", """
        model: {checkpoint: toy-best.pth}
        template: template.yaml
        fragment_threshold: 0.5
        replicates: 2
        max_pair_sequences: 20
        n_boot: 100
        device: cpu
        seed: 3
    """)
    loc, scr = "motif_interaction/fragment_location.py", "motif_interaction/motif_pair_scr.py"
    for cfg in (clean, fault):
        _run(loc, "2", str(cfg))
    _run(scr, "2", "0", "6", str(clean))
    out = inputs.parent / "interaction-fault" / "toy" / "interaction" / "conv2"
    _run(scr, "2", "0", "6", str(fault), fault="mutagenesis:2")
    done = [out / f"neuron{k}" / "pairs.csv" for k in (0, 1)]
    before = {p: _ident(p) for p in done}
    assert not (out / "neuron2" / "stamp.json").exists()
    rerun = _run(scr, "2", "0", "6", str(fault))
    assert "2 neurons already done, skipped (0-1" in rerun.stdout
    assert {p: _ident(p) for p in done} == before
    _assert_same(out.parents[2], inputs.parent / "interaction-clean")


WRITER = """
import sys
from combmotif.io import atomic_path
target, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
failures = 0
for i in range(n):
    try:
        with atomic_path(target) as tmp:
            tmp.mkdir()
            for j in range(3):
                (tmp / f"f{j}.txt").write_text(f"{tag} {i}\\n")
    except Exception as exc:
        failures += 1
        print(repr(exc), file=sys.stderr)
print(failures)
"""


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
def test_concurrent_writers_of_one_folder_never_fail(tmp_path, exchange):
    from combmotif.io import _renameat2

    if exchange and _renameat2() is None:
        pytest.skip("no renameat2 on this system")
    target = tmp_path / "neuron0"
    code = WRITER if exchange else "import combmotif.io as m; m._RENAMEAT2 = False\n" + WRITER
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writers = [subprocess.Popen([sys.executable, "-c", code, str(target), tag, "300"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for tag in "ab"]
    seen = missing = 0
    while any(w.poll() is None for w in writers):
        if seen and exchange:
            # the folder is exchanged in one step: a reader finds the old one or the new one
            missing += not target.is_dir()
        seen = seen or target.is_dir()
        time.sleep(0.0005)
    results = [w.communicate() for w in writers]
    assert [int(out.strip()) for out, _ in results] == [0, 0], [err[-500:] for _, err in results]
    assert missing == 0
    assert os.listdir(tmp_path) == ["neuron0"]                    # nothing moved aside is left
    texts = [(target / f"f{j}.txt").read_text() for j in range(3)]
    assert len(set(texts)) == 1 and texts[0].split()[1] == "299"  # one writer's last folder, whole


def test_discovery_redoes_a_finished_layer_whose_settings_changed(tmp_path):
    # Every neuron finished, then a setting that shapes them changes: the layer is
    # redone (and the log says which setting), giving what a fresh run gives.
    import torch

    from combmotif.models.loader import ModelSpec
    from combmotif.neuronmotif.discovery_config import DiscoveryConfig
    from combmotif.neuronmotif.stage import discover_layer

    from tiny_cnn import TinyCNN

    torch.manual_seed(0)
    model = TinyCNN(filters=3).eval()
    cfg = DiscoveryConfig(model=ModelSpec(checkpoint="tiny-best.pth"))
    discover_layer(model, 1, cfg, tmp_path / "a", progress=False, log=lambda m: None)
    cfg.ppm.ic_threshold = 1.2
    msgs: list[str] = []
    discover_layer(model, 1, cfg, tmp_path / "a", progress=False, log=msgs.append)
    assert "settings changed" in msgs[0] and "ppm.ic_threshold 0.8 -> 1.2" in msgs[0], msgs
    discover_layer(model, 1, cfg, tmp_path / "b", progress=False, log=lambda m: None)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    msgs.clear()
    discover_layer(model, 1, cfg, tmp_path / "a", progress=False, log=msgs.append)
    assert "already done" in msgs[0]


def test_pages_beside_the_sampling_write_the_same_files_and_survive_a_dead_worker(inputs):
    """``report.overlap``: the worker process that matches and pages each layer while the
    next one samples writes the inline path's bytes; a worker killed in the middle of a
    layer's pages fails the run with one line, and the rerun completes it."""
    body = """
        model: {checkpoint: toy-best.pth}
        seed: 0
        device: cpu
        motif_db: curated
        report: {png: false, overlap: OVERLAP}
        sampling: {population: 16, max_generations: 8, patience: 3, screen: 2048, bin_cap: 8}
    """
    inline, _ = _configs(inputs, "overlap-inline", body.replace("OVERLAP", "false"))
    _, fault = _configs(inputs, "overlap-worker", body.replace("OVERLAP", "true"))
    script = "motif_discovery/discover.py"
    _run(script, str(inline), "--layers", "1", "2")

    env = {"PYTHONPATH": str(ROOT), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OMP_NUM_THREADS": "1",
           "HOME": os.environ.get("HOME", "/tmp"), "COMBMOTIF_FAULT": "pages:1"}
    died = subprocess.run([sys.executable, str(ROOT / script), str(fault), "--layers", "1", "2"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert died.returncode == 1, died.stderr[-2000:]
    errors = [line for line in died.stderr.splitlines() if line.startswith("error:")]
    assert errors == [errors[0]] and errors[0].startswith("error: internal error (RuntimeError: the pages "
                                                          "worker process died"), died.stderr[-2000:]
    ddir = inputs.parent / "overlap-worker-fault" / "toy" / "discovery"
    assert (ddir / "conv1" / "matches.csv").is_file() and not (ddir / "conv2" / "matches.csv").exists()
    assert not (ddir.parent / "index.html").exists()
    rerun = _run(script, str(fault), "--layers", "1", "2")
    assert rerun.stderr.count("already done") == 2
    _assert_same(inputs.parent / "overlap-worker-fault", inputs.parent / "overlap-inline-clean")
