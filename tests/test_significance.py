"""Paired tests and multiple-comparison corrections against scipy and statsmodels-free
reference computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hybridcore.analysis.significance import benjamini_hochberg, holm, paired_randomization_test


def test_randomization_p_value_matches_scipy_permutation_test():
    rng = np.random.default_rng(1)
    a = rng.uniform(size=200)
    b = a + rng.normal(0.03, 0.2, size=200)
    ours = paired_randomization_test(a, b, permutations=20_000, seed=3)
    ref = stats.permutation_test(
        (a, b),
        lambda x, y: np.mean(y - x),
        permutation_type="samples",
        n_resamples=20_000,
        alternative="two-sided",
        random_state=3,
    )
    assert ours.p_value == pytest.approx(ref.pvalue, abs=0.01)
    assert ours.mean_difference == pytest.approx(np.mean(b - a))
    assert ours.cohens_d == pytest.approx(np.mean(b - a) / np.std(b - a, ddof=1))


def test_identical_runs_are_not_significant_and_clear_gains_are():
    rng = np.random.default_rng(2)
    a = rng.uniform(size=300)
    same = paired_randomization_test(a, a.copy())
    assert same.p_value == 1.0 and same.mean_difference == 0.0
    better = paired_randomization_test(a, np.clip(a + 0.1, 0, 1.2))
    assert better.p_value < 0.001


def test_nan_scores_are_dropped_pairwise():
    result = paired_randomization_test(np.array([0.1, np.nan, 0.5]), np.array([0.2, 0.3, np.nan]))
    assert result.n == 1


def test_holm_and_bh_match_scipy():
    p = np.array([0.01, 0.04, 0.03, 0.20, 0.005, np.nan])
    assert np.allclose(benjamini_hochberg(p)[:5], stats.false_discovery_control(p[:5], method="bh"))
    # Holm by hand: sorted p * (m - rank), running max, capped at 1
    sorted_p = np.sort(p[:5])
    expected = np.minimum(np.maximum.accumulate(sorted_p * (5 - np.arange(5))), 1)
    assert np.allclose(np.sort(holm(p)[:5]), expected)
    assert np.isnan(holm(p)[5]) and np.isnan(benjamini_hochberg(p)[5])


def test_holm_known_values():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 -> 0.02, 0.03, 0.06, 0.04 -> running max
    assert holm(np.array([0.01, 0.04, 0.03, 0.005])) == pytest.approx([0.03, 0.06, 0.06, 0.02])
