"""Sequence logos: JSON specs for the canvas logos of utils/logo.js, vector (SVG) logos drawn
straight from a PPM, and logomaker PNGs."""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..cores import usable_cores
from ..io import atomic_path, write_text
from ..motifs.formats import information_content
from .html import esc

# logomaker's "classic" colours; utils/logo.js uses the same.
COLORS = {"A": (0, 0.5, 0), "C": (0, 0, 1), "G": (1, 0.65, 0), "T": (1, 0, 0), "U": (1, 0, 0)}


def logo_spec(ppm: np.ndarray, rna: bool = True, highlight: Sequence[tuple[int, int]] = (),
              shift: int = 0, width: int | None = None, label: str = "",
              axis: bool = True) -> dict:
    """The JSON object utils/logo.js draws one canvas from.

    Optional keys are written only when they differ from utils/logo.js's defaults.

    Parameters
    ----------
    ppm : numpy.ndarray
        (W, 4) PPM over A, C, G, T (rounded to 4 digits in the spec).
    rna : bool
        Draw U instead of T (default True).
    highlight : sequence of (int, int)
        Half-open [start, end) column ranges shaded grey (segments); default none.
    shift : int
        Empty columns before the motif (default 0), for aligning logos.
    width : int, optional
        Columns laid out; default ``shift`` + the PPM's width.
    label : str
        Text drawn above the logo (default none).
    axis : bool
        Draw the bits axis (default True).

    Returns
    -------
    dict
        ``ppm`` (list of rows) and ``rna``, plus ``highlight``, ``shift``, ``width``,
        ``label`` and ``axis`` (False) where they differ from the defaults.
    """
    ppm = np.asarray(ppm, dtype=float)
    spec = {"ppm": np.round(ppm, 4).tolist(), "rna": bool(rna)}
    if highlight:
        spec["highlight"] = [[int(a), int(b)] for a, b in highlight]
    if shift:
        spec["shift"] = int(shift)
    if width:
        spec["width"] = int(width)
    if label:
        spec["label"] = label
    if not axis:
        spec["axis"] = False
    return spec


def canvas_tag(key: str, n_columns: int, height: int = 110, col_width: int = 20,
               axis: bool = True, title: str = "") -> str:
    """The ``<canvas>`` element for a logo spec stored under ``key``.

    utils/logo.js finds the canvas by its ``data-key`` and draws the spec into it.

    Parameters
    ----------
    key : str
        The key of the spec (:func:`logo_spec`) in the page's logo table.
    n_columns : int
        Columns the logo lays out (its ``width``, or the PPM's length).
    height : int
        Canvas height in pixels (default 110).
    col_width : int
        Pixels per column (default 20).
    axis : bool
        Whether the spec draws the bits axis: 34 px of margins instead of 6 (default True).
    title : str
        ``aria-label`` of the canvas (default none).

    Returns
    -------
    str
        The HTML element.
    """
    width = n_columns * col_width + (34 if axis else 6)
    t = f' aria-label="{title}"' if title else ""
    return (f'<canvas class="logo" data-key="{key}" width="{width}" height="{height}"{t}>'
            f"</canvas>")


def alignment_specs(query: np.ndarray, target: np.ndarray, offset: int, rna: bool,
                    query_label: str, target_label: str) -> tuple[dict, dict, int]:
    """Two specs that draw ``query`` above ``target`` aligned as Tomtom aligned them.

    Tomtom's offset o puts query column j on target column j + o (MEME's
    Optimal_offset).

    Parameters
    ----------
    query, target : numpy.ndarray
        (W, 4) PPMs of the query motif and the matched database motif.
    offset : int
        Tomtom's offset of the query on the target.
    rna : bool
        Draw U instead of T.
    query_label, target_label : str
        Texts drawn above the two logos.

    Returns
    -------
    query_spec : dict
        :func:`logo_spec` of the query, shifted and laid out on the common width.
    target_spec : dict
        The same for the target.
    n_columns : int
        The common width in columns.
    """
    shift_q, shift_t, width = _aligned_columns(len(query), len(target), offset)
    return (logo_spec(query, rna, shift=shift_q, width=width, label=query_label),
            logo_spec(target, rna, shift=shift_t, width=width, label=target_label), width)


def _aligned_columns(n_query: int, n_target: int, offset: int) -> tuple[int, int, int]:
    """Empty columns before the query and before the target, and the common width, for Tomtom's offset."""
    shift_t = max(0, -offset)
    shift_q = offset + shift_t
    return shift_q, shift_t, max(shift_q + n_query, shift_t + n_target)


_GLYPHS: dict[str, str] = {}     # letter -> SVG path data of its outline in the unit box


def _glyph(letter: str) -> str:
    """The outline of ``letter`` (DejaVu Sans Bold, logomaker's default font) as SVG path
    data stretched to the unit box, y downwards: a logo scales it to each letter's box."""
    if letter not in _GLYPHS:
        from matplotlib.font_manager import FontProperties
        from matplotlib.path import Path as MplPath
        from matplotlib.textpath import TextPath

        path = TextPath((0, 0), letter, size=1, prop=FontProperties(family="DejaVu Sans", weight="bold"))
        box = path.get_extents()
        sx, sy = 1.0 / box.width, 1.0 / box.height
        ops = {MplPath.MOVETO: "M", MplPath.LINETO: "L", MplPath.CURVE3: "Q", MplPath.CURVE4: "C"}
        parts = []
        for verts, code in path.iter_segments(curves=True, simplify=False):
            if code == MplPath.CLOSEPOLY:
                parts.append("Z")
                continue
            xy = np.asarray(verts, dtype=float).reshape(-1, 2)
            pts = " ".join(f"{(x - box.x0) * sx:.4g} {(box.y1 - y) * sy:.4g}" for x, y in xy)
            parts.append(f"{ops[code]}{pts}")
        _GLYPHS[letter] = "".join(parts)
    return _GLYPHS[letter]


def logo_svg(ppm: np.ndarray, rna: bool = True, highlight: Sequence[tuple[int, int]] = (),
             title: str = "", col_width: float = 20.0, height: float = 110.0) -> str:
    """An information-content logo as a standalone SVG document (vector: for figures).

    The canvas logo's layout (utils/logo.js): per column, letters stacked smallest at
    the bottom, each ``probability x information content`` bits high on a 0-2 bits axis,
    grey bands behind the segments, position numbers below. The letters are the outlines
    of DejaVu Sans Bold (logomaker's default font) stretched to their boxes, so the file
    needs no font and draws the same in a browser, Inkscape or Illustrator; a logo is
    written in about a millisecond (a logomaker PNG takes about 0.3 s).

    Parameters
    ----------
    ppm : numpy.ndarray
        (W, 4) PPM over A, C, G, T.
    rna : bool
        Draw U instead of T (default True).
    highlight : sequence of (int, int)
        Half-open [start, end) column ranges shaded grey; default none.
    title : str
        Text above the logo (default none).
    col_width, height : float
        Pixels per column and of the whole drawing (default 20 and 110).

    Returns
    -------
    str
        The SVG document.
    """
    ppm = np.asarray(ppm, dtype=float)
    body, used = _svg_panel(ppm, rna, 0.0, height, col_width, 0, highlight, title)
    return _svg_document(30.0 + 4.0 + col_width * len(ppm), height, used, body)


def alignment_svg(query: np.ndarray, target: np.ndarray, offset: int, rna: bool = True,
                  query_label: str = "", target_label: str = "", col_width: float = 20.0,
                  height: float = 110.0) -> str:
    """Two logos, ``query`` above ``target``, aligned as Tomtom aligned them, as one SVG document.

    The vector twin of :func:`alignment_specs`; each panel is drawn as :func:`logo_svg`
    draws one logo.

    Parameters
    ----------
    query, target, offset, query_label, target_label
        As :func:`alignment_specs`.
    rna : bool
        Draw U instead of T (default True).
    col_width, height : float
        Pixels per column and of each panel (default 20 and 110).

    Returns
    -------
    str
        The SVG document.
    """
    shift_q, shift_t, width = _aligned_columns(len(query), len(target), offset)
    top, used_q = _svg_panel(np.asarray(query, dtype=float), rna, 0.0, height, col_width, shift_q, (),
                             query_label)
    low, used_t = _svg_panel(np.asarray(target, dtype=float), rna, height, height, col_width, shift_t, (),
                             target_label)
    return _svg_document(30.0 + 4.0 + col_width * width, 2 * height, used_q | used_t, top + low)


def _svg_document(width: float, height: float, used: set[str], body: list[str]) -> str:
    """The SVG root around panels drawn by :func:`_svg_panel` (the glyphs they use defined once)."""
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{width:g}" height="{height:g}" viewBox="0 0 {width:g} {height:g}" '
            f'font-family="Helvetica, Arial, sans-serif" font-size="10" fill="#333333">',
            "<defs>" + "".join(f'<path id="glyph-{c}" d="{_glyph(c)}"/>' for c in sorted(used)) + "</defs>",
            f'<rect width="{width:g}" height="{height:g}" fill="#ffffff"/>']
    return "\n".join(head + body + ["</svg>"]) + "\n"


def _svg_panel(ppm: np.ndarray, rna: bool, y0: float, height: float, col_width: float, shift: int,
               highlight: Sequence[tuple[int, int]], title: str) -> tuple[list[str], set[str]]:
    """The elements of one logo ``height`` pixels high from ``y0`` down, its first column
    ``shift`` columns in, and the letters it draws."""
    letters = "ACGU" if rna else "ACGT"
    left = 30.0 + shift * col_width
    top, plot_h = y0 + (16.0 if title else 4.0), height - (16.0 if title else 4.0) - 16.0
    heights = ppm * information_content(ppm)[:, None] / 2.0 * plot_h       # pixels, 2 bits = full
    out = [f'<rect x="{left + a * col_width:.2f}" y="{top:g}" width="{(b - a) * col_width:.2f}" '
           f'height="{plot_h:g}" fill="#e6e6e6"/>' for a, b in highlight]
    fills = ["#%02x%02x%02x" % tuple(int(round(255 * v)) for v in COLORS[c]) for c in letters]
    order = np.argsort(ppm, axis=1, kind="stable")
    tops = top + plot_h - np.cumsum(np.take_along_axis(heights, order, 1), 1)
    used = set()
    for i in range(len(ppm)):
        x = left + (i + 0.05) * col_width
        for k, y in zip(order[i], tops[i]):
            h = heights[i, k]
            if h < 0.2:       # thinner than a hairline: nothing to see
                continue
            used.add(letters[k])
            out.append(f'<use xlink:href="#glyph-{letters[k]}" fill="{fills[k]}" '
                       f'transform="translate({x:.2f} {y:.2f}) scale({0.9 * col_width:.2f} {h:.3f})"/>')
    out.append(f'<line x1="27" y1="{top:g}" x2="27" y2="{top + plot_h:g}" stroke="#555555" stroke-width="1"/>')
    out += [f'<text x="24" y="{top + plot_h - t / 2 * plot_h:.2f}" text-anchor="end" '
            f'dominant-baseline="middle">{t}</text>' for t in (0, 1, 2)]
    out.append(f'<text transform="translate(8 {top + plot_h / 2:.2f}) rotate(-90)" text-anchor="middle" '
               f'dominant-baseline="middle">bits</text>')
    out += [f'<text x="{left + (i + 0.5) * col_width:.2f}" y="{top + plot_h + 3:g}" text-anchor="middle" '
            f'dominant-baseline="hanging">{i + 1}</text>' for i in range(0, len(ppm), 5 if len(ppm) > 30 else 1)]
    if title:
        out.append(f'<text x="{left:g}" y="{y0 + 2:g}" dominant-baseline="hanging">{esc(title)}</text>')
    return out, used


def write_logo_svg(path: str | os.PathLike, ppm: np.ndarray, rna: bool = True,
                   highlight: Sequence[tuple[int, int]] = (), title: str = "") -> Path:
    """:func:`logo_svg` written atomically to ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The SVG file to write.
    ppm, rna, highlight, title
        As :func:`logo_svg`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    write_text(path, logo_svg(ppm, rna, highlight, title))
    return path


def write_logo_png(path: str | os.PathLike, ppm: np.ndarray, rna: bool = True,
                   highlight: Sequence[tuple[int, int]] = (), title: str = "") -> Path:
    """An information-content logo drawn by logomaker, written atomically as PNG.

    Parameters
    ----------
    path : str or os.PathLike
        The PNG file to write.
    ppm : numpy.ndarray
        (W, 4) PPM over A, C, G, T; letter heights are probability x information content.
    rna : bool
        Draw U instead of T (default True).
    highlight : sequence of (int, int)
        Half-open [start, end) 0-based column ranges shaded grey (segments); default none.
    title : str
        Title above the logo (default none).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    # A bare Figure (no pyplot): no GUI backend, no global figure state.
    import logomaker
    import pandas as pd
    from matplotlib.figure import Figure

    ppm = np.asarray(ppm, dtype=float)
    letters = list("ACGU" if rna else "ACGT")
    heights = pd.DataFrame(ppm * information_content(ppm)[:, None], columns=letters)
    heights.index = np.arange(1, len(ppm) + 1)
    fig = Figure(figsize=(0.32 * len(ppm) + 0.9, 1.7), dpi=100)
    ax = fig.subplots()
    logomaker.Logo(heights, ax=ax, color_scheme={k: COLORS[k] for k in letters})
    for a, b in highlight:
        ax.axvspan(a + 0.5, b + 0.5, color="0.9", zorder=-1)
    ax.set_ylim(0, 2)
    ax.set_ylabel("bits")
    ax.set_xticks(heights.index if len(ppm) <= 30 else heights.index[::5])
    if title:
        ax.set_title(title, fontsize=9, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": None})
    return path


_BACKGROUND: dict = {"pool": None, "futures": []}


def write_logo_pngs(jobs: Sequence[tuple], workers: int | None = None, wait: bool = True) -> None:
    """Draw many PNG logos (``(path, ppm, rna, highlight)`` tuples), one process per core.

    logomaker spends ~0.3 s per logo in matplotlib's text paths, so PNGs are drawn
    only where a config asks for them (``report.png``). Workers are forked (they only
    run matplotlib, so the caller's torch threads do not matter to them, and
    nothing of ``__main__`` is re-imported). Fewer than 8 jobs, one worker, or a
    system without ``fork`` draw in this process. With ``wait=False`` the jobs go to
    a background pool and this returns at once, so the HTML is written meanwhile;
    :func:`wait_logo_pngs` (also run at interpreter exit) waits for them.

    Parameters
    ----------
    jobs : sequence of tuple
        Arguments of :func:`write_logo_png`: ``(path, ppm, rna, highlight)`` (a title may follow).
    workers : int, optional
        Processes at most; default one per usable CPU core (never more than jobs).
    wait : bool
        Return only when every PNG is written (default True).
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    jobs = list(jobs)
    if not jobs:
        return
    workers = min(workers or usable_cores(), len(jobs))
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if not forkable or (wait and (workers <= 1 or len(jobs) < 8)):
        for job in jobs:
            write_logo_png(*job)
        return
    ctx = multiprocessing.get_context("fork")
    if wait:
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            list(pool.map(_png_job, jobs, chunksize=max(1, len(jobs) // (4 * workers))))
        return
    if _BACKGROUND["pool"] is None:
        _BACKGROUND["pool"] = ProcessPoolExecutor(usable_cores(), mp_context=ctx)
        atexit.register(wait_logo_pngs)
    _BACKGROUND["futures"].extend(_BACKGROUND["pool"].submit(_png_job, job) for job in jobs)


def wait_logo_pngs() -> int:
    """Wait for the PNGs :func:`write_logo_pngs` drew in the background and close its pool.

    Returns
    -------
    int
        How many PNGs were waited for (an error of a worker is raised here).
    """
    futures, pool = _BACKGROUND["futures"], _BACKGROUND["pool"]
    _BACKGROUND["futures"], _BACKGROUND["pool"] = [], None
    try:
        for f in futures:
            f.result()
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return len(futures)


def _png_job(job: tuple) -> None:
    write_logo_png(*job)
