"""The one freshness stamp (combmotif/stamps.py)."""

from __future__ import annotations

from combmotif.stamps import make_stamp, read_stamp, settings_changes, stamp_digest, unit_is_fresh, write_stamp


def test_a_stamp_reads_back_equal_and_keeps_the_extras_before_the_settings(tmp_path):
    stamp = make_stamp("abc", {"seed": 2024, "knockout": {"draws": (1, 2)}}, labels="x")
    assert list(stamp) == ["fingerprint", "labels", "settings"]
    assert stamp["settings"]["knockout"]["draws"] == [1, 2]     # as JSON gives it back
    write_stamp(tmp_path / "u.stamp.json", stamp)
    assert read_stamp(tmp_path / "u.stamp.json") == stamp
    assert stamp_digest(stamp) == stamp_digest(dict(reversed(list(stamp.items()))))
    assert stamp_digest(stamp) != stamp_digest(make_stamp("abd", stamp["settings"], labels="x"))


def test_unreadable_or_missing_stamps_mean_unfinished(tmp_path):
    assert read_stamp(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{not json")
    assert read_stamp(tmp_path / "bad.json") is None
    (tmp_path / "list.json").write_text("[1, 2]")
    assert read_stamp(tmp_path / "list.json") is None


def test_unit_is_fresh_says_what_changed(tmp_path):
    out = tmp_path / "table.csv"
    out.write_text("a\n")
    made = make_stamp("w", {"seed": 1, "ppm": {"ic": 1.0}})
    write_stamp(tmp_path / "s.json", made)
    msgs: list[str] = []
    assert unit_is_fresh(tmp_path / "s.json", made, output=out, name="t", log=msgs.append)
    assert not unit_is_fresh(tmp_path / "s.json", made, force=True, output=out)
    assert not unit_is_fresh(tmp_path / "s.json", made, output=tmp_path / "missing.csv")
    wanted = make_stamp("w", {"seed": 2, "ppm": {"ic": 0.8}})
    assert not unit_is_fresh(tmp_path / "s.json", wanted, output=out, name="t", log=msgs.append)
    assert msgs == ["t was made with other settings "
                    "(settings.ppm.ic 1.0 -> 0.8, settings.seed 1 -> 2); redoing it"]
    assert settings_changes({"a": 1}, {"a": 1}) == ""
