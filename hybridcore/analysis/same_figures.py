"""Whether two stores hold the same figures: every figure and every per-query score of the
runs they share, compared exactly (bit for bit), so a refactoring or a re-run can be shown to
change nothing. Runs are matched by their name within their experiment (``hybrid/...``), as
two ``make run`` stores name the same runs under different experiment times. Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

GROUP = ["dataset", "setting", "query_lang", "candidate_lang", "metric"]


@dataclass(frozen=True)
class Comparison:
    """What was compared and what differed (``differences``: a few rows, for the eye)."""

    runs: int
    figures: int
    scores: int
    differing_figures: int
    differing_scores: int
    only_in_one: int
    differences: pd.DataFrame

    @property
    def same(self) -> bool:
        return self.runs > 0 and self.differing_figures == self.differing_scores == self.only_in_one == 0


def run_key(name: str) -> str:
    """A run's name within its experiment: ``local-quick-...-20261201T162059Z/hybrid`` -> ``hybrid``."""
    return name.rsplit("/", 1)[-1]


def _exact(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Equal values, NaN equal to NaN, compared as bits (``0.1 + 0.2`` is not ``0.3``)."""
    x, y = a.to_numpy(dtype=np.float64), b.to_numpy(dtype=np.float64)
    return (x.view(np.int64) == y.view(np.int64)) | (np.isnan(x) & np.isnan(y))


def compare(
    figures_a: pd.DataFrame, figures_b: pd.DataFrame, scores_a: pd.DataFrame, scores_b: pd.DataFrame
) -> Comparison:
    """``figures_*`` and ``scores_*`` carry a ``run`` column of run keys (``run_key``); rows of
    runs present on one side only are counted in ``only_in_one``, as are groups one side lacks."""
    shared = sorted(set(figures_a["run"]) & set(figures_b["run"]))
    only = len(set(figures_a["run"]) ^ set(figures_b["run"]))
    keys = ["run", *GROUP]
    fig = figures_a[figures_a["run"].isin(shared)].merge(
        figures_b[figures_b["run"].isin(shared)], on=keys, how="outer", suffixes=("_a", "_b"), indicator=True
    )
    both = fig[fig["_merge"] == "both"]
    fig_same = _exact(both["value_a"], both["value_b"]) & (both["n_queries_a"] == both["n_queries_b"]).to_numpy()
    score_keys = [*keys, "query_id"]
    sc = scores_a[scores_a["run"].isin(shared)].merge(
        scores_b[scores_b["run"].isin(shared)], on=score_keys, how="outer", suffixes=("_a", "_b"), indicator=True
    )
    sc_both = sc[sc["_merge"] == "both"]
    sc_same = _exact(sc_both["value_a"], sc_both["value_b"])
    differences = both.loc[~fig_same, [*keys, "value_a", "value_b"]].head(20)
    return Comparison(
        len(shared),
        len(both),
        len(sc_both),
        int((~fig_same).sum()),
        int((~sc_same).sum()),
        only + int((fig["_merge"] != "both").sum()) + int((sc["_merge"] != "both").sum()),
        differences,
    )
