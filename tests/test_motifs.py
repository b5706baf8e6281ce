"""Motif files, the curated table, database resolution and database grouping."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import numpy as np
import pytest

from combmotif.errors import ConfigError, InputError
from combmotif.motifs.collect import database_groups
from combmotif.motifs.curated import ELEMENTS, MIRNAS, curated_motifs, mirna_site
from combmotif.motifs.databases import resolve_motif_db
from combmotif.motifs.formats import Motif, information_content, iupac_to_ppm, read_motifs
from combmotif.motifs.meme_writer import format_meme, write_meme

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
MOTIF_DB = SHARED / "motif_db"
needs_shared = pytest.mark.skipif(not MOTIF_DB.is_dir(),
                                  reason="../shared/motif_db is absent (real RBP databases)")


@needs_shared
@pytest.mark.parametrize("name, count", [("ATtRACT_2017_12.tf", 1322), ("RBPDB_2017_12.tf", 71)])
def test_real_rbp_databases_load(name, count):
    motifs = read_motifs(MOTIF_DB / name)
    assert len(motifs) == count
    assert len({m.name for m in motifs}) == count
    for m in motifs:
        assert m.ppm.shape[1] == 4 and len(m) >= 4
        np.testing.assert_allclose(m.ppm.sum(1), 1.0, atol=1e-9)
    # ATtRACT stores percentages with a pseudocount; the first matrix is GAAACA.
    if name.startswith("ATtRACT"):
        assert motifs[0].name == "3IVK_A" and motifs[0].consensus == "GAAACA"
        assert motifs[0].meta["description"] == "GAAACA"


def test_transfac_lowercase_rna_header_and_reordered_columns(tmp_path):
    path = tmp_path / "db.tf"
    path.write_text(
        "AC  M1\nXX\nID  M1\nXX\nP0       a     c     g     u\n"
        "1    10 0 0 0\n2    0 0 0 5\n3    1 1 1 1\nXX\n//\n"
        "AC  M2\nXX\nID  M2\nXX\nP0      T G C A\n"
        "01   1 0 0 0\n02   0 0 0 3\nXX\n//\n")
    m1, m2 = read_motifs(path)
    np.testing.assert_allclose(m1.ppm, [[1, 0, 0, 0], [0, 0, 0, 1], [0.25] * 4])
    assert m1.consensus == "ATA"
    # columns T G C A are put back into A C G T order
    np.testing.assert_allclose(m2.ppm, [[0, 0, 0, 1], [1, 0, 0, 0]])


def test_meme_round_trip_keeps_frequencies_and_names(tmp_path):
    rng = np.random.default_rng(0)
    motifs = [Motif(f"m{i}", rng.dirichlet(np.ones(4), size=5 + i), altname=f"alt{i}",
                    nsites=12.5) for i in range(3)]
    motifs[0].ppm[0] = [0.03, 0.07, 0.9, 0.0]
    path = tmp_path / "x.meme"
    write_meme(path, motifs)
    back = read_motifs(path)
    assert [(m.name, m.altname, m.nsites) for m in back] == [(f"m{i}", f"alt{i}", 12.5)
                                                            for i in range(3)]
    for a, b in zip(motifs, back):
        np.testing.assert_allclose(a.ppm, b.ppm, atol=2e-6)
    # Biopython's minimal reader would round 0.03 at 12 sites to 0; ours keeps it.
    assert back[0].ppm[0, 0] == pytest.approx(0.03, abs=1e-6)


def test_meme_rna_alphabet_is_read_as_dna(tmp_path):
    path = tmp_path / "rna.meme"
    path.write_text("MEME version 5\n\nALPHABET= ACGU\n\nMOTIF uu\n"
                    "letter-probability matrix: alength= 4 w= 2\n0 0 0 1\n0.5 0 0 0.5\n")
    (m,) = read_motifs(path)
    np.testing.assert_allclose(m.ppm, [[0, 0, 0, 1], [0.5, 0, 0, 0.5]])


def test_jaspar_and_pfm_formats(tmp_path):
    jaspar = tmp_path / "x.jaspar"
    jaspar.write_text(">MA0004.1 Arnt\nA  [ 4 19 0 0 0 0 ]\nC  [16 0 20 0 0 0 ]\n"
                      "G  [ 0 1 0 20 0 20 ]\nT  [ 0 0 0 0 20 0 ]\n")
    (m,) = read_motifs(jaspar)
    assert (m.name, m.altname, m.consensus) == ("MA0004.1", "Arnt", "CACGTG")
    np.testing.assert_allclose(m.ppm[0], [0.2, 0.8, 0, 0])
    pfm = tmp_path / "arnt.pfm"
    pfm.write_text("4 19 0 0 0 0\n16 0 20 0 0 0\n0 1 0 20 0 20\n0 0 0 0 20 0\n")
    (p,) = read_motifs(pfm)
    np.testing.assert_allclose(p.ppm, m.ppm)


@pytest.mark.parametrize("text, fmt, why", [
    ("hello world\n", "auto", "cannot tell the motif format"),
    ("MEME version 4\n\nALPHABET= ACDEFGHIKLMNPQRSTVWY\n", "meme", "not DNA or RNA"),
    ("MEME version 4\n\nMOTIF a\nletter-probability matrix: w= 2\n0.5 0.5 0 0\n", "meme",
     "w= 2 but 1 rows"),
    ("AC  M1\nXX\nP0 A C G T\n01 0 0 0 0\nXX\n//\n", "transfac", "position 1 has no counts"),
    ("MEME version 4\n", "meme", "no motifs found"),
])
def test_bad_motif_files_raise_input_error_naming_the_file(tmp_path, text, fmt, why):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(InputError, match=re.escape(str(path))) as err:
        read_motifs(path, fmt)
    assert why in str(err.value)
    with pytest.raises(InputError, match="not found"):
        read_motifs(tmp_path / "missing.meme")


def test_iupac_to_ppm_and_information():
    ppm = iupac_to_ppm("TGUAHAUA")  # U read as T
    assert ppm.shape == (8, 4)
    np.testing.assert_allclose(ppm[4], [1 / 3, 1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(information_content(ppm), [2, 2, 2, 2, 2 - np.log2(3), 2, 2, 2])
    np.testing.assert_allclose(information_content(iupac_to_ppm("N")), [0.0])
    with pytest.raises(InputError, match="not an IUPAC code"):
        iupac_to_ppm("ACGX")


def test_curated_table_entries_and_mirna_sites():
    motifs = curated_motifs()
    assert len(motifs) >= 30
    assert len({m.name for m in motifs}) == len(motifs)
    for m in motifs:
        assert re.search(r"\((19|20)\d\d\)", m.meta["citation"]), m.name
        assert m.meta["description"]
        np.testing.assert_allclose(m.ppm, iupac_to_ppm(m.meta["consensus"]))
    # 7mer-m8 sites = reverse complement of seed nt 2-8 (values from the literature)
    expected = {"let-7": "CTACCTC", "miR-1": "ACATTCC", "miR-122": "ACACTCC",
                "miR-155": "AGCATTA", "miR-21": "ATAAGCT"}
    sites = {name: mirna_site(seq) for name, seq in MIRNAS}
    assert {k: sites[k] for k in expected} == expected
    names = {e[0] for e in ELEMENTS}
    assert {"uAUG", "Kozak", "stop_UAA", "ARE_AUUUA", "PRE_Pumilio", "GRE", "TOP",
            "G4_like"} <= names


def test_resolve_motif_db_forms(tmp_path):
    assert len(resolve_motif_db("curated")) == len(curated_motifs())
    planted = [Motif("uAUG", iupac_to_ppm("ACGTACGT")), Motif("P2", iupac_to_ppm("TTTGGG"))]
    write_meme(tmp_path / "planted.meme", planted)
    merged = resolve_motif_db("planted + curated", data_dir=tmp_path)
    names = [m.name for m in merged]
    assert names[:2] == ["uAUG", "P2"] and "uAUG.2" in names  # clash renamed, order kept
    assert len(set(names)) == len(names) == 2 + len(curated_motifs())
    assert {m.source for m in merged} == {"planted", "curated"}
    # a relative file path is resolved against the config's folder
    (tmp_path / "cfg").mkdir()
    write_meme(tmp_path / "my.meme", planted)
    assert [m.name for m in resolve_motif_db("../my.meme", base_dir=tmp_path / "cfg")] == \
        ["uAUG", "P2"]
    with pytest.raises(ConfigError, match="needs the synthetic data set"):
        resolve_motif_db("planted")
    with pytest.raises(ConfigError, match="unknown JASPAR release"):
        resolve_motif_db("jaspar:1999:CORE")
    with pytest.raises(InputError, match="not found"):
        resolve_motif_db("curated+nowhere.meme", base_dir=tmp_path)


def test_jaspar_release_reads_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network used")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    motifs = resolve_motif_db("jaspar:2024:CORE:vertebrates")
    assert len(motifs) > 500
    assert all(re.fullmatch(r"MA\d{4}\.\d+", m.name) for m in motifs)
    arnt = next(m for m in motifs if m.altname == "Arnt")
    assert arnt.consensus == "CACGTG" and arnt.source == "jaspar2024"


def test_database_groups_merge_near_duplicates_but_not_containment():
    rng = np.random.default_rng(3)
    base = curated_motifs()
    kozak = next(m for m in base if m.name == "Kozak")
    noisy = 0.9 * kozak.ppm + 0.1 * rng.dirichlet(np.ones(4), size=len(kozak))
    targets = base + [Motif("Kozak_copy", noisy)]
    groups = database_groups(targets, cfg={"tomtom_backend": "memelite", "n_jobs": 1})
    assert groups["Kozak_copy"] == groups["Kozak"]
    # AUG lies inside Kozak, but covers too little of it to count as a copy
    assert groups["uAUG"] != groups["Kozak"]
    assert groups["let-7_site"] != groups["miR-1_site"]
    assert set(groups) == {m.name for m in targets}


def test_format_meme_rejects_bad_names():
    with pytest.raises(InputError, match="without spaces"):
        format_meme([Motif("a b", iupac_to_ppm("ACG"))])
    with pytest.raises(InputError, match="used twice"):
        format_meme([Motif("a", iupac_to_ppm("ACG")), Motif("a", iupac_to_ppm("ACG"))])
