"""Pages: neuron page, layer index and model front page on a hand-made layer folder."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from combmotif.motifs.collect import collect_model
from combmotif.motifs.curated import curated_motifs
from combmotif.motifs.formats import Motif
from combmotif.motifs.match import MatchConfig, load_neuron, match_layer, read_matches
from combmotif.motifs.meme_writer import write_meme
from combmotif.report.html import script_json
from combmotif.report.model_page import write_model_index
from combmotif.report.pages import write_layer_report

# neuron -> clusters, each (curated motif planted in the cluster PPM or None, position)
PLAN = {0: [("PRE_Pumilio", 3), ("Kozak", 2)], 1: [("GRE", 1)], 2: [(None, 4)], 3: []}
PPM_LEN = 16


def make_layer(root: Path, seed: int = 0) -> Path:
    """A discovery/conv2 folder laid out as the NeuronMotif engine writes it, from hand-made PPMs.

    Each cluster PPM is flat noise (< 0.2 bits per position) with a curated motif
    (softened to 85 %) planted at a known position; its segment is the planted part.
    The cluster of neuron 2 has no motif: its segment is flat and must not be compared.
    Neuron 3 has no cluster at all (and a bare-list clusters.json, the other accepted form).
    Names follow the engine: PPM ``conv2-n<k>-c<i>``, segment ``conv2-n<k>-c<i>-s0``.
    """
    rng = np.random.default_rng(seed)
    curated = {m.name: m for m in curated_motifs()}
    layer = root / "results" / "fakemodel" / "discovery" / "conv2"
    summary = []
    for k, plan in PLAN.items():
        nd = layer / f"neuron{k}"
        nd.mkdir(parents=True)
        clusters, ppms, segs = [], [], []
        for i, (motif, pos) in enumerate(plan):
            ppm = rng.dirichlet(np.full(4, 60.0), size=PPM_LEN)
            width = 5
            if motif is not None:
                planted = 0.85 * curated[motif].ppm + 0.15 * 0.25
                width = len(planted)
                ppm[pos:pos + width] = planted
            mid = f"conv2-n{k}-c{i}"
            ppms.append(Motif(mid, ppm, altname=f"n={100 + 10 * i}"))
            segs.append(Motif(f"{mid}-s0", ppm[pos:pos + width], altname=f"pos={pos}-{pos + width}"))
            clusters.append({"id": i, "motif_id": mid, "path": [i], "size": 100 + 10 * i,
                             "max_activation": 3.0 - i, "consensus_activation": 2.5 - i,
                             "ratio": round(0.9 - 0.1 * i, 2), "consensus": ppms[-1].consensus,
                             "segments": [{"motif_id": f"{mid}-s0", "start": pos,
                                           "end": pos + width}]})
        n = sum(c["size"] for c in clusters)
        info = {"layer": 2, "neuron": k, "n_samples": n, "max_activation": 3.0,
                "indicator": max((c["ratio"] for c in clusters), default=None),
                "best_cluster": 0 if clusters else None, "clusters": clusters}
        (nd / "clusters.json").write_text(json.dumps(info if clusters else []))
        write_meme(nd / "ppms.meme", ppms)
        write_meme(nd / "segments.meme", segs)
        np.savez(nd / "samples.npz", codes=np.zeros((n, PPM_LEN), np.int8))
        summary.append({"layer": 2, "neuron": k, "n_samples": n, "max_activation": 3.0,
                        "indicator": info["indicator"]})
    pd.DataFrame(summary).to_csv(layer / "summary.csv", index=False)
    return layer


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The fake layer matched against the curated table, with all pages written."""
    root = tmp_path_factory.mktemp("report")
    layer = make_layer(root)
    targets = curated_motifs()
    cfg = MatchConfig(tomtom_backend="memelite", n_jobs=1)
    matches = match_layer(layer, targets, cfg)
    index = write_layer_report(layer, matches, targets, cfg)
    model_dir = layer.parent.parent
    collect_model(model_dir, targets, cfg)
    front = write_model_index(model_dir)
    return {"layer": layer, "matches": matches, "index": index, "front": front,
            "targets": targets, "cfg": cfg}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])
        if a.get("id"):
            self.ids.add(a["id"])


def local_links(page: Path) -> list[tuple[str, Path, str]]:
    """(link, file it points to, #fragment) for every local href/src of a page."""
    parser = _Links()
    parser.feed(page.read_text())
    out = []
    for link in parser.links:
        if re.match(r"^[a-z]+:", link):
            continue
        path, _, frag = link.partition("#")
        out.append((link, (page.parent / path).resolve() if path else page, frag))
    return out


def assert_links_resolve(page: Path) -> None:
    for link, target, frag in local_links(page):
        assert target.is_file(), f"{page}: link {link} -> missing {target}"
        if frag:
            parser = _Links()
            parser.feed(target.read_text())
            assert frag in parser.ids, f"{page}: anchor #{frag} not in {target}"


def test_planted_motifs_are_matched_and_tables_written(report):
    m = report["matches"]
    best = m[m["rank"] == 1].set_index(["neuron", "segment"])["target"].to_dict()
    assert best[(0, "conv2-n0-c0-s0")] == "PRE_Pumilio"
    assert best[(0, "conv2-n0-c1-s0")] == "Kozak"
    assert best[(1, "conv2-n1-c0-s0")] == "GRE"
    top = m[m["rank"] == 1]
    assert (top["q"] < 0.05).all() and (top["offset"] == 0).all()
    assert set(m["cluster"]) <= {0, 1}
    # the flat segment of neuron 2 is below the information cut: never compared
    assert (2, "conv2-n2-c0-s0") not in best
    assert list(read_matches(report["layer"]).columns) == list(m.columns)
    for k in PLAN:
        tsv = (report["layer"] / f"neuron{k}" / "tomtom.tsv").read_text()
        assert tsv.startswith("Query_ID\tTarget_ID\tOptimal_offset")
        assert "# Tomtom (Motif Comparison Tool): Version memelite" in tsv


def test_segments_are_placed_in_their_cluster(report):
    nr = load_neuron(report["layer"] / "neuron0")
    assert [(s.name, s.cluster, s.start) for s in nr.segments] == [
        ("conv2-n0-c0-s0", 0, 3), ("conv2-n0-c1-s0", 1, 2)]
    assert [c["motif_id"] for c in nr.clusters] == ["conv2-n0-c0", "conv2-n0-c1"]


def test_segments_placed_by_their_records_only(tmp_path):
    # Two clusters with the same PPM: the unit's records, not names or content, say
    # which cluster and start each segment has; a segment without a record stays unplaced.
    ppm = np.random.default_rng(2).dirichlet(np.ones(4), 10)
    nd = tmp_path / "neuron0"
    nd.mkdir()
    clusters = [{"id": 0, "motif_id": "c-a", "size": 5,
                 "segments": [{"motif_id": "x1", "start": 1, "end": 6}]},
                {"id": 1, "motif_id": "c-b", "size": 5,
                 "segments": [{"motif_id": "x2", "start": 3, "end": 8}]}]
    (nd / "clusters.json").write_text(json.dumps({"clusters": clusters}))
    write_meme(nd / "ppms.meme", [Motif("c-a", ppm), Motif("c-b", ppm)])
    write_meme(nd / "segments.meme", [Motif("x2", ppm[3:8]), Motif("x1", ppm[1:6]),
                                      Motif("c-a-s9", ppm[0:4])])
    nr = load_neuron(nd)
    assert [(s.name, s.cluster, s.start) for s in nr.segments] == [
        ("x2", 1, 3), ("x1", 0, 1), ("c-a-s9", None, None)]


def test_neuron_page_content(report):
    page = (report["layer"] / "neuron0" / "page.html").read_text()
    data = json.loads(re.search(r'<script type="application/json" id="logo-data">(.*?)</script>',
                                page, re.S).group(1))
    # one cluster logo per cluster with its segment shaded, and an aligned pair per matched segment
    assert data["c0"]["highlight"] == [[3, 11]] and data["c1"]["highlight"] == [[2, 12]]
    assert {"c0s0q", "c0s0t", "c1s0q", "c1s0t"} <= set(data)
    assert len(data["c0"]["ppm"]) == PPM_LEN
    for key in ("c0", "c1", "c0s0q", "c0s0t"):
        assert f'data-key="{key}"' in page
    assert "PRE_Pumilio" in page and "Gerber AP" in page  # target and its citation
    assert "max activation" in page and "indicator" in page and "tree path" in page
    assert (report["layer"] / "neuron0" / "logos" / "cluster1.png").stat().st_size > 1000
    flat = (report["layer"] / "neuron2" / "page.html").read_text()
    assert "not compared" in flat


def test_svg_logo_stacks_each_column_to_its_information_smallest_letter_at_the_bottom(tmp_path):
    import xml.etree.ElementTree as ET

    from combmotif.motifs.formats import information_content
    from combmotif.report.logos import logo_svg, write_logo_svg

    ppm = np.array([[0.7, 0.1, 0.1, 0.1], [0.25, 0.25, 0.25, 0.25], [0.05, 0.05, 0.1, 0.8],
                    [0.0, 1.0, 0.0, 0.0]])
    path = write_logo_svg(tmp_path / "logos" / "c.svg", ppm, rna=True, highlight=[(2, 4)], title="a < b")
    root = ET.parse(path).getroot()                     # well-formed, no font needed
    ns = {"s": "http://www.w3.org/2000/svg"}
    xlink = "{http://www.w3.org/1999/xlink}href"
    uses = root.findall("s:use", ns)
    plot_h = 110 - 16 - 16                              # height minus title line and axis labels
    cols: dict[int, list] = {}
    for u in uses:
        tx, ty, sx, sy = map(float, re.findall(r"-?[\d.]+", u.get("transform")))
        cols.setdefault(int((tx - 30) // 20), []).append((u.get(xlink)[-1], ty, sy, u.get("fill")))
    ic = information_content(ppm)
    assert sorted(cols) == [0, 2, 3]                    # the flat column has no letter to draw
    for i, letters in cols.items():
        assert sum(h for *_, h, _ in letters) == pytest.approx(ic[i] / 2 * plot_h, abs=0.01 * len(letters))
        tops = [y for _, y, _, _ in letters]
        assert tops == sorted(tops, reverse=True)     # drawn bottom-up: the biggest on top
    assert cols[2][-1][0] == "U" and cols[2][-1][3] == "#ff0000"   # RNA: U, red as in logomaker
    assert cols[3] == [("C", pytest.approx(16.0), pytest.approx(plot_h), "#0000ff")]
    glyphs = {g.get("id") for g in root.find("s:defs", ns)}
    assert glyphs == {f"glyph-{u.get(xlink)[-1]}" for u in uses}
    bands = [r for r in root.findall("s:rect", ns) if r.get("fill") == "#e6e6e6"]
    assert [(float(b.get("x")), float(b.get("width"))) for b in bands] == [(70.0, 40.0)]
    assert "a &lt; b" in path.read_text()
    assert logo_svg(ppm, rna=False).count("glyph-T") > 1 and "glyph-U" not in logo_svg(ppm, rna=False)


def test_neuron_pages_link_a_vector_logo_of_every_cluster_and_matched_segment(report):
    import xml.etree.ElementTree as ET

    nd = report["layer"] / "neuron0"
    page = (nd / "page.html").read_text()
    for i in (0, 1):
        assert f'href="logos/cluster{i}.svg"' in page
        assert (nd / "logos" / f"cluster{i}.svg").read_text().startswith("<svg ")
    # each matched segment above its top database motif, aligned
    assert 'href="logos/conv2-n0-c0-s0.svg"' in page
    root = ET.parse(nd / "logos" / "conv2-n0-c0-s0.svg").getroot()
    assert "PRE_Pumilio" in "".join(root.itertext()) and float(root.get("height")) == 220


def test_aligned_vector_logos_put_the_query_on_tomtoms_offset():
    from combmotif.report.logos import alignment_svg

    query = np.eye(4)[[0, 1, 2]] * 0.97 + 0.0075
    target = np.eye(4)[[3, 0, 1, 2, 3]] * 0.97 + 0.0075
    # offset 1: query column j lies on target column j + 1, so the query is drawn one column in
    xs = [[float(re.search(r"translate\(([\d.]+) ([\d.]+)", u).group(i)) for i in (1, 2)]
          for u in re.findall(r"<use [^>]*>", alignment_svg(query, target, 1))]
    upper = sorted({x for x, y in xs if y < 110})      # one x per column, whatever its letters
    lower = sorted({x for x, y in xs if y >= 110})
    assert upper == pytest.approx([51, 71, 91]) and lower == pytest.approx([31, 51, 71, 91, 111])
    xs = sorted({float(x) for x in re.findall(r"translate\(([\d.]+) [\d.]+\) scale", alignment_svg(query, target, -2))})
    assert xs == pytest.approx([31, 51, 71, 91, 111, 131, 151])   # offset -2: the target moves 2 columns in


def test_layer_index_rows_and_links(report):
    index = report["index"]
    text = index.read_text()
    rows = re.findall(r'<a href="neuron(\d+)/page.html">', text)
    assert rows == [str(k) for k in PLAN]
    assert 'class="sortable"' in text and "Contribution" in text
    assert "Kozak" in text and "GRE" in text  # the best match of neurons 0 and 1
    assert_links_resolve(index)
    for k in PLAN:
        assert_links_resolve(report["layer"] / f"neuron{k}" / "page.html")
    for asset in ("logo.js", "table.js", "style.css"):
        assert (report["layer"] / "assets" / asset).is_file()


def test_contribution_column_filled_when_table_exists(report, tmp_path):
    csv = tmp_path / "neuron_contribution.csv"
    pd.DataFrame({"layer": ["conv2", "conv2", "conv3"], "neuron": [0, 1, 0],
                  "contribution": [1.5, -0.2, 9.0]}).to_csv(csv, index=False)
    index = write_layer_report(report["layer"], report["matches"], report["targets"],
                               report["cfg"], png=False, contribution_csv=csv)
    body = index.read_text().split("<tbody>")[1].split("</tbody>")[0]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]
    assert [c[-2] for c in cells[:2]] == ["+", "−"]  # conv3's row is not this layer's
    assert "ndash" in cells[2][-2] and all("ndash" in c[-1] for c in cells)  # no knockout table
    # a knockout table beside it fills the last column and the neuron pages
    pd.DataFrame({"layer": [2, 2], "neuron": [0, 1],
                  "contribution": ["negative", "neutral"]}).to_csv(
        tmp_path / "neuron_knockout.csv", index=False)
    index = write_layer_report(report["layer"], report["matches"], report["targets"],
                               report["cfg"], png=False, contribution_csv=csv)
    body = index.read_text().split("<tbody>")[1].split("</tbody>")[0]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]
    assert [c[-1] for c in cells[:2]] == ["negative", "neutral"]
    page = (report["layer"] / "neuron0" / "page.html").read_text()
    assert "Contribution to the output: <b>+</b>" in page and "knockout: <b>negative</b>" in page
    # leave the shared pages as the other tests expect them (no contribution)
    write_layer_report(report["layer"], report["matches"], report["targets"], report["cfg"], png=False)


def test_model_front_page_links_layers_and_collected_motifs(report):
    front = report["front"].read_text()
    assert 'href="discovery/conv2/index.html"' in front
    collected = pd.read_csv(report["layer"].parent / "collected_motifs.csv")
    assert {"PRE_Pumilio", "Kozak", "GRE"} <= set(collected["representative"])
    assert "Distinct database motifs found" in front
    assert_links_resolve(report["front"])


def test_pages_are_deterministic(report):
    before = (report["layer"] / "neuron1" / "page.html").read_bytes()
    write_layer_report(report["layer"], report["matches"], report["targets"], report["cfg"],
                       png=False)
    assert (report["layer"] / "neuron1" / "page.html").read_bytes() == before


def test_inlined_json_cannot_close_the_script():
    text = script_json({"label": "</script><b>"})
    assert "</script>" not in text and json.loads(text) == {"label": "</script><b>"}


def test_final_report_step_adds_contribution_signs_without_rediscovery(tmp_path):
    # Discovery wrote its pages before the contribution stage ran; the final report
    # step rereads every stage's outputs and rewrites them with the signs.
    from types import SimpleNamespace

    from combmotif.report.final import write_reports

    layer = make_layer(tmp_path)
    cfg = MatchConfig(tomtom_backend="memelite", n_jobs=1)
    match_layer(layer, curated_motifs(), cfg)
    write_layer_report(layer, None, curated_motifs(), cfg, png=False)
    neuron0 = (layer / "neuron0" / "samples.npz").read_bytes()
    assert "Contribution to the output" not in (layer / "neuron0" / "page.html").read_text()
    model_dir = layer.parent.parent
    (model_dir / "contribution" / "conv2").mkdir(parents=True)
    pd.DataFrame({"layer": [2, 2], "neuron": [0, 1], "contribution": ["positive", "negative"]}).to_csv(
        model_dir / "contribution" / "conv2" / "neuron_contribution.csv", index=False)
    disc = SimpleNamespace(discovery_dir=lambda: layer.parent, motif_db="curated", data_dir=None,
                           matching=cfg, model_name="fakemodel", report=SimpleNamespace(png=False, svg=True))
    front = write_reports(disc, log=lambda msg: None)
    assert front == model_dir / "index.html" and front.is_file()
    assert "Contribution to the output: <b>positive</b>" in (layer / "neuron0" / "page.html").read_text()
    body = (layer / "index.html").read_text().split("<tbody>")[1].split("</tbody>")[0]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]
    assert [c[-2] for c in cells[:2]] == ["positive", "negative"]
    assert (layer / "neuron0" / "samples.npz").read_bytes() == neuron0   # nothing recomputed
