"""Tomtom: memelite backend, MEME-binary plumbing, BH q-values, tomtom.tsv round trip."""

from __future__ import annotations

import os
import stat
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from scipy.stats import false_discovery_control

from combmotif.errors import ConfigError, InputError
from combmotif.motifs.curated import curated_motifs
from combmotif.motifs.formats import Motif
from combmotif.motifs.tomtom import (
    COLUMNS,
    benjamini_hochberg,
    format_tomtom_tsv,
    parse_tomtom_tsv,
    read_tomtom_tsv,
    tomtom,
    warm_up,
    write_tomtom_tsv,
)

LITE = {"backend": "memelite", "n_jobs": 1}

# The layout MEME 5's tomtom writes (src/tomtom.c): a header, rows printed with
# "%s\t%s\t%d\t%g\t%g\t%g\t%d\t%s\t%s\t%c", a blank line, then three '#' lines.
MEME_TSV = textwrap.dedent("""\
    Query_ID\tTarget_ID\tOptimal_offset\tp-value\tE-value\tq-value\tOverlap\tQuery_consensus\tTarget_consensus\tOrientation
    MOTIF_1\tMA0139.1\t2\t1.02964e-09\t8.7209e-07\t1.63963e-06\t15\tCCGCGNGGNGGCAG\tTGGCCACCAGGGGGCGCTA\t-
    MOTIF_1\tMA1102.2\t-1\t3.31849e-05\t0.0281076\t0.0264234\t12\tCCGCGNGGNGGCAG\tCACCAGGGGGCGC\t+
    NA\t1e5\t0\t0.5\t423.5\t0.5\t4\tACGT\tACGT\t+

    # Tomtom (Motif Comparison Tool): Version 5.5.5 compiled on Dec  1 2023 at 10:00:00
    # The format of this file is described at https://meme-suite.org/meme/doc/tomtom-output-format.html.
    # tomtom -no-ssc -oc tomtom_out -min-overlap 5 -dist pearson -evalue -thresh 10 query.meme JASPAR2022.meme
    """)


@pytest.fixture(scope="module")
def curated():
    return curated_motifs()


def test_bh_matches_scipy_and_a_hand_example():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-4, size=20), [0.3, 0.3, 1.0]])
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p, method="bh"))
    # p sorted: 0.01, 0.02, 0.03, 0.5 -> 0.04, 0.04, 0.04, 0.5
    np.testing.assert_allclose(benjamini_hochberg([0.5, 0.01, 0.03, 0.02]), [0.5, 0.04, 0.04, 0.04])
    assert benjamini_hochberg([]).size == 0


def test_every_curated_motif_finds_itself(curated):
    df = tomtom(curated, curated, thresh=None, **LITE)
    best = df.groupby("Query_ID", sort=False).head(1)
    assert list(best["Query_ID"]) == [m.name for m in curated]
    assert (best["Query_ID"] == best["Target_ID"]).all()
    assert (best["Optimal_offset"] == 0).all() and (best["Orientation"] == "+").all()
    # With only 40 targets as background, 3-5-mers cannot reach small p-values.
    longer = best["Query_consensus"].str.len() >= 6
    assert longer.sum() >= 30 and (best.loc[longer, "q-value"] < 0.05).all()
    assert list(df.columns) == COLUMNS
    assert df.attrs["n_comparisons"] == len(curated) ** 2 and df.attrs["backend"] == "memelite"


def test_e_and_q_values_follow_from_p_per_query_or_over_the_run(curated):
    df = tomtom(curated[:12], curated, thresh=None, **LITE)
    assert len(df) == 12 * len(curated)
    np.testing.assert_allclose(df["E-value"], df["p-value"] * len(curated))
    # default: MEME's family, each query's comparisons with every target
    for _, g in df.groupby("Query_ID"):
        np.testing.assert_allclose(g["q-value"], benjamini_hochberg(g["p-value"].to_numpy()))
        assert g["p-value"].is_monotonic_increasing          # rows sorted by p within a query
    assert "each query's" in df.attrs["comments"][0]
    run = tomtom(curated[:12], curated, thresh=None, q_scope="run", **LITE)
    np.testing.assert_allclose(run["q-value"], benjamini_hochberg(run["p-value"].to_numpy()))
    pd.testing.assert_series_equal(run["p-value"], df["p-value"])
    assert "all 480 comparisons" in run.attrs["comments"][0]
    kept = tomtom(curated[:12], curated, thresh=0.05, **LITE)
    pd.testing.assert_frame_equal(kept, df[df["q-value"] <= 0.05].reset_index(drop=True),
                                  check_like=False)
    with pytest.raises(ConfigError, match="q_scope"):
        tomtom(curated[:1], curated, q_scope="layer", **LITE)


def test_a_three_nt_motif_cannot_reach_q_005_even_against_itself():
    """Why a planted ATG is out of reach (bench/recovery_table.py --tomtom, ceiling_q).

    Among sharp targets (a synthetic set's planted motifs), a perfectly matching
    column is as common as its base, ~1/4, so three of them happen by chance
    about once in 64 column triples: p ~ 0.01 before any correction.
    """
    rng = np.random.default_rng(0)
    sharp = lambda name, codes: Motif(name, np.eye(4)[codes] * 0.996 + 0.001)  # noqa: E731
    targets = [sharp(f"t{i}", rng.integers(0, 4, 7)) for i in range(40)]
    targets += [sharp("ATG", [0, 3, 2]), sharp("ACTTCCG", [0, 1, 3, 3, 1, 1, 2])]
    df = tomtom(targets[-2:], targets, thresh=None, min_query_ic=0, min_query_mean_ic=0, **LITE)
    own = df[df["Query_ID"] == df["Target_ID"]].set_index("Query_ID")
    assert own.loc["ATG", "p-value"] > 1e-3 and own.loc["ATG", "q-value"] > 0.05
    assert own.loc["ACTTCCG", "q-value"] < 0.01


def test_offset_follows_meme_convention():
    """Optimal_offset o: query column j sits on target column j + o."""
    rng = np.random.default_rng(7)
    targets = [Motif(f"t{i}", rng.dirichlet(np.full(4, 0.2), size=12)) for i in range(30)]
    inner = Motif("inner", targets[5].ppm[2:9])
    outer = Motif("outer", np.vstack([np.full((3, 4), 0.25), targets[5].ppm]))
    df = tomtom([inner, outer], targets, thresh=None, min_query_mean_ic=0.0, **LITE)
    top = df.groupby("Query_ID").head(1).set_index("Query_ID")
    assert top.loc["inner", "Target_ID"] == "t5" and top.loc["inner", "Optimal_offset"] == 2
    assert top.loc["outer", "Target_ID"] == "t5" and top.loc["outer", "Optimal_offset"] == -3
    assert top.loc["inner", "Overlap"] == 7 and top.loc["outer", "Overlap"] == 12


def test_a_query_longer_than_memelite_can_hold_is_compared_window_by_window():
    """A whole deep-layer cluster (288 columns) made memelite ask for 71 GiB; windows do not."""
    from combmotif.motifs.tomtom import MEMELITE_MAX_QUERY

    rng = np.random.default_rng(7)
    targets = [Motif(f"t{i}", rng.dirichlet(np.full(4, 0.2), size=12)) for i in range(30)]
    flat = lambda n: rng.dirichlet(np.full(4, 50.0), size=n)   # noqa: E731  (near-uniform columns)
    long = Motif("long", np.vstack([flat(150), targets[5].ppm, flat(126)]))
    assert len(long) == 288 > MEMELITE_MAX_QUERY
    short = Motif("short", np.vstack([flat(3), targets[5].ppm, flat(3)]))
    df = tomtom([short, long], targets, thresh=None, min_query_ic=0.0, min_query_mean_ic=0.0, **LITE)
    top = df.groupby("Query_ID").head(1).set_index("Query_ID")
    assert top.loc["long", "Target_ID"] == "t5" and top.loc["long", "Optimal_offset"] == -150
    assert top.loc["short", "Target_ID"] == "t5" and top.loc["short", "Optimal_offset"] == -3
    # the best window's p, times the number of windows: never better than the motif alone
    assert top.loc["short", "p-value"] <= top.loc["long", "p-value"] <= 1.0
    assert len(df[df["Query_ID"] == "long"]) == len(targets)


def test_norc_compares_only_the_given_strand(curated):
    kozak = next(m for m in curated if m.name == "Kozak")
    rc = Motif("rc_query", kozak.ppm[::-1, ::-1])
    both = tomtom([rc], curated, norc=False, thresh=None, **LITE)
    assert both.iloc[0]["Target_ID"] == "Kozak" and both.iloc[0]["Orientation"] == "-"
    assert both.iloc[0]["Target_consensus"] == "CCATGGCGGC"  # Kozak's reverse complement
    given = tomtom([rc], curated, norc=True, thresh=None, **LITE)
    assert (given["Orientation"] == "+").all()
    assert given.set_index("Target_ID").loc["Kozak", "p-value"] > both.iloc[0]["p-value"]


def test_uninformative_queries_are_not_compared(curated):
    flat = Motif("flat", np.full((8, 4), 0.25) + np.linspace(0, 0.01, 4))
    flat.ppm /= flat.ppm.sum(1, keepdims=True)
    # 16 positions of 0.43 bits: enough in total (6.9 bits), too flat on average
    weak = Motif("weak", np.tile([0.6, 0.2, 0.1, 0.1], (16, 1)))
    assert 6 < weak.total_information < 8
    df = tomtom([flat, curated[1], weak], curated, min_query_ic=4.0, thresh=None, **LITE)
    assert df.attrs["skipped"] == ["flat", "weak"]
    assert set(df["Query_ID"]) == {curated[1].name}
    assert df.attrs["n_comparisons"] == len(curated)
    none = tomtom([flat], curated, **LITE)
    assert none.empty and list(none.columns) == COLUMNS
    assert len(tomtom([weak], curated, min_query_mean_ic=0.4, **LITE).attrs["skipped"]) == 0


def test_meme_layout_round_trips_exactly(tmp_path):
    df = parse_tomtom_tsv(MEME_TSV)
    assert list(df.columns) == COLUMNS and len(df) == 3
    assert df["Optimal_offset"].tolist() == [2, -1, 0]
    assert df.loc[2, "Query_ID"] == "NA" and df.loc[2, "Target_ID"] == "1e5"  # stay strings
    assert len(df.attrs["comments"]) == 3
    assert format_tomtom_tsv(df) == MEME_TSV
    path = tmp_path / "tomtom.tsv"
    write_tomtom_tsv(path, df)
    assert path.read_text() == MEME_TSV
    assert format_tomtom_tsv(read_tomtom_tsv(path)) == MEME_TSV
    # a header-only file (no match, no comments) round-trips too
    header = MEME_TSV.split("\n")[0] + "\n"
    assert format_tomtom_tsv(parse_tomtom_tsv(header)) == header


def test_our_tsv_has_meme_layout_and_round_trips(curated, tmp_path):
    df = tomtom(curated[:5], curated, **LITE)
    path = tmp_path / "tomtom.tsv"
    write_tomtom_tsv(path, df)
    text = path.read_text()
    lines = text.split("\n")
    assert lines[0].split("\t") == COLUMNS
    tail = text.rstrip("\n").split("\n")[-4:]
    assert tail[0] == ""
    assert tail[1].startswith("# Tomtom (Motif Comparison Tool): Version memelite")
    assert tail[2].startswith("# The format of this file is described at https://")
    assert tail[3].startswith("# tomtom ")
    back = read_tomtom_tsv(path)
    assert format_tomtom_tsv(back) == text
    np.testing.assert_allclose(back["p-value"], df["p-value"], rtol=1e-5)


def test_bad_tsv_and_bad_arguments(tmp_path, curated):
    path = tmp_path / "bad.tsv"
    path.write_text("a\tb\n")
    with pytest.raises(InputError, match="not a tomtom.tsv"):
        read_tomtom_tsv(path)
    with pytest.raises(InputError, match="line 2 has 3 fields"):
        parse_tomtom_tsv(MEME_TSV.split("\n")[0] + "\nx\ty\tz\n")
    with pytest.raises(ConfigError, match="tomtom_backend"):
        tomtom(curated, curated, backend="blast")
    with pytest.raises(ConfigError, match="only has 'ed'"):
        tomtom(curated, curated, dist="pearson", **LITE)
    with pytest.raises(InputError, match="used twice"):
        tomtom([curated[0], curated[0]], curated, **LITE)
    with pytest.raises(InputError, match="no target motifs"):
        tomtom(curated, [], **LITE)


FAKE_TOMTOM = """#!{python}
# Stands in for MEME's tomtom: checks the arguments, answers in MEME's layout.
import re, sys
args = sys.argv[1:]
assert "-text" in args and args[args.index("-dist") + 1] == "ed", args
assert "-norc" in args, args
qfile, tfile = args[-2], args[-1]
qs = re.findall(r"^MOTIF (\\S+)", open(qfile).read(), re.M)
ts = re.findall(r"^MOTIF (\\S+)", open(tfile).read(), re.M)
print("Query_ID\\tTarget_ID\\tOptimal_offset\\tp-value\\tE-value\\tq-value\\tOverlap"
      "\\tQuery_consensus\\tTarget_consensus\\tOrientation")
for i, q in enumerate(qs):
    for j, t in enumerate(ts):
        p = 1e-6 if i == j else 0.2
        print(f"{{q}}\\t{{t}}\\t0\\t{{p:g}}\\t{{p * len(ts):g}}\\t{{p / 2:g}}\\t3\\tACG\\tACG\\t+")
print()
print("# Tomtom (Motif Comparison Tool): Version 5.5.5 compiled on Jan 1 2024 at 00:00:00")
print("# The format of this file is described at https://meme-suite.org/meme/doc/tomtom-output-format.html.")
print("# tomtom " + " ".join(args))
"""


def test_meme_backend_runs_the_binary_on_path(curated, tmp_path, monkeypatch):
    exe = tmp_path / "bin" / "tomtom"
    exe.parent.mkdir()
    exe.write_text(FAKE_TOMTOM.format(python=sys.executable))
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    queries, targets = curated[:2], curated[:3]
    df = tomtom(queries, targets, backend="auto", thresh=None)
    assert df.attrs["backend"] == "meme"
    # our names come back in place of the internal q0/t0 ids, MEME's q-values are kept
    assert df.groupby("Query_ID", sort=False).head(1)["Target_ID"].tolist() == \
        [m.name for m in queries]
    assert sorted(df["q-value"].unique().tolist()) == [5e-7, 0.1]
    assert df.attrs["comments"][0].startswith("# Tomtom (Motif Comparison Tool): Version 5.5.5")
    kept = tomtom(queries, targets, backend="meme", thresh=0.05)
    assert len(kept) == 2


def test_meme_backend_without_binary_is_a_config_error(curated, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="no 'tomtom' binary"):
        tomtom(curated, curated, backend="meme")


def test_warm_up_leaves_memelites_kernels_compiled_for_every_later_process():
    """scripts/setup_env.sh compiles the kernels at install time, so no user's first
    discovery spends two minutes in numba; what it compiles is numba's on-disk cache."""
    from pathlib import Path

    import memelite

    setup = (Path(__file__).resolve().parents[1] / "scripts" / "setup_env.sh").read_text()
    assert "warm_up()" in setup
    warm_up()
    here = Path(memelite.__file__).parent / "__pycache__"
    cache = os.environ.get("NUMBA_CACHE_DIR")
    found = {p.name.split("-")[0] for p in (Path(cache).rglob("tomtom.*.nbi") if cache else here.glob("tomtom.*.nbi"))}
    assert {"tomtom._binned_median_z", "tomtom._p_values"} <= found, sorted(found)
