"""Logo speed: a vector (SVG) logo drawn straight from the PPM against logomaker's PNG, in one run.

    python bench/logo_speed.py [--discovery results/mrl_predictor/discovery] [--png 20]

Reads every cluster PPM (``conv*/neuron*/ppms.meme``) of a discovery folder (random
PPMs of widths 5-36 when the folder is missing, and says so), then times, on the same
PPMs and in this process: :func:`combmotif.report.logos.logo_svg` over all of them
(the one-off glyph extraction, which imports matplotlib, timed apart), the same written
to disk (:func:`write_logo_svg`, atomic), and :func:`write_logo_png` (logomaker) over the
first ``--png`` of them. Prints milliseconds per logo and the PNG / SVG ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from combmotif.motifs.formats import read_motifs  # noqa: E402
from combmotif.report.logos import _glyph, logo_svg, write_logo_png, write_logo_svg  # noqa: E402


def cluster_ppms(discovery: Path) -> list[np.ndarray]:
    """Every cluster PPM of a discovery folder, layer by layer, neuron by neuron."""
    files = sorted(discovery.glob("conv*/neuron*/ppms.meme"))
    return [m.ppm for f in files for m in read_motifs(f)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--discovery", type=Path, default=ROOT / "results/mrl_predictor/discovery")
    ap.add_argument("--png", type=int, default=20, help="PNGs drawn (logomaker is slow)")
    args = ap.parse_args()
    ppms = cluster_ppms(args.discovery) if args.discovery.is_dir() else []
    if not ppms:
        print(f"no cluster PPMs under {args.discovery}: random PPMs of widths 5-36 instead")
        rng = np.random.default_rng(0)
        ppms = [rng.dirichlet(np.full(4, 0.3), int(w)) for w in rng.integers(5, 37, 500)]
    t0 = time.perf_counter()
    for c in "ACGU":
        _glyph(c)
    glyphs = time.perf_counter() - t0
    t0 = time.perf_counter()
    for p in ppms:
        logo_svg(p, True, [(1, 4)])
    svg = (time.perf_counter() - t0) / len(ppms)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for i, p in enumerate(ppms):
            write_logo_svg(Path(tmp) / f"{i}.svg", p, True, [(1, 4)])
        svg_file = (time.perf_counter() - t0) / len(ppms)
        some = ppms[:max(1, args.png)]
        t0 = time.perf_counter()
        for i, p in enumerate(some):
            write_logo_png(Path(tmp) / f"{i}.png", p, True, [(1, 4)])
        png = (time.perf_counter() - t0) / len(some)
    print(f"{len(ppms)} cluster PPMs; glyph outlines read once in {glyphs:.2f} s (imports matplotlib)")
    print("| logo | ms per logo |\n|---|---|")
    print(f"| SVG string (logo_svg) | {1000 * svg:.2f} |")
    print(f"| SVG file (write_logo_svg, atomic) | {1000 * svg_file:.2f} |")
    print(f"| PNG file (logomaker, first {len(some)}) | {1000 * png:.1f} |")
    print(f"PNG file / SVG file: {png / svg_file:.0f}x")


if __name__ == "__main__":
    main()
