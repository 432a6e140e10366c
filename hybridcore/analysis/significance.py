"""Paired significance tests between two runs, on per-query scores.

The test is the paired randomisation (sign-flip permutation) test that IR evaluation uses
(Smucker, Allan and Carterette, 2007): under the null hypothesis the two systems are
exchangeable per query, so each per-query difference keeps or flips its sign with
probability 1/2. The p-value is two-sided, with the observed statistic counted among the
permutations so it is never zero. Effect sizes: the mean difference and Cohen's d for paired
samples (mean difference / standard deviation of the differences). Many comparisons at once
(per language, per pair) are corrected with Holm's step-down method (family-wise error) or
Benjamini-Hochberg (false discovery rate).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class PairedTest:
    n: int
    mean_a: float
    mean_b: float
    mean_difference: float  # b - a
    cohens_d: float
    p_value: float


@lru_cache(maxsize=4)
def _sign_flips(n: int, permutations: int, seed: int) -> np.ndarray:
    """The random sign patterns, shared by every test over ``n`` queries: a dashboard runs a
    hundred tests of the same size (one per language pair), and drawing the patterns is most
    of a test's cost. Each test stays exact; tests of one table are dependent anyway."""
    signs = np.random.default_rng(seed).integers(0, 2, size=(permutations, n), dtype=np.int8) * 2 - 1
    signs.setflags(write=False)
    return signs


def paired_randomization_test(a: np.ndarray, b: np.ndarray, permutations: int = 10_000, seed: int = 0) -> PairedTest:
    """Two-sided sign-flip test of mean(b - a) = 0 over queries scored by both runs."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"paired scores must be two 1-d arrays of equal length, got {a.shape} and {b.shape}")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = len(a)
    if n == 0:
        return PairedTest(0, np.nan, np.nan, np.nan, np.nan, np.nan)
    diff = b - a
    observed = abs(diff.mean())
    signs = _sign_flips(n, permutations, seed)
    exceed = 0
    for start in range(0, permutations, 1000):
        flipped_means = signs[start : start + 1000].astype(np.float64) @ diff / n
        exceed += int((np.abs(flipped_means) >= observed - 1e-12).sum())
    sd = diff.std(ddof=1) if n > 1 else 0.0
    d = diff.mean() / sd if sd > 0 else (0.0 if diff.mean() == 0 else np.inf * np.sign(diff.mean()))
    return PairedTest(
        n, float(a.mean()), float(b.mean()), float(diff.mean()), float(d), (exceed + 1) / (permutations + 1)
    )


def sign_flip_p_below(differences: np.ndarray, bound: float, permutations: int = 10_000, seed: int = 0) -> float:
    """One-sided sign-flip p-value of H0: mean(differences) >= ``bound`` against mean < ``bound``
    (a drop beyond a margin: ``bound`` = -margin). The differences are shifted by ``bound`` so
    that the null is a mean of zero, as the two-sided test's is."""
    d = np.asarray(differences, dtype=np.float64)
    d = d[np.isfinite(d)] - bound
    if len(d) == 0:
        return float("nan")
    observed = d.mean()
    signs = _sign_flips(len(d), permutations, seed)
    below = 0
    for start in range(0, permutations, 1000):
        below += int((signs[start : start + 1000].astype(np.float64) @ d / len(d) <= observed + 1e-12).sum())
    return (below + 1) / (permutations + 1)


def _adjusted(p_values: np.ndarray, adjust_sorted) -> np.ndarray:
    """Apply ``adjust_sorted`` to the finite p-values in ascending order; NaN stays NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full_like(p, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if len(finite):
        order = finite[np.argsort(p[finite], kind="stable")]
        out[order] = np.minimum(adjust_sorted(p[order]), 1.0)
    return out


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values."""
    return _adjusted(p_values, lambda s: np.maximum.accumulate((len(s) - np.arange(len(s))) * s))


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values)."""
    return _adjusted(p_values, lambda s: np.minimum.accumulate((s * len(s) / np.arange(1, len(s) + 1))[::-1])[::-1])
