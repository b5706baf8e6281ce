"""Saluki H5 layer: six-track encoding, H5 round trip and errors, record conversion."""

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from combmotif.data.halflife import (
    encode_transcript,
    encode_transcripts,
    read_h5,
    read_h5_attrs,
    read_records,
    records_to_h5,
    write_h5,
)
from combmotif.errors import InputError

REPO = Path(__file__).resolve().parents[1]


def _decode(x):
    """(6, L) -> transcript string over the non-padding columns (independent of the library)."""
    cols = x[:4].sum(0) > 0
    return "".join("ACGT"[i] for i in x[:4, cols].argmax(0))


def test_tracks_of_a_short_transcript():
    utr5, orf, utr3 = "GGAC", "ATGAAACCCTAA", "TTTTGN"
    x = encode_transcript(utr5, orf, utr3, exon_ends=[2, 9], length=30)
    assert x.shape == (6, 30) and x.dtype == np.float32
    n = len(utr5 + orf + utr3)
    assert _decode(x[:, :n - 1]) == (utr5 + orf + utr3)[:-1]
    assert x[:4, n - 1].sum() == 0                               # N -> zero column
    assert x[:, n:].sum() == 0                                   # zero padding at the 3' end
    assert np.flatnonzero(x[4]).tolist() == [4, 7, 10, 13]       # first nt of each of the 4 codons
    assert np.flatnonzero(x[5]).tolist() == [2, 9]
    assert set(np.unique(x)) <= {0.0, 1.0}


def test_five_prime_trimming_shifts_every_track():
    utr5, orf, utr3 = "C" * 10, "ATG" + "GCA" * 5 + "TAG", "A" * 8
    full = encode_transcript(utr5, orf, utr3, [5, 12, 30], length=64)
    t = len(utr5 + orf + utr3)                                   # 36 nt
    trimmed = encode_transcript(utr5, orf, utr3, [5, 12, 30], length=20)
    cut = t - 20
    np.testing.assert_array_equal(trimmed, full[:, cut:t])
    assert np.flatnonzero(trimmed[5]).tolist() == [30 - cut]     # exon end at 5 and 12 fell off
    assert np.flatnonzero(trimmed[4]).tolist() == [p - cut for p in range(10, 10 + len(orf), 3) if p >= cut]
    assert trimmed[:4, -1].sum() == 1                            # last nucleotide sits at L-1


def test_batch_encoding_equals_single_encoding():
    rng = np.random.default_rng(0)
    recs = []
    for _ in range(7):
        utr5 = "".join(rng.choice(list("ACGT"), rng.integers(0, 30)))
        orf = "ATG" + "".join(rng.choice(list("ACGT"), 3 * rng.integers(2, 20))) + "TGA"
        utr3 = "".join(rng.choice(list("ACGTN"), rng.integers(1, 40)))
        t = len(utr5 + orf + utr3)
        recs.append((utr5, orf, utr3, sorted(rng.choice(t, 3, replace=False).tolist())))
    batch = encode_transcripts(*zip(*recs), length=64)
    for i, r in enumerate(recs):
        np.testing.assert_array_equal(batch[i], encode_transcript(*r, length=64))


def test_encode_errors():
    with pytest.raises(InputError, match="exon end 20 outside the transcript"):
        encode_transcript("AC", "ATGTAA", "GG", [20], 16)
    with pytest.raises(InputError, match="invalid character 'Z'"):
        encode_transcript("AZ", "ATGTAA", "GG", [], 16)


def _splits(rng, length=40):
    out = {}
    for name, n in (("train", 6), ("valid", 3), ("test", 2)):
        x = np.zeros((n, 6, length), np.float32)
        x[:, :4][np.arange(n)[:, None], rng.integers(0, 4, (n, length)), np.arange(length)[None, :]] = 1
        x[:, 4, ::3] = 1
        out[name] = (x, rng.normal(size=n).astype(np.float32))
    return out


def test_h5_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    splits = _splits(rng)
    write_h5(tmp_path / "d.h5", splits, attrs={"task": "halflife", "length": 40})
    back = read_h5(tmp_path / "d.h5")
    assert set(back) == {"train", "valid", "test"}
    for k, (x, y) in splits.items():
        assert back[k][0].dtype == np.float32 and back[k][1].dtype == np.float32
        np.testing.assert_array_equal(back[k][0], x)
        np.testing.assert_array_equal(back[k][1], y)
    assert read_h5_attrs(tmp_path / "d.h5") == {"task": "halflife", "length": 40}
    with h5py.File(tmp_path / "d.h5") as fh:
        assert fh["train_sequence"].dtype == np.uint8          # binary tracks stored compactly
    only = read_h5(tmp_path / "d.h5", splits=("test",))
    assert list(only) == ["test"]


def _raw_h5(path, **datasets):
    with h5py.File(path, "w") as fh:
        for k, v in datasets.items():
            fh[k] = v


def test_h5_wrong_shapes_name_file_dataset_and_shape(tmp_path):
    p = tmp_path / "bad.h5"
    _raw_h5(p, test_sequence=np.zeros((3, 5, 10)), test_label=np.zeros(3))
    with pytest.raises(InputError, match=r"bad\.h5: dataset 'test_sequence' has shape \(3, 5, 10\)"):
        read_h5(p, splits=("test",))
    _raw_h5(p, test_sequence=np.zeros((3, 60)), test_label=np.zeros(3))
    with pytest.raises(InputError, match=r"'test_sequence' has shape \(3, 60\)"):
        read_h5(p, splits=("test",))
    _raw_h5(p, test_sequence=np.zeros((3, 6, 10)), test_label=np.zeros(4))
    with pytest.raises(InputError, match=r"dataset 'test_label' has shape \(4,\); expected \(3,\)"):
        read_h5(p, splits=("test",))
    _raw_h5(p, test_sequence=np.zeros((3, 6, 10)), test_label=np.zeros((3, 1)))
    assert read_h5(p, splits=("test",))["test"][1].shape == (3,)
    with pytest.raises(InputError, match=r"bad\.h5: missing dataset 'train_sequence'"):
        read_h5(p)
    (tmp_path / "junk.h5").write_text("not hdf5")
    with pytest.raises(InputError, match="not a readable HDF5"):
        read_h5(tmp_path / "junk.h5")
    with pytest.raises(InputError, match=r"expected \(N, 6, L\)"):
        write_h5(tmp_path / "w.h5", {"train": (np.zeros((2, 4, 8)), np.zeros(2))})
    assert not (tmp_path / "w.h5").exists()


def _write_records(path, rows):
    lines = ["name\tutr5\torf\tutr3\texon_ends\thalf_life"]
    lines += ["\t".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def _records(n, rng):
    rows = []
    for i in range(n):
        utr5 = "".join(rng.choice(list("ACGT"), 5 + i % 7))
        orf = "ATG" + "GCT" * (3 + i % 4) + "TAA"
        utr3 = "".join(rng.choice(list("ACGU"), 10 + i % 5))
        ends = ",".join(str(p) for p in sorted({3, len(utr5) + 4}))
        rows.append((f"tx{i}", utr5, orf, utr3, ends if i % 3 else "", round(float(i) / 3, 4)))
    return rows


def test_records_to_h5(tmp_path):
    rng = np.random.default_rng(2)
    rows = _records(40, rng)
    _write_records(tmp_path / "r.tsv", rows)
    recs = read_records(tmp_path / "r.tsv")
    assert recs["exon_ends"].iloc[0] == [] and recs["exon_ends"].iloc[1] == sorted({3, len(rows[1][1]) + 4})
    counts = records_to_h5(recs, tmp_path / "d.h5", length=48, split_fracs=(0.5, 0.25, 0.25), seed=1, chunk=7)
    assert counts == {"train": 20, "valid": 10, "test": 10}
    data = read_h5(tmp_path / "d.h5")
    labels = np.concatenate([data[k][1] for k in ("train", "valid", "test")])
    np.testing.assert_allclose(np.sort(labels), np.sort([r[-1] for r in rows]), rtol=1e-6)
    by_label = {round(r[-1], 4): r for r in rows}
    for k in data:
        for x, y in zip(*data[k]):
            r = by_label[round(float(y), 4)]
            ends = [int(v) for v in r[4].split(",")] if r[4] else []
            np.testing.assert_array_equal(x, encode_transcript(r[1], r[2], r[3], ends, 48))
    again = tmp_path / "e.h5"
    records_to_h5(recs, again, length=48, split_fracs=(0.5, 0.25, 0.25), seed=1)
    np.testing.assert_array_equal(read_h5(again)["test"][1], data["test"][1])


def test_records_errors(tmp_path):
    rng = np.random.default_rng(3)
    rows = _records(12, rng)
    rows[9] = rows[9][:3] + ("ACGXT",) + rows[9][4:]
    _write_records(tmp_path / "r.tsv", rows)
    # Read from a file, the bad record is blamed on the file and its line ...
    with pytest.raises(InputError, match=r"r\.tsv: row 10 \(line 11\): column 'utr3' has invalid character 'X'"):
        read_records(tmp_path / "r.tsv")
    # ... given in memory, on its index.
    recs = [dict(zip(("name", "utr5", "orf", "utr3", "exon_ends", "half_life"), r)) for r in rows]
    with pytest.raises(InputError, match=r"record 9: transcript \(utr5\+orf\+utr3\) has invalid character 'X'"):
        records_to_h5(recs, tmp_path / "d.h5", length=64)
    assert not (tmp_path / "d.h5").exists()
    rows = _records(5, rng)
    rows[2] = rows[2][:5] + ("slow",)
    _write_records(tmp_path / "s.tsv", rows)
    with pytest.raises(InputError, match=r"row 3 \(line 4\): half_life is not a number"):
        read_records(tmp_path / "s.tsv")
    (tmp_path / "m.csv").write_text("utr5,orf,utr3,half_life\nA,ATGTAA,C,1\n")
    with pytest.raises(InputError, match=r"m\.csv: missing column 'exon_ends'"):
        read_records(tmp_path / "m.csv")


def test_convert_records_cli(tmp_path):
    rng = np.random.default_rng(4)
    _write_records(tmp_path / "r.tsv", _records(20, rng))
    script = REPO / "generate_dataset" / "convert_halflife_records.py"
    res = subprocess.run([sys.executable, str(script), "--records", str(tmp_path / "r.tsv"), "--out",
                          str(tmp_path / "d.h5"), "--length", "64"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    data = read_h5(tmp_path / "d.h5")
    assert sum(len(v[1]) for v in data.values()) == 20 and data["train"][0].shape[1:] == (6, 64)
    assert read_h5_attrs(tmp_path / "d.h5")["source"] == "r.tsv"  # as seen from the .h5, not absolute
