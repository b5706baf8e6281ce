"""MRL CSV layer: GSM3130435 reader/writer, encoding, reference split, noAUG filter."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from combmotif.data.mrl import drop_aug, encode_utrs, read_mrl_csv, reference_split, write_mrl_csv
from combmotif.errors import InputError

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def _random_utrs(rng, n, length=50):
    return ["".join(rng.choice(list("ACGT"), length)) for _ in range(n)]


def _write_gsm(path, utrs, rl, reads):
    """A file in the published layout: unnamed index, utr, polysome fractions, total_reads, rl."""
    df = pd.DataFrame({"utr": utrs, "0": np.linspace(0, 1, len(utrs)), "total_reads": reads, "rl": rl})
    df.to_csv(path, index=True)
    return df


def test_read_keeps_extra_columns_and_normalises_letters(tmp_path):
    utrs = ["acgu" * 12 + "NN", "A" * 50]
    _write_gsm(tmp_path / "data.csv", utrs, [3.5, 7.25], [10, 20])
    df = read_mrl_csv(tmp_path / "data.csv")
    assert list(df.columns) == ["utr", "0", "total_reads", "rl"]
    assert df["utr"].iloc[0] == "ACGT" * 12 + "NN"
    assert df["rl"].tolist() == [3.5, 7.25]
    assert df["total_reads"].tolist() == [10, 20]


def test_write_read_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    src = _write_gsm(tmp_path / "a.csv", _random_utrs(rng, 30), rng.normal(5, 1, 30), rng.integers(1, 999, 30))
    df = read_mrl_csv(tmp_path / "a.csv")
    write_mrl_csv(df, tmp_path / "b.csv")
    back = read_mrl_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(back, df)
    assert back["utr"].tolist() == src["utr"].tolist()
    np.testing.assert_allclose(back["rl"].to_numpy(), src["rl"].to_numpy())
    assert not list(tmp_path.glob(".partial-*"))


def test_bad_character_names_file_row_and_character(tmp_path):
    utrs = ["ACGT" * 12 + "AA"] * 20
    utrs[16] = "ACGX" + "A" * 46
    _write_gsm(tmp_path / "data.csv", utrs, [1.0] * 20, [1] * 20)
    with pytest.raises(InputError, match=r"data\.csv: row 17 \(line 18\).*invalid character 'X' at position 3"):
        read_mrl_csv(tmp_path / "data.csv")


def test_missing_column_and_bad_numbers(tmp_path):
    pd.DataFrame({"utr": ["ACGT"], "rl": [1.0]}).to_csv(tmp_path / "data.csv")
    with pytest.raises(InputError, match=r"data\.csv: missing column 'total_reads'"):
        read_mrl_csv(tmp_path / "data.csv")
    pd.DataFrame({"utr": ["ACGT", "ACGT"], "rl": ["1.0", "high"], "total_reads": [1, 2]}).to_csv(tmp_path / "b.csv")
    with pytest.raises(InputError, match=r"b\.csv: row 2 \(line 3\): column 'rl' is not a number \('high'\)"):
        read_mrl_csv(tmp_path / "b.csv")
    with pytest.raises(InputError, match="file not found"):
        read_mrl_csv(tmp_path / "absent.csv")


def test_encode_utrs_first_50_and_n_columns():
    x = encode_utrs(["N" + "A" * 49 + "CCCC", "ACGU"])
    assert x.shape == (2, 4, 50) and x.dtype == np.float32
    assert x[0, :, 0].sum() == 0                 # N -> all-zero column
    assert (x[0, 0, 1:] == 1).all()              # the 4 nt past position 49 are cut
    assert x[1, :, :4].argmax(0).tolist() == [0, 1, 2, 3]   # U read as T
    assert x[1, :, 4:].sum() == 0                # short UTR: zero padding at the 3' end


def _split_frame(n, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"utr": ["A" * 50] * n, "rl": rng.normal(size=n),
                         "total_reads": rng.permutation(n) * 3 + 7})


def test_reference_split_invariants():
    df = _split_frame(1000)
    parts = reference_split(df, top_n=800, test_n=100, valid_frac=0.1, seed=3)
    sizes = {k: len(v) for k, v in parts.items()}
    assert sizes == {"test": 100, "valid": 70, "train": 630}
    kept = df.sort_values("total_reads", ascending=False).iloc[:800]
    used = np.concatenate([p.index.to_numpy() for p in parts.values()])
    assert len(set(used)) == 800 and set(used) == set(kept.index)          # disjoint, top 800 only
    assert parts["test"]["total_reads"].min() > max(parts["train"]["total_reads"].max(),
                                                     parts["valid"]["total_reads"].max())
    assert set(parts["test"].index) == set(kept.index[:100])
    again = reference_split(df, top_n=800, test_n=100, valid_frac=0.1, seed=3)
    for k in parts:
        assert parts[k].index.tolist() == again[k].index.tolist()
    other = reference_split(df, top_n=800, test_n=100, valid_frac=0.1, seed=4)
    assert other["valid"].index.tolist() != parts["valid"].index.tolist()
    assert other["test"].index.tolist() == parts["test"].index.tolist()


def test_reference_split_small_file_keeps_all_rows():
    df = _split_frame(50)
    parts = reference_split(df, test_n=10, valid_frac=0.2)       # default top_n 280,000 > 50 rows
    assert sum(len(p) for p in parts.values()) == 50
    assert (len(parts["test"]), len(parts["valid"])) == (10, 8)
    with pytest.raises(InputError, match="test_n"):
        reference_split(df, test_n=50)


def test_drop_aug_drops_exactly_atg_in_first_50():
    base = "C" * 50
    utrs = [base, "ATG" + base[3:], base[:47] + "ATG", "AUG" + base[3:], base[:48] + "AT" + "G",
            base + "ATG", "AT" + base[2:] + "G", "atg" + base[3:]]
    df = pd.DataFrame({"utr": utrs, "rl": np.arange(8.0), "total_reads": np.arange(8)})
    kept = drop_aug(df)
    # ATG at 0, 47, AUG (U=T), lower-case: dropped; ATG only past nt 50 or split across it: kept.
    assert kept.index.tolist() == [0, 4, 5, 6]


def test_make_noaug_cli(tmp_path):
    rng = np.random.default_rng(1)
    utrs = _random_utrs(rng, 200)
    _write_gsm(tmp_path / "in.csv", utrs, rng.normal(size=200), rng.integers(1, 99, 200))
    script = REPO / "generate_dataset" / "make_noaug.py"
    res = subprocess.run([sys.executable, str(script), "--csv", str(tmp_path / "in.csv"), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    out = read_mrl_csv(tmp_path / "out" / "data.csv")
    assert out["utr"].tolist() == [u for u in utrs if "ATG" not in u]
    assert not (tmp_path / "out" / "truth.json").exists()
    bad = tmp_path / "bad.csv"
    bad.write_text(",utr,rl\n0,ACGT,1.0\n")
    res = subprocess.run([sys.executable, str(script), "--csv", str(bad), "--out", str(tmp_path / "out2")],
                         capture_output=True, text=True)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [f"error: {bad}: missing column 'total_reads' (columns: utr, rl)"]
    assert not (tmp_path / "out2").exists()


@pytest.mark.skipif(not (SHARED / "data" / "human_5utr_snv" / "snv_phenotype_log_diff.csv").is_file(),
                    reason="../shared/data/human_5utr_snv not present (shared data lives beside the repo)")
def test_real_snv_utrs_encode():
    df = pd.read_csv(SHARED / "data" / "human_5utr_snv" / "snv_phenotype_log_diff.csv", usecols=["utr"])
    x = encode_utrs(df["utr"], source="snv")
    assert x.shape == (len(df), 4, 50)
    # Every column of a real 50-nt UTR is exactly one base (or N).
    assert set(np.unique(x.sum(1))) <= {0.0, 1.0}
    assert (x.sum((1, 2)) >= 45).all()
