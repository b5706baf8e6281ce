"""The GPU checks of issue 16 in one script: installs nothing, writes a markdown table.

    python bench/gpu_checks.py --out gpu_checks.md [--quick] [--results /tmp/gpu_checks]
                               [--parts hl,mrl,hl5,basset] [--limit 240]

Parts (each in its own process, killed after ``--limit`` seconds, its row then says so):

``hl``      half-life predictor conv1-conv7 x 64 neurons, everything (sampling, demixing,
            Tomtom, pages): ``combmotif discovery configs/interpreting/hl_predictor.yaml
            --layers 1-7 --device cuda`` (target <= 300 s)
``mrl``     MRL predictor conv1-conv4, everything, on the GPU (target <= 20 s)
``hl5``     half-life conv5 alone on all CPU cores, then on the GPU (target: GPU >= 3x faster)
``basset``  a Basset-shaped DNA CNN (:mod:`basset_speed`), all 700 neurons of conv1-conv3
            on the GPU (target <= 600 s)

Config copies live under ``--results`` (results_dir there too); a config whose ``data_dir``
is missing on the machine (``data/`` is not in git: carry ``data/synthetic_mrl/planted.meme``
and ``data/synthetic_halflife/planted.meme``) is matched against the curated database instead.
``--quick`` runs every part on 4 neurons per layer (Basset: 8) on whatever device there is,
to test the script on a CPU.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from discovery_speed import write_config  # noqa: E402

TARGETS = {"hl": "<= 300 s", "mrl": "<= 20 s", "hl5": "GPU >= 3x faster than CPU", "basset": "<= 600 s"}


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


def _timed(cmd: list[str], limit: float, env: dict | None = None) -> tuple[float, str]:
    """Run ``cmd``; (seconds, status): ``ok``, ``timed out after N s`` or ``failed: <last line>``."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=limit, env=env)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - t0, f"timed out after {limit:.0f} s"
    secs = time.perf_counter() - t0
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()
        return secs, "failed: " + (tail[-1] if tail else f"exit {proc.returncode}")
    return secs, "ok"


def _discovery(cfg: Path, layers: str, device: str, neurons: str | None, limit: float) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "combmotif", "discovery", str(cfg), "--layers", layers, "--force",
           "--device", device]
    return _timed(cmd + (["--neurons", neurons] if neurons else []), limit)


def run_parts(parts: list[str], results: Path, device: str, quick: bool, limit: float) -> list[dict]:
    """Run the selected parts; one row per measurement.

    Parameters
    ----------
    parts : list of str
        Among ``hl``, ``mrl``, ``hl5``, ``basset``.
    results : Path
        Scratch folder.
    device : str
        ``cuda`` (or ``cpu`` with ``--quick`` on a machine without one).
    quick : bool
        4 neurons per layer (Basset 8).
    limit : float
        Seconds per process at most.

    Returns
    -------
    list of dict
        ``part``, ``device``, ``neurons``, ``seconds``, ``status``, ``target``.
    """
    neurons = "0:4" if quick else None
    label = "4 per layer" if quick else "all"
    rows = []
    if "hl" in parts:
        secs, status = _discovery(_config("hl_predictor", results, "hl"), "1-7", device, neurons, limit)
        rows.append(dict(part="half-life conv1-7, everything", device=device, neurons=label, seconds=secs,
                         status=status, target=TARGETS["hl"]))
    if "mrl" in parts:
        secs, status = _discovery(_config("mrl_predictor", results, "mrl"), "1-4", device, neurons, limit)
        rows.append(dict(part="MRL conv1-4, everything", device=device, neurons=label, seconds=secs,
                         status=status, target=TARGETS["mrl"]))
    if "hl5" in parts:
        for dev in ("cpu", device):
            cfg = _config("hl_predictor", results, f"hl5-{dev}")
            secs, status = _discovery(cfg, "5", dev, neurons, limit)
            rows.append(dict(part="half-life conv5", device=f"{dev} ({os.cpu_count()} cores)" if dev == "cpu"
                             else dev, neurons=label, seconds=secs, status=status, target=TARGETS["hl5"]))
    if "basset" in parts:
        cmd = [sys.executable, str(ROOT / "bench" / "basset_speed.py"), "--layers", "1-3", "--device", device,
               "--results", str(results / "basset"), "--neurons", "0:8" if quick else "all"]
        secs, status = _timed(cmd, limit)
        rows.append(dict(part="Basset-shaped conv1-3", device=device, neurons="8 per layer" if quick else "700",
                         seconds=secs, status=status, target=TARGETS["basset"]))
    return rows


def table(rows: list[dict], header: str) -> str:
    """The markdown table of :func:`run_parts`' rows under ``header``.

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
    lines = [header, "", "| part | device | neurons | seconds | target | status |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['part']} | {r['device']} | {r['neurons']} | {r['seconds']:.1f} | {r['target']} | "
              f"{r['status']} |" for r in rows]
    cpu = [r for r in rows if r["part"] == "half-life conv5" and r["device"].startswith("cpu")]
    gpu = [r for r in rows if r["part"] == "half-life conv5" and not r["device"].startswith("cpu")]
    if cpu and gpu and cpu[0]["status"] == gpu[0]["status"] == "ok":
        lines.append(f"\nhalf-life conv5: GPU {cpu[0]['seconds'] / gpu[0]['seconds']:.2f}x faster than the CPU")
    return "\n".join(lines)


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
    ap.add_argument("--parts", default="hl,mrl,hl5,basset")
    ap.add_argument("--limit", type=float, default=240.0, help="seconds per part's process")
    args = ap.parse_args(argv)
    cuda = torch.cuda.is_available()
    if not cuda and not args.quick:
        sys.exit("error: no CUDA device; use --quick to test the script on a CPU")
    device = "cuda" if cuda else "cpu"
    name = torch.cuda.get_device_name(0) if cuda else "no GPU"
    rows = run_parts(args.parts.split(","), args.results, device, args.quick, args.limit)
    text = table(rows, f"GPU checks ({name}; {os.cpu_count()} CPU cores; torch {torch.__version__}"
                       f"{'; --quick' if args.quick else ''})")
    print(text)
    args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
