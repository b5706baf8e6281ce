"""The array scan of a motif finder gives what the regular expression gives."""

from __future__ import annotations

import numpy as np
import pytest

from combmotif import perturb as P
from combmotif.interaction import sites as S
from combmotif.pattern_scan import finder_patterns

# Alternatives where a shorter one comes first and a longer one matches at the same start:
# the finder reports the first, and so must the scan.
PATTERNS = [("ATG",), ("ATGNG", "GGAC"), ("TAT", "TATAT"), ("TATAT", "TAT"), ("AGARRANA", "CTTTCCTR", "GC"),
            ("A",)]


@pytest.mark.parametrize("patterns", PATTERNS)
def test_sites_of_every_text_match_the_regex(patterns):
    rng = np.random.default_rng(1)
    texts = ["".join(rng.choice(list("ACGTN"), rng.integers(0, 60))) for _ in range(1500)]
    f = S.finder(patterns)
    assert finder_patterns(f.pattern) is not None
    sites = S._Sites(texts, f)
    for i, text in enumerate(texts):
        assert sites[i] == S.find_spans(text, f)
        assert sites.found[i] == bool(S.find_spans(text, f))


@pytest.mark.parametrize("patterns", PATTERNS)
def test_clear_spans_match_the_regex(patterns):
    rng = np.random.default_rng(2)
    f = S.finder(patterns)
    for length in (1, 4, 9):
        n = 1200
        codes = rng.integers(0, 4, (n, length))
        flanks = [("".join(rng.choice(list("ACGTN"), rng.integers(0, 33))),
                   "".join(rng.choice(list("ACGT"), rng.integers(0, 33)))) for _ in range(n)]
        rows = rng.permutation(n)[:900]
        got = P._Flanks(flanks, f).clear(codes[rows], rows)
        want = [not P._overlaps_match(flanks[r][0] + t + flanks[r][1], len(flanks[r][0]),
                                      len(flanks[r][0]) + length, f) for t, r in zip(P.decode(codes[rows]), rows)]
        np.testing.assert_array_equal(got, want)


def test_a_regular_expression_finder_keeps_the_regex_path():
    f = S.finder(["A.G"])
    assert finder_patterns(f.pattern) is None
    texts = ["CAAGT", "CCCC", "ATGAAG"]
    sites = S._Sites(texts, f)
    assert [sites[i] for i in range(3)] == [S.find_spans(t, f) for t in texts]
    clear = P._Flanks([("CA", "GT"), ("", "")], f).clear(np.array([[0], [1]]), np.array([0, 1]))
    assert clear.tolist() == [False, True]
