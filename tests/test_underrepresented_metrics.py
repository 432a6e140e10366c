"""AfriQA's and SIB-200's settings on real e5-small embeddings of real data, every metric
checked query by query against pytrec_eval (trec_eval's own code)."""

from __future__ import annotations

import numpy as np
import pytest
import pytrec_eval

pytestmark = pytest.mark.real

# ours -> (pytrec_eval measure, its key); MRR@10 is trec_eval's reciprocal rank cut at 10
MEASURES = {
    "ndcg@10": ("ndcg_cut.10", "ndcg_cut_10"),
    "recall@1": ("recall.1", "recall_1"),
    "recall@10": ("recall.10", "recall_10"),
    "recall@100": ("recall.100", "recall_100"),
    "mrr@10": ("recip_rank", "recip_rank"),
    "map": ("map", "map"),
    "precision@1": ("P.1", "P_1"),
}


def _check_against_pytrec(groups, evaluation, queries, candidates) -> int:
    by_key = {(g.setting, g.query_lang, g.candidate_lang): g for g in evaluation.groups}
    checked = 0
    for group in groups:
        ours = by_key[(group.setting, group.query_lang, group.candidate_lang)].per_query
        scores = queries[group.query_rows] @ candidates[group.pool].T
        qrels = {f"q{r}": {f"d{i}": 1 for i in rel} for r, rel in enumerate(group.relevant)}
        run = {}
        for r, row in enumerate(scores):
            left_out = -1 if group.exclude is None else int(group.exclude[r])
            run[f"q{r}"] = {f"d{i}": float(s) for i, s in enumerate(row) if i != left_out}
        names = [m for m in ours if m in MEASURES]
        reference = pytrec_eval.RelevanceEvaluator(qrels, {MEASURES[m][0] for m in names}).evaluate(run)
        for r in range(len(group.relevant)):
            for name in names:
                expected = reference[f"q{r}"][MEASURES[name][1]]
                if name == "mrr@10":
                    expected = expected if expected >= 0.1 else 0.0
                assert ours[name][r] == pytest.approx(expected, abs=1e-5), (group.setting, group.query_lang, name, r)
            checked += 1
    return checked


def test_afriqa_settings_match_pytrec_eval(afriqa_small, afriqa_embeddings):
    queries, candidates = afriqa_embeddings
    evaluation = afriqa_small.evaluate(queries, candidates)
    assert {(g.setting, g.query_lang) for g in evaluation.groups} == {
        (s, x) for s in ("native", "translated") for x in ("ha", "yo")
    }
    native, translated = (
        next(g for g in evaluation.groups if g.setting == s and g.query_lang == "yo") for s in ("native", "translated")
    )
    assert native.query_ids == translated.query_ids  # the same questions, for paired tests of the gap
    assert _check_against_pytrec(afriqa_small.groups(), evaluation, queries, candidates) == 160
    # the real gap: a question asked in Yoruba finds its English passage less often than its translation
    assert translated.mean("ndcg@10") > native.mean("ndcg@10")


def test_sib200_bitext_and_pooled_settings_match_pytrec_eval(flores_small, flores_embeddings):
    data = flores_small
    assert data.languages == ("en", "yo", "sw", "de") and len(data.index_ids) == 99
    queries, candidates = flores_embeddings
    evaluation = data.evaluate(queries, candidates)
    assert (
        sum(g.setting == "bitext" for g in evaluation.groups) == 6
        and sum(g.setting == "multi" for g in evaluation.groups) == 4
    )
    assert _check_against_pytrec(data.groups(), evaluation, queries, candidates) == 6 * 99 + 4 * 99
    pooled = {g.query_lang: g for g in evaluation.groups if g.setting == "multi"}
    # the query itself is left out: three relevant translations, so a rank distance of at least 0
    assert np.nanmin(pooled["yo"].per_query["rank_distance"]) >= 0
    assert pooled["de"].mean("map") > pooled["yo"].mean("map")
