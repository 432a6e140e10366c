"""The evaluation settings' structure on the full real sets, and known-answer embeddings."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybridcore.analysis.tables import language_table, summary_table
from hybridcore.data.formats.lareqa import Candidate, Question, RetrievalSet, load_lareqa


def random_unit(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_xquad_r_settings_structure(xquad):
    result = xquad.evaluate(random_unit(len(xquad.questions)), random_unit(len(xquad.candidates), seed=1))
    count = lambda s: sum(g.setting == s for g in result.groups)
    assert (count("mono"), count("cross"), count("multi")) == (11, 110, 11)
    assert all(len(g.query_ids) == 1190 for g in result.groups)
    summary = result.summary()
    assert summary["multi"]["rank_distance"] > 1000  # random vectors: answers scattered
    assert summary["mono"]["map"] < 0.05  # chance level for ~1200 candidates


def test_mlqa_r_cross_pairs_keep_only_translated_questions(shared_data):
    mlqa = load_lareqa("mlqa-r")
    result = mlqa.evaluate(random_unit(len(mlqa.questions)), random_unit(len(mlqa.candidates), seed=1))
    cross = [g for g in result.groups if g.setting == "cross"]
    assert len(cross) == 42
    en_de = next(g for g in cross if (g.query_lang, g.candidate_lang) == ("en", "de"))
    de_ids = {q.id for q in mlqa.questions_in("de")}
    assert set(en_de.query_ids) == {q.id for q in mlqa.questions_in("en")} & de_ids


def tiny_parallel_set() -> RetrievalSet:
    """Two questions in two languages; one answer sentence and one distractor per language."""
    cands, qs = [], []
    for lang in ("en", "de"):
        cands += [
            Candidate(f"{lang}:0", lang, "a", "ctx"),
            Candidate(f"{lang}:1", lang, "b", "ctx"),
            Candidate(f"{lang}:2", lang, "noise", "ctx"),
        ]
    for lang in ("en", "de"):
        qs += [Question("q0", lang, "?", ("en:0", "de:0")), Question("q1", lang, "?", ("en:1", "de:1"))]
    return RetrievalSet("tiny", tuple(qs), tuple(cands))


def test_perfect_embeddings_score_one_and_no_bias():
    data = tiny_parallel_set()
    basis = np.eye(3, dtype=np.float32)
    cand = np.stack([basis[int(c.id[-1])] for c in data.candidates])
    ques = np.stack([basis[int(q.id[-1])] for q in data.questions])
    result = data.evaluate(ques, cand)
    for setting in ("mono", "cross", "multi"):
        assert result.macro(setting, "map") == pytest.approx(1.0)
        assert result.macro(setting, "recall@10") == pytest.approx(1.0)
    # in the pool of both languages the two answers take ranks 1 and 2 (a tie): distance 0
    assert result.macro("multi", "rank_distance") == 0.0
    # two relevant answers tied at the top take ranks 1 and 2 for the top-k metrics, as in
    # trec_eval: one of the two is in the top 1, and the first answer is at rank 1
    assert result.macro("multi", "recall@1") == 0.5
    assert result.macro("multi", "mrr@10") == 1.0
    json.dumps(result.to_dict())  # serialisable
    assert "Mo" in summary_table(result) and "de" in language_table(result)


def test_language_bias_is_measured():
    data = tiny_parallel_set()
    basis = np.eye(3, dtype=np.float32)
    # German answers pushed away from the questions: same-language retrieval still works,
    # but in the multilingual pool English answers come first
    cand = np.stack(
        [
            basis[int(c.id[-1])] * (1.0 if c.lang == "en" else 0.6) + (0 if c.lang == "en" else 0.8) * basis[2]
            for c in data.candidates
        ]
    )
    cand /= np.linalg.norm(cand, axis=1, keepdims=True)
    ques = np.stack([basis[int(q.id[-1])] for q in data.questions])
    result = data.evaluate(ques, cand)
    assert result.macro("mono", "map") == pytest.approx(1.0)
    assert result.macro("multi", "rank_distance") > 0


def test_top_k_matches_a_full_sort_and_refuses_an_empty_pool():
    from hybridcore.eval.index import top_k

    rng = np.random.default_rng(0)
    queries, candidates = rng.normal(size=(5, 8)).astype(np.float32), rng.normal(size=(40, 8)).astype(np.float32)
    scores, idx = top_k(queries, candidates, 7)
    expected = np.argsort(-(queries @ candidates.T), axis=1)[:, :7]
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ candidates.T, expected, 1), rtol=1e-5)
    assert top_k(queries, candidates, 100)[1].shape == (5, 40)
    with pytest.raises(ValueError, match="no candidates to search for 5 queries"):
        top_k(queries, candidates[:0], 3)
