"""Config loader, sequences, atomic io, checkpoints and the model's input checks."""

from __future__ import annotations

import collections
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch

from combmotif import sequences as sq
from combmotif.checkpoint import load_checkpoint, save_checkpoint
from combmotif.config import load_config, parse_range, path_field
from combmotif.errors import ConfigError, InputError
from combmotif.io import atomic_path, write_json
from combmotif.models.saluki import SalukiModel

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Inner:
    lr: float = 1e-3
    epochs: int = 3


@dataclass
class Outer:
    name: str
    data: str = path_field()
    inner: Inner = field(default_factory=Inner)
    mode: str = "a"
    ind: str | int = "all"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "cfg.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_config_loads_nested_and_resolves_paths(tmp_path):
    p = _write(tmp_path, """
        name: m
        data: sub/x.csv
        inner: {lr: 0.01}
        ind: 0-4
    """)
    cfg = load_config(p, Outer)
    assert cfg.inner.lr == 0.01 and cfg.inner.epochs == 3
    assert Path(cfg.data) == (tmp_path / "sub/x.csv").resolve()
    assert parse_range(cfg.ind) == [0, 1, 2, 3]


@pytest.mark.parametrize("body, needle", [
    ("name: m\ndata: x\ninner: {lrr: 1}\n", "unknown key 'inner.lrr'"),
    ("name: m\ndata: x\ncolour: red\n", "unknown key 'colour'"),
    ("data: x\n", "missing required key 'name'"),
    ("name: m\ndata: x\ninner: {epochs: many}\n", "'inner.epochs' must be an integer"),
    ("name: m\ndata: x\ninner: [1]\n", "'inner' must be a mapping"),
    ("- a\n- b\n", "top level must be a mapping"),
])
def test_config_errors_name_key_and_file(tmp_path, body, needle):
    p = tmp_path / "bad.yaml"
    p.write_text(body)
    with pytest.raises(ConfigError) as exc:
        load_config(p, Outer)
    assert needle in str(exc.value) and "bad.yaml" in str(exc.value)


def test_config_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", Outer)


def test_parse_range_forms():
    assert parse_range("0-3,7") == [0, 1, 2, 7]
    assert parse_range("all", 3) == [0, 1, 2]
    assert parse_range(5) == [5]
    with pytest.raises(ConfigError):
        parse_range("0-70", 64)


def test_one_hot_reads_u_as_t_and_n_as_zero():
    x = sq.one_hot(["ACGUN"], length=7)
    assert x.shape == (1, 4, 7)
    assert x[0, :, :4].argmax(0).tolist() == [0, 1, 2, 3]
    assert x[0, :, 4:].sum() == 0  # N and right padding are all-zero columns
    assert sq.decode(x) == ["ACGTNNN"]


def test_one_hot_truncates_to_first_letters():
    assert sq.decode(sq.one_hot(["ACGTACGT"], length=4)) == ["ACGT"]
    assert sq.decode(sq.one_hot(["ACGTACGT"], length=4, pad="left")) == ["ACGT"]
    assert sq.decode(sq.one_hot(["TTACGGGG"], length=4, pad="left")) == ["GGGG"]


def test_invalid_character_names_sequence_and_position():
    with pytest.raises(InputError, match=r"sequence 1 has invalid character 'X' at position 2"):
        sq.one_hot(["ACGT", "ACXT"], source="f.csv")


def test_dinucleotide_shuffle_preserves_dinucleotides():
    rng = np.random.default_rng(0)
    seq = "".join(rng.choice(list("ACGT"), 60))
    counts = collections.Counter(zip(seq, seq[1:]))
    changed = 0
    for _ in range(20):
        s = sq.dinucleotide_shuffle(seq, rng)
        assert collections.Counter(zip(s, s[1:])) == counts
        assert s[0] == seq[0] and s[-1] == seq[-1]
        changed += s != seq
    assert changed >= 18


def test_batched_dinucleotide_shuffle_keeps_every_row_s_dinucleotides_and_draws_like_the_scalar_one():
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 4, size=(400, 14))
    rows[:20] = 2                                   # one letter: nothing to shuffle
    rows[20:40, ::2], rows[20:40, 1::2] = 0, 3      # ATAT...: one Eulerian path
    rows[40:60, -3:] = 4                            # padding (N) at the 3' end
    out = sq.dinucleotide_shuffle_codes(rows, np.random.default_rng(1))
    for x, y in zip(rows.tolist(), out.tolist()):
        assert collections.Counter(zip(x, x[1:])) == collections.Counter(zip(y, y[1:]))
        assert x[0] == y[0] and x[-1] == y[-1]
    assert (out[:40] == rows[:40]).all() and (out[60:] != rows[60:]).any(1).mean() > 0.9
    assert (sq.dinucleotide_shuffle_codes(rows, np.random.default_rng(1)) == out).all()   # seeded
    # Over many draws of one sequence, the batched and the scalar shuffle give each of the
    # possible shuffles equally often (both are Altschul-Erickson).
    seq = "ACGTTGCAACGT"
    many = sq.dinucleotide_shuffle_codes(np.array([["ACGT".index(c) for c in seq]] * 20000), rng)
    batched = collections.Counter("".join("ACGT"[i] for i in r) for r in many.tolist())
    scalar = collections.Counter(sq.dinucleotide_shuffle(seq, np.random.default_rng(i)) for i in range(20000))
    assert set(batched) == set(scalar) and len(batched) > 10
    assert max(abs(batched[k] - scalar[k]) for k in batched) < 0.02 * 20000


def test_iupac_patterns():
    assert sq.pattern_regex("UGUAHAUA").fullmatch("TGTACATA")
    assert not sq.pattern_regex("UGUAHAUA").fullmatch("TGTAGATA")
    assert sq.pattern_regex("AT{3}A").fullmatch("ATTTA")  # a regex passes through
    assert sq.reverse_complement("AUGC") == "GCAT"


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists() and list(tmp_path.iterdir()) == []
    write_json(target, {"a": np.float32(1.5)})
    assert target.read_text().strip().startswith("{")


def test_atomic_directory_replaces_previous(tmp_path):
    target = tmp_path / "unit"
    for value in ("first", "second"):
        with atomic_path(target) as tmp:
            tmp.mkdir()
            (tmp / "f.txt").write_text(value)
    assert (target / "f.txt").read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["unit"]


def test_model_checks_input_shape():
    model = SalukiModel(in_channels=4, seq_len=50, num_layers=3)
    with pytest.raises(InputError, match=r"expects input of shape \(N, 4, 50\); got \(2, 4, 40\)"):
        model(torch.zeros(2, 4, 40))


def test_valid_padding_layer_count_and_too_short():
    model = SalukiModel(in_channels=6, seq_len=1024, num_layers=6, padding="valid")
    names = [n for n, _ in model.body.named_children() if n.startswith("conv")]
    assert names == [f"conv{i}" for i in range(1, 8)]
    with pytest.raises(InputError, match="too short"):
        SalukiModel(in_channels=6, seq_len=40, num_layers=6, padding="valid")


def test_checkpoint_round_trip_and_mismatch(tmp_path):
    torch.manual_seed(0)
    model = SalukiModel(num_layers=1).eval()
    path = tmp_path / "m-best.pth"
    save_checkpoint(path, model, data={"scaler": {"mean": 0.0, "sd": 1.0}}, metrics={})
    loaded, ckpt = load_checkpoint(path, expect={"in_channels": 4})
    x = torch.rand(3, 4, 50)
    assert torch.allclose(model(x), loaded(x))
    with pytest.raises(InputError, match="in_channels=4 but the config needs in_channels=6"):
        load_checkpoint(path, expect={"in_channels": 6})
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="junk.pth: not a readable checkpoint"):
        load_checkpoint(tmp_path / "junk.pth")


def test_cli_guard_prints_one_error_line(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(textwrap.dedent("""
        import argparse
        from combmotif.cli import run_cli
        from combmotif.errors import InputError
        def main(args):
            raise InputError("data.csv: missing column 'rl'")
        run_cli(main, argparse.ArgumentParser())
    """))
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == ["error: data.csv: missing column 'rl'"]


def test_centre_padding_crops_the_middle_and_pads_both_sides():
    from combmotif.sequences import centre_fit, encode_indices

    assert centre_fit(["AACGTT", "ACG", "A"], 4) == ["ACGT", "ACGN", "NANN"]
    codes = encode_indices(["ACG", "AACGTT"], length=4, pad="centre")
    assert codes.tolist() == [[0, 1, 2, 4], [0, 1, 2, 3]]
