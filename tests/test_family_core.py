"""Family cores (the columns members agree on) and database-consistent family grouping."""

import json

import numpy as np
import pandas as pd

from combmotif.motifs import families as FM
from combmotif.motifs.family_core import aligned_frames, core_ppm, family_cores
from combmotif.motifs.formats import Motif
from combmotif.motifs.match import MATCH_COLUMNS, MatchConfig
from combmotif.motifs.meme_writer import write_meme


def _ppm(seq, p=0.9):
    m = np.full((len(seq), 4), (1 - p) / 3)
    m[np.arange(len(seq)), ["ACGT".index(c) for c in seq]] = p
    return m


def test_core_is_the_shared_stretch_of_differently_flanked_members():
    core = core_ppm([_ppm("GGATTTATTTA"), _ppm("ATTTATTTACC"), _ppm("CATTTATTTAT")], [0, 2, 1],
                    [False, False, False])
    assert Motif("c", core).consensus == "ATTTATTTA"
    # one member's flank is no agreement, even in a family of two
    core = core_ppm([_ppm("AAAAGTCAC"), _ppm("GTCACTTTT")], [0, 4], [False, False])
    assert Motif("c", core).consensus == "GTCAC"
    assert core_ppm([_ppm("ACGT"), _ppm("TTTT")], [0, 10], [False, False]) is None


def test_members_align_to_the_leader_on_either_strand():
    lead = Motif("lead", _ppm("GGACTTCCGTAA"))
    fwd, rev = Motif("fwd", _ppm("TTCCGT")), Motif("rev", _ppm("ACGGAA"))   # rev: TTCCGT reversed
    offset, flip, p = aligned_frames([fwd, rev], [lead], [0, 0], norc=False)
    assert offset.tolist() == [4, 4] and flip.tolist() == [False, True]
    offset, flip, _ = aligned_frames([fwd], [lead], [0], norc=True)
    assert offset.tolist() == [4] and not flip[0]


def test_family_cores_keep_members_that_align_and_a_lone_leader():
    segs = [Motif("a", _ppm("GAGCAACTT")), Motif("b", _ppm("CGAGCAAC")), Motif("c", _ppm("TTGAGCAACG")),
            Motif("d", _ppm("CCCCGGGG"))]
    reps = family_cores(segs, np.array([0, 0, 0, 1]), [0, 3], cfg=MatchConfig())
    assert [r.name for r in reps] == ["a.core", "d.core"]
    assert reps[0].consensus == "GAGCAAC" and reps[0].nsites == 3
    assert reps[1].consensus == "CCCCGGGG"   # alone: the leader itself


def _write_model(root, segs, matches, collected=None):
    """One neuron per segment in conv2, with discovery's matches (segment -> [(target, q)])."""
    disc = root / "discovery" / "conv2"
    for k, (name, cons, q) in enumerate(segs):
        nd = disc / f"neuron{k}"
        nd.mkdir(parents=True)
        write_meme(nd / "segments.meme", [Motif(name, _ppm(cons, 0.97), altname=f"pos=0-{len(cons)},q={q}")])
        (nd / "clusters.json").write_text(json.dumps([{"id": 0, "motif_id": f"conv2-n{k}-c0", "segments": [
            {"start": 0, "end": len(cons), "motif_id": name}]}]))
    rows = [{c: "" for c in MATCH_COLUMNS} | {"neuron": 0, "cluster": 0, "segment": s, "rank": r + 1,
                                              "target": t, "q": q}
            for s, hits in matches.items() for r, (t, q) in enumerate(hits)]
    pd.DataFrame(rows, columns=MATCH_COLUMNS).to_csv(disc / "matches.csv", index=False)
    if collected:
        pd.DataFrame([{"group": g, "targets_matched": ";".join(ts)} for g, ts in collected.items()]
                     ).to_csv(root / "discovery" / "collected_motifs.csv", index=False)


def test_segments_the_database_tells_apart_found_their_own_families(tmp_path):
    # Two motifs sharing GGTC, each cut twice.
    segs = [("d1", "TAGGTCA", 0.9), ("c1", "CGGTCGA", 0.8), ("d2", "TAGGTCAA", 0.7),
            ("c2", "TCGGTCGA", 0.6)]
    matches = {"d1": [("repD", 0.01)], "c1": [("repC", 0.001)], "d2": [("repD", 0.02)],
               "c2": [("repC", 0.004)]}
    _write_model(tmp_path / "m", segs, matches)
    fam = FM.family_of(tmp_path / "m") or {m: f.id for f in FM.ensure_families(tmp_path / "m")
                                           for m in f.members}
    assert fam["d1"] == fam["d2"] != fam["c1"] == fam["c2"]
    names = {f.id: f.name for f in FM.read_families(tmp_path / "m")}
    assert names[fam["d1"]] == "repD" and names[fam["c1"]] == "repC"


def test_near_duplicate_database_motifs_do_not_split_a_family(tmp_path):
    segs = [("g1", "TGTTTGTT", 0.9), ("g2", "TTGTTTGTTT", 0.8)]
    matches = {"g1": [("GRE", 0.01)], "g2": [("GRE.long", 0.01)]}
    _write_model(tmp_path / "m", segs, matches, collected={3: ["GRE", "GRE.long"]})
    fams = FM.ensure_families(tmp_path / "m")
    assert len(fams) == 1 and set(fams[0].members) == {"g1", "g2"}


def test_a_core_is_named_by_its_own_database_match(tmp_path):
    # Members flanked differently: the leader's flanks hide the motif, the core matches it.
    segs = [("a", "CACTTCCGT", 0.9), ("b", "TACTTCCGA", 0.8), ("c", "GACTTCCGC", 0.7)]
    _write_model(tmp_path / "m", segs, {})
    rng = np.random.default_rng(0)
    decoys = [Motif(f"t{i}", _ppm("".join(rng.choice(list("ACGT"), 8)), 0.85)) for i in range(40)]
    targets = [Motif("enhA", _ppm("ACTTCCG", 0.9))] + decoys
    fams = FM.ensure_families(tmp_path / "m", targets=targets)
    assert len(fams) == 1 and fams[0].representative.consensus == "ACTTCCG"
    assert fams[0].name == "enhA" and fams[0].q < 0.05 and fams[0].matches[0][0] == "enhA"
    # without the database the family keeps its leader's discovery match (none here)
    assert FM.build_families(tmp_path / "m")[0].target == ""
