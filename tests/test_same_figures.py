"""Two stores' figures compared bit for bit: equal stores are the same, one changed figure,
one changed per-query score, or a run in one store only is found and counted."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hybridcore.analysis.same_figures import compare, run_key


def _stores():
    figures = pd.DataFrame(
        {
            "run": ["reference", "hybrid"],
            "dataset": "xquad-r",
            "setting": "mono",
            "query_lang": "en",
            "candidate_lang": "en",
            "metric": "map",
            "value": [0.1 + 0.2, np.nan],
            "n_queries": 2,
        }
    )
    scores = pd.DataFrame(
        {
            "run": ["reference"] * 2,
            "dataset": "xquad-r",
            "setting": "mono",
            "query_lang": "en",
            "candidate_lang": "en",
            "metric": "map",
            "query_id": ["q1", "q2"],
            "value": [0.5, 0.25],
        }
    )
    return figures, scores


def test_equal_stores_are_the_same_nan_included():
    figures, scores = _stores()
    result = compare(figures, figures.copy(), scores, scores.copy())
    assert result.same and (result.runs, result.figures, result.scores) == (2, 2, 2)


def test_a_changed_value_or_a_missing_run_is_found():
    figures, scores = _stores()
    moved = figures.assign(value=[0.3, np.nan])  # 0.1 + 0.2 != 0.3 in binary: bit for bit means that
    assert compare(figures, moved, scores, scores).differing_figures == 1
    assert compare(figures, figures, scores, scores.assign(value=[0.5, 0.2500001])).differing_scores == 1
    fewer = compare(figures, figures[figures["run"] == "reference"], scores, scores)
    assert not fewer.same and fewer.only_in_one == 1 and fewer.runs == 1


def test_runs_match_by_their_name_within_the_experiment():
    assert run_key("local-quick-e5-small-mlqa-r-20261201T162059Z/hybrid") == "hybrid"
