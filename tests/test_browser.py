"""The pages in a real browser: headless Chromium draws the canvas logos, loads the PNGs,
runs the sortable-table script, and every local link resolves.

Chromium is Debian's ``chromium`` package. When it is missing, the session fixture
installs it with apt-get if we are root and apt works; otherwise the tests skip
and say why.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from test_report import assert_links_resolve, make_layer  # tests/ is on sys.path under pytest

from combmotif.motifs.curated import curated_motifs
from combmotif.motifs.match import MatchConfig, match_layer
from combmotif.report.model_page import write_model_index
from combmotif.report.pages import write_layer_report

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of a Chromium binary, installed with apt-get when missing (root only)."""
    found = _find_chromium()
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("chromium is not installed and we are not root to apt-get install it")
    if not shutil.which("apt-get"):
        pytest.skip("chromium is not installed and there is no apt-get to install it")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            pytest.skip(f"'{' '.join(cmd)}' timed out; cannot install chromium")
        if proc.returncode != 0:
            pytest.skip(f"'{' '.join(cmd)}' failed ({proc.stderr.strip()[-300:]}); "
                        "cannot install chromium")
    found = _find_chromium()
    if not found:
        pytest.skip("apt-get installed chromium but no chromium binary is on PATH")
    return found


def _run(chromium: str, tmp: Path, url: str, *extra: str) -> str:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", *extra, url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"chromium failed: {proc.stderr[-1000:]}"
    return proc.stdout


def dump_dom(chromium: str, tmp: Path, page: Path) -> str:
    """The page's DOM after its scripts ran (and the load event fired)."""
    return _run(chromium, tmp, page.resolve().as_uri(), "--virtual-time-budget=10000",
                "--dump-dom")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    layer = make_layer(root)
    targets = curated_motifs()
    cfg = MatchConfig(tomtom_backend="memelite", n_jobs=1)
    matches = match_layer(layer, targets, cfg)
    index = write_layer_report(layer, matches, targets, cfg)
    front = write_model_index(layer.parent.parent)
    return {"root": root, "layer": layer, "index": index, "front": front}


def _attr(dom: str, name: str) -> str:
    m = re.search(rf'<body[^>]*\s{name}="([^"]*)"', dom)
    assert m, f"<body> has no {name}: the page's scripts did not run"
    return m.group(1)


def _canvas_ink(dom: str) -> dict[str, int]:
    """data-key -> data-ink of every logo canvas in the dumped DOM."""
    out = {}
    for tag in re.findall(r"<canvas[^>]*>", dom):
        key = re.search(r'data-key="([^"]+)"', tag).group(1)
        ink = re.search(r'data-ink="(-?\d+)"', tag)
        out[key] = int(ink.group(1)) if ink else None
    return out


def test_neuron_page_draws_logos_and_loads_pngs(chromium, pages, tmp_path):
    page = pages["layer"] / "neuron0" / "page.html"
    dom = dump_dom(chromium, tmp_path, page)
    ink = _canvas_ink(dom)
    assert set(ink) == {"c0", "c1", "c0s0q", "c0s0t", "c1s0q", "c1s0t"}
    assert int(_attr(dom, "data-logos-drawn")) == len(ink)
    # Every logo holds an informative motif: hundreds of coloured letter pixels each.
    assert all(v is not None and v > 200 for v in ink.values()), ink
    assert _attr(dom, "data-images-loaded") == "2/2"
    assert_links_resolve(page)


def test_neuron_page_screenshot_has_coloured_letters(chromium, pages, tmp_path):
    from PIL import Image

    shot = tmp_path / "neuron0.png"
    _run(chromium, tmp_path, (pages["layer"] / "neuron0" / "page.html").resolve().as_uri(),
         "--window-size=1200,1400", "--virtual-time-budget=10000", f"--screenshot={shot}")
    rgb = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    saturated = (rgb.max(-1) - rgb.min(-1)) > 100
    # The letters are the only strongly coloured things on the page besides a few
    # green/blue words; the six logos add thousands of such pixels.
    assert saturated.sum() > 3000


def test_vector_logo_draws_its_letters_in_a_browser(chromium, pages, tmp_path):
    from PIL import Image

    svg = pages["layer"] / "neuron0" / "logos" / "cluster0.svg"
    shot = tmp_path / "cluster0.png"
    _run(chromium, tmp_path, svg.resolve().as_uri(), "--window-size=600,400", f"--screenshot={shot}")
    rgb = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    saturated = (rgb.max(-1) - rgb.min(-1)) > 100
    # PRE_Pumilio's eight letters (softened to 85 %: about 1.1 bits each), drawn from
    # their outlines (no font needed), across eight 20-pixel columns
    assert saturated.sum() > 300
    columns = np.flatnonzero(saturated.any(0))
    assert columns.max() - columns.min() > 7 * 20


def test_layer_index_draws_logos_and_links_resolve(chromium, pages, tmp_path):
    dom = dump_dom(chromium, tmp_path, pages["index"])
    ink = _canvas_ink(dom)
    assert set(ink) == {"n0", "n1", "n2"}  # neuron 3 has no cluster, hence no logo
    assert ink["n0"] > 50 and ink["n1"] > 50
    assert int(_attr(dom, "data-logos-drawn")) == 3
    assert _attr(dom, "data-tables-ready") == "1"
    assert_links_resolve(pages["index"])
    assert_links_resolve(pages["front"])


def test_sortable_table_sorts_numbers_as_numbers(chromium, pages, tmp_path):
    # A page that uses the copied table.js as the layer index does, and sorts on load.
    page = pages["layer"] / "sort_check.html"
    page.write_text(
        '<!DOCTYPE html><html><body><table class="sortable" id="t"><thead><tr><th>n</th>'
        '<th>q</th></tr></thead><tbody>'
        '<tr><td>a</td><td data-sort="0.5">0.5</td></tr>'
        '<tr><td>b</td><td data-sort="1e-7">1e-07</td></tr>'
        '<tr><td>c</td><td data-sort="0.02">0.02</td></tr></tbody></table>'
        '<script src="assets/table.js"></script><script>'
        'var t = document.getElementById("t");'
        'CombMotifTable.sortBy(t, 1, t.tHead.rows[0].cells[1]);'
        'document.body.setAttribute("data-order", Array.prototype.map.call('
        't.tBodies[0].rows, function (r) { return r.cells[0].textContent; }).join(""));'
        "</script></body></html>")
    dom = dump_dom(chromium, tmp_path, page)
    assert _attr(dom, "data-order") == "bca"
