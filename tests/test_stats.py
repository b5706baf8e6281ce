"""Small statistics of the contribution and interaction stages (combmotif.stats)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from combmotif import stats


def test_bh_matches_a_hand_computation():
    # Sorted p: 0.01, 0.03, 0.04, 0.20 (m = 4). Raw p*m/rank: 0.04, 0.06, 0.0533, 0.20;
    # running minimum from the largest rank down: 0.04, 0.0533, 0.0533, 0.20.
    q = stats.bh_qvalues(np.array([0.01, 0.04, 0.03, 0.20]))
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.20])


def test_bh_leaves_untested_units_out_of_the_family():
    q = stats.bh_qvalues(np.array([np.nan, 0.01, 0.04]))
    assert np.isnan(q[0])
    # Family of two: 0.01*2/1 = 0.02, 0.04*2/2 = 0.04.
    np.testing.assert_allclose(q[1:], [0.02, 0.04])
    assert np.isnan(stats.bh_qvalues(np.array([np.nan]))).all()


def test_cohens_d_by_hand():
    # Means 2 and 5, both sample variances 1 -> pooled sd 1 -> d = -3.
    assert stats.cohens_d([1, 2, 3], [4, 5, 6]) == pytest.approx(-3.0)
    # Unequal sizes: x var 2.5 (n 5), y var 1 (n 3): pooled = (4*2.5 + 2*1) / 6 = 2.
    assert stats.cohens_d([1, 2, 3, 4, 5], [0, 1, 2]) == pytest.approx(2.0 / np.sqrt(2.0))
    assert np.isnan(stats.cohens_d([1], [2, 3]))


def test_welch_and_mannwhitney_agree_with_scipy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 1, 40), rng.normal(0.5, 2, 25)
    t, p = stats.welch_p(x, y)
    ref = sps.ttest_ind(x, y, equal_var=False)
    assert (t, p) == pytest.approx((ref.statistic, ref.pvalue))
    assert stats.mannwhitney_p(x, y) == pytest.approx(sps.mannwhitneyu(x, y).pvalue)
    # Degenerate groups are answered, not crashed on.
    assert stats.welch_p([1.0, 1.0], [1.0, 1.0]) == (0.0, 1.0)
    assert stats.welch_p([1.0, 1.0], [2.0, 2.0])[1] == 0.0
    assert np.isnan(stats.welch_p([1.0], [2.0, 3.0])[1])


def test_wilcoxon_against_zero():
    assert stats.wilcoxon_p(np.zeros(10)) == 1.0
    assert np.isnan(stats.wilcoxon_p(np.array([])))
    d = np.arange(1, 11, dtype=float)
    # All ten differences positive: exact two-sided p = 2 / 2**10.
    assert stats.wilcoxon_p(d) == pytest.approx(2 / 2 ** 10)


def test_bootstrap_ci_is_seeded_and_covers_the_mean():
    x = np.random.default_rng(0).normal(3.0, 1.0, 200)
    a = stats.bootstrap_ci(x, seed=7)
    b = stats.bootstrap_ci(x, seed=7)
    assert a == b
    assert a[0] < x.mean() < a[1]
    # Width about 2 * 1.96 * sd / sqrt(n).
    assert a[1] - a[0] == pytest.approx(2 * 1.96 / np.sqrt(200), rel=0.2)
    assert stats.bootstrap_ci(np.array([2.0])) == (2.0, 2.0)


def test_signed_p_follows_the_seeds_convention():
    # Negative when the first group's mean is the larger.
    assert stats.signed_p(0.01, np.array([2.0]), np.array([1.0])) == -0.01
    assert stats.signed_p(0.01, np.array([1.0]), np.array([2.0])) == 0.01
