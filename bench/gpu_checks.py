"""The GPU checks of issue 16 in one script: installs nothing, writes a markdown table.

    python bench/gpu_checks.py --out gpu_checks.md [--quick] [--results /tmp/gpu_checks]
                               [--parts warm,mrl,hl5,basset,hl] [--budget 540] [--logs DIR]
                               [--limits hl=300,basset=240]

Parts, run in the order given, each in its own process killed at its limit (its row then
says so), the whole run kept within ``--budget`` seconds (the longest, ``hl``, last by
default, so that a short budget still measures the others):

``warm``    one small Tomtom call: numba compiles memelite's Tomtom once per environment
            (cached on disk), which the first discovery run would otherwise pay
``mrl``     MRL predictor conv1-conv4, everything (sampling, demixing, Tomtom, pages) on the
            GPU (target <= 20 s)
``hl5``     half-life conv5 alone on the GPU, then on all CPU cores (target: GPU >= 3x faster)
``hl``      half-life predictor conv1-conv7 x 64 neurons, everything: ``combmotif discovery
            configs/interpreting/hl_predictor.yaml --layers 1-7 --device cuda`` (target <= 300 s)
``basset``  a Basset-shaped DNA CNN (:mod:`basset_speed`), all 700 neurons of conv1-conv3
            on the GPU (target <= 600 s)

The table is rewritten after every part (a run cut short keeps what it measured), with the
per-layer seconds of sampling, demixing and pages read from each run's log; ``--logs`` keeps
the logs. Config copies live under ``--results`` (results_dir there too); a config whose
``data_dir`` is missing on the machine (``data/`` is not in git: carry
``data/synthetic_mrl/planted.meme`` and ``data/synthetic_halflife/planted.meme``) is matched
against the curated database instead. ``--quick`` runs every part on 4 neurons per layer
(Basset: 8) on whatever device there is, to test the script on a CPU.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from discovery_speed import LINES, write_config  # noqa: E402

# Tomtom (memelite) is compiled by numba at its first call in an environment and cached on
# disk: a user pays it once, on the first run after installing. It is timed apart.
# What the discovery runs compare: each config's motif database against itself (the groups
# of near-duplicate database motifs) and queries of several widths, one past memelite's
# window. Which of memelite's kernels a call compiles depends on the motifs: flat random
# ones fall below Tomtom's information floor and compile nothing, and random informative
# ones left kernels that the first discovery run compiled in its pages.
WARM = """
import sys
import numpy as np
from combmotif.motifs.collect import database_groups
from combmotif.motifs.databases import resolve_motif_db
from combmotif.motifs.formats import Motif
from combmotif.motifs.tomtom import tomtom
from combmotif.neuronmotif.discovery_config import load_discovery_config
rng = np.random.default_rng(0)
q = [Motif(f'q{w}', rng.dirichlet(np.full(4, 0.3), w)) for w in (8, 12, 20, 36, 72, 150)]
for path in sys.argv[1:]:
    c = load_discovery_config(path)
    t = list(resolve_motif_db(c.motif_db, data_dir=c.data_dir))
    m = c.matching
    assert len(tomtom(q + t, t, norc=m.given_strand, thresh=None)), 'the warm-up compared nothing'
    database_groups(t, cfg=m)
"""
#: The seconds-since-start stamp of each log line (:meth:`Runner.run`).
STAMP = re.compile(r"^\s*[\d.]+s  ")
TARGETS = {"mrl": "<= 20 s", "hl5": "GPU >= 3x faster than CPU", "hl": "<= 300 s", "basset": "<= 600 s"}
LIMITS = {"warm": 120.0, "mrl": 90.0, "hl5": 150.0, "hl": 330.0, "basset": 600.0}


def _config(name: str, results: Path, tag: str) -> Path:
    """A copy of configs/interpreting/<name>.yaml with results under ``results/<tag>``."""
    source = ROOT / "configs" / "interpreting" / f"{name}.yaml"
    path = write_config(source, results, tag, {"report": {"png": False}})
    import yaml

    cfg = yaml.safe_load(path.read_text())
    if cfg.get("data_dir") and not (Path(cfg["data_dir"]) / "planted.meme").is_file():
        cfg["motif_db"], cfg["data_dir"] = "curated", None
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


class Runner:
    """Runs the parts' processes within one time budget and keeps their logs.

    Parameters
    ----------
    budget : float
        Seconds for the whole run.
    limits : dict
        Seconds per part at most.
    logs : Path or None
        Folder for ``<tag>.log`` (stdout and stderr of each process).
    """

    def __init__(self, budget: float, limits: dict, logs: Path | None):
        self.deadline = time.perf_counter() + budget
        self.limits, self.logs = limits, logs

    def run(self, cmd: list[str], part: str, tag: str) -> tuple[float, str, str]:
        """Run ``cmd``; (seconds, status, log text). Status ``ok``, ``timed out after N s``, ``failed: ...``.

        Parameters
        ----------
        cmd : list of str
            The command.
        part : str
            Its part (for its limit).
        tag : str
            Its log's name.

        Returns
        -------
        tuple
        """
        limit = min(self.limits[part], self.deadline - time.perf_counter())
        if limit < 5:
            return 0.0, "skipped: no time left in the budget", ""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        t0 = time.perf_counter()
        lines: list[str] = []
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=env)
        # Each line stamped with the seconds since the start: the log then shows where the
        # time outside the three phases goes (start-up, families, front page).
        reader = threading.Thread(target=lambda: lines.extend(
            f"{time.perf_counter() - t0:7.2f}s  {line}" for line in proc.stdout), daemon=True)
        reader.start()
        try:
            code, status = proc.wait(timeout=limit), "ok"
        except subprocess.TimeoutExpired:
            proc.kill()
            code, status = proc.wait(), f"timed out after {limit:.0f} s"
        reader.join(timeout=10)
        out = "".join(lines)
        if code and status == "ok":
            tail = [line for line in out.strip().splitlines() if line.strip()]
            status = "failed: " + (STAMP.sub("", tail[-1]) if tail else f"exit {code}")
        secs = time.perf_counter() - t0
        if self.logs:
            self.logs.mkdir(parents=True, exist_ok=True)
            (self.logs / f"{tag}.log").write_text(" ".join(cmd) + "\n" + out)
        return secs, status, out


def phases(log: str) -> str:
    """``conv5 3.1/20.4/2.0`` per layer: seconds of sampling / demixing / pages read from a log.

    Parameters
    ----------
    log : str
        A discovery (or Basset bench) run's output.

    Returns
    -------
    str
    """
    found: dict[int, dict] = {}
    for line in log.splitlines():
        for phase, pattern in LINES.items():
            m = pattern.search(STAMP.sub("", line).strip())
            if m:
                found.setdefault(int(m.group(1)), {})[phase] = float(m.group(2))
    cells = []
    for layer, p in sorted(found.items()):
        cells.append(f"conv{layer} " + "/".join(f"{p[k]:.1f}" if k in p else "–" for k in LINES))
    return ", ".join(cells)


def _discovery(runner: Runner, part: str, cfg: Path, layers: str, device: str, neurons: str | None,
               tag: str) -> tuple[float, str, str]:
    cmd = [sys.executable, "-m", "combmotif", "discovery", str(cfg), "--layers", layers, "--force",
           "--device", device]
    return runner.run(cmd + (["--neurons", neurons] if neurons else []), part, tag)


def _row(part: str, device: str, neurons: str, result: tuple, target: str) -> dict:
    secs, status, log = result
    return dict(part=part, device=device, neurons=neurons, seconds=secs, status=status, target=target,
                phases=phases(log))


def run_part(part: str, runner: Runner, results: Path, device: str, quick: bool) -> list[dict]:
    """The rows of one part.

    Parameters
    ----------
    part : str
        ``mrl``, ``hl5``, ``hl`` or ``basset``.
    runner : Runner
        Runs the processes within the budget.
    results : Path
        Scratch folder.
    device : str
        ``cuda`` (or ``cpu`` with ``--quick`` on a machine without one).
    quick : bool
        4 neurons per layer (Basset 8).

    Returns
    -------
    list of dict
        ``part``, ``device``, ``neurons``, ``seconds``, ``status``, ``target``, ``phases``.
    """
    neurons = "0:4" if quick else None
    label = "4 per layer" if quick else "all"
    if part == "warm":
        cfgs = [str(_config(name, results, f"warm-{name}")) for name in ("mrl_predictor", "hl_predictor")]
        res = runner.run([sys.executable, "-c", WARM, *cfgs], part, "warm")
        return [_row("Tomtom compiled by numba (once per environment)", "cpu", "–", res, "–")]
    if part == "mrl":
        res = _discovery(runner, part, _config("mrl_predictor", results, "mrl"), "1-4", device, neurons, "mrl")
        return [_row("MRL conv1-4, everything", device, label, res, TARGETS[part])]
    if part == "hl":
        res = _discovery(runner, part, _config("hl_predictor", results, "hl"), "1-7", device, neurons, "hl")
        return [_row("half-life conv1-7, everything", device, label, res, TARGETS[part])]
    if part == "hl5":
        rows = []
        for dev in dict.fromkeys((device, "cpu")):
            res = _discovery(runner, part, _config("hl_predictor", results, f"hl5-{dev}"), "5", dev, neurons,
                             f"hl5-{dev}")
            name = f"cpu ({os.cpu_count()} cores)" if dev == "cpu" else dev
            rows.append(_row("half-life conv5", name, label, res, TARGETS[part]))
        return rows
    if part == "basset":
        cmd = [sys.executable, str(ROOT / "bench" / "basset_speed.py"), "--layers", "1-3", "--device", device,
               "--results", str(results / "basset"), "--neurons", "0:8" if quick else "all"]
        res = runner.run(cmd, part, "basset")
        return [_row("Basset-shaped conv1-3", device, "8 per layer" if quick else "700", res, TARGETS[part])]
    raise SystemExit(f"error: --parts: unknown part {part!r} (warm, mrl, hl5, hl, basset)")


def table(rows: list[dict], header: str) -> str:
    """The markdown table of the rows under ``header``.

    Parameters
    ----------
    rows : list of dict
        The measurements.
    header : str
        A line above the table.

    Returns
    -------
    str
    """
    lines = [header, "", "| part | device | neurons | seconds | target | status | "
                         "per layer: sampling/demixing/pages s |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['part']} | {r['device']} | {r['neurons']} | {r['seconds']:.1f} | {r['target']} | "
              f"{r['status']} | {r['phases']} |" for r in rows]
    conv5 = [r for r in rows if r["part"] == "half-life conv5"]
    cpu = [r for r in conv5 if r["device"].startswith("cpu")]
    gpu = [r for r in conv5 if not r["device"].startswith("cpu")]
    if cpu and gpu and gpu[0]["status"] == "ok":
        bound = "" if cpu[0]["status"] == "ok" else "at least "
        lines.append(f"\nhalf-life conv5: the GPU {bound}{cpu[0]['seconds'] / gpu[0]['seconds']:.2f}x faster "
                     f"than the CPU cores")
    return "\n".join(lines)


def _limits(text: str) -> dict:
    limits = dict(LIMITS)
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        if key not in limits:
            raise SystemExit(f"error: --limits: unknown part {key!r}")
        limits[key] = float(value)
    return limits


def main(argv: list[str] | None = None) -> int:
    """Run the checks, print the table and write it to ``--out``; see the module doc.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments.

    Returns
    -------
    int
        0.
    """
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--results", type=Path, default=Path("/tmp/gpu_checks"))
    ap.add_argument("--parts", default="warm,mrl,hl5,basset,hl")
    ap.add_argument("--budget", type=float, default=540.0, help="seconds for the whole run")
    ap.add_argument("--limits", default="", help="per part, e.g. hl=300,basset=240")
    ap.add_argument("--logs", type=Path, default=None, help="folder for each process's log")
    args = ap.parse_args(argv)
    cuda = torch.cuda.is_available()
    if not cuda and not args.quick:
        sys.exit("error: no CUDA device; use --quick to test the script on a CPU")
    device = "cuda" if cuda else "cpu"
    name = torch.cuda.get_device_name(0) if cuda else "no GPU"
    header = (f"GPU checks ({name}; {os.cpu_count()} CPU cores; torch {torch.__version__}"
              f"{'; --quick' if args.quick else ''})")
    runner, rows = Runner(args.budget, _limits(args.limits), args.logs), []
    for part in args.parts.split(","):
        rows += run_part(part, runner, args.results, device, args.quick)
        args.out.write_text(table(rows, header) + "\n")
        print(rows[-1], flush=True)
    print(table(rows, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())
