"""Figures over seeds and the seed-aware test: against scipy where the two coincide, and on
simulated runs (questions x seeds) with and without a true effect."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hybridcore.analysis.seeds import over_seeds, seed_aware_test


def test_over_seeds_is_the_t_interval_of_the_run_figures():
    values = [0.512, 0.530, 0.521]
    spread = over_seeds(values)
    low, high = stats.t.interval(0.95, df=2, loc=np.mean(values), scale=stats.sem(values))
    assert (spread.seeds, spread.mean, spread.sd) == (
        3,
        pytest.approx(np.mean(values)),
        pytest.approx(np.std(values, ddof=1)),
    )
    assert (spread.low, spread.high) == (pytest.approx(low), pytest.approx(high))
    one = over_seeds([0.5])
    assert one.mean == 0.5 and np.isnan(one.sd) and np.isnan(one.low)
    with pytest.raises(ValueError):
        over_seeds([])


def test_one_run_each_is_the_paired_t_test():
    rng = np.random.default_rng(0)
    a = rng.random(400)
    b = a + rng.normal(0.02, 0.1, 400)
    ours = seed_aware_test(a[None, :], b[None, :])
    theirs = stats.ttest_rel(b, a)
    assert ours.p_value == pytest.approx(theirs.pvalue) and ours.degrees_of_freedom == pytest.approx(399)
    assert ours.seed_variance == 0 and ours.difference == pytest.approx((b - a).mean())


def test_questions_missing_in_a_run_are_left_out_and_shapes_are_checked():
    a = np.array([[0.1, 0.2, np.nan, 0.4], [0.2, 0.3, 0.5, 0.1]])
    b = np.array([[0.3, 0.2, 0.9, 0.5]])
    assert seed_aware_test(a, b).questions == 3
    with pytest.raises(ValueError, match="same questions"):
        seed_aware_test(a, b[:, :3])


def _simulate(rng, effect: float, seed_sd: float, interaction_sd: float, seeds: int = 3, questions: int = 300):
    """Per-query scores of two strategies: a question's difficulty (shared), how much each
    strategy suits that question, each training seed's shift of its run, and noise."""
    difficulty = rng.normal(0.5, 0.2, questions)
    runs = []
    for shift in (0.0, effect):
        suits = rng.normal(0, interaction_sd, questions)
        seed_shift = rng.normal(0, seed_sd, (seeds, 1))
        runs.append(difficulty + shift + suits + seed_shift + rng.normal(0, 0.15, (seeds, questions)))
    return runs


@pytest.mark.parametrize("seed_sd,interaction_sd", [(0.0, 0.1), (0.01, 0.0), (0.02, 0.05), (0.05, 0.0), (0.03, 0.1)])
def test_false_positive_rate_is_near_the_nominal_level(seed_sd, interaction_sd):
    rng = np.random.default_rng(1)
    p = np.array([seed_aware_test(*_simulate(rng, 0.0, seed_sd, interaction_sd)).p_value for _ in range(2000)])
    assert 0.02 <= (p < 0.05).mean() <= 0.065


def test_ignoring_seeds_is_what_inflates_false_positives():
    """The same null runs, tested on seed-averaged questions alone (a paired t-test), reject
    far too often once seeds move runs: the reason the seed term exists."""
    rng = np.random.default_rng(2)
    naive, ours = [], []
    for _ in range(500):
        a, b = _simulate(rng, 0.0, seed_sd=0.03, interaction_sd=0.0)
        naive.append(stats.ttest_rel(b.mean(axis=0), a.mean(axis=0)).pvalue < 0.05)
        ours.append(seed_aware_test(a, b).p_value < 0.05)
    assert np.mean(naive) > 0.3 and np.mean(ours) < 0.08


def test_a_true_effect_is_found_and_covered_by_the_interval():
    rng = np.random.default_rng(3)
    tests = [seed_aware_test(*_simulate(rng, 0.05, seed_sd=0.01, interaction_sd=0.05)) for _ in range(300)]
    assert np.mean([t.p_value < 0.05 for t in tests]) > 0.8
    assert 0.9 <= np.mean([t.low <= 0.05 <= t.high for t in tests]) <= 0.99
