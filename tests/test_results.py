"""Evaluations survive a round trip through disk exactly."""

from __future__ import annotations

import numpy as np

from hybridcore.eval.results import load_evaluation, save_evaluation
from tests.helpers import fake_evaluation


def test_round_trip(xquad_small, tmp_path):
    evaluation = fake_evaluation(xquad_small, 3)
    folder = save_evaluation(evaluation, tmp_path / "ev", extra={"model": "m"})
    loaded = load_evaluation(folder)
    assert loaded.summary() == evaluation.summary()
    for a, b in zip(evaluation.groups, loaded.groups):
        assert (a.setting, a.query_lang, a.candidate_lang, a.query_ids) == (
            b.setting,
            b.query_lang,
            b.candidate_lang,
            b.query_ids,
        )
        for metric in a.per_query:
            np.testing.assert_array_equal(a.per_query[metric], b.per_query[metric])
    assert not list(tmp_path.glob("*.partial"))
