"""Metrics: hand-built cases, then every metric against an independent implementation
(sklearn for AP, pytrec_eval for nDCG / recall / MRR / AP) on real e5-small embeddings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import pytrec_eval
import torch
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score

from hybridcore.eval import metrics


def ranks_of(scores: list[list[float]], relevant: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    index, gains = metrics.pad_relevant(relevant)
    return metrics.relevant_ranks(torch.tensor(scores), index), gains


def test_hand_built_ranking():
    # candidates 0..4; relevant 1 and 3; order by score: 2, 1, 4, 3, 0
    ranks, gains = ranks_of([[0.1, 0.8, 0.9, 0.3, 0.5]], [[1, 3]])
    assert sorted(ranks[0]) == [2.0, 4.0]
    m = metrics.compute(["map", "recall@1", "recall@2", "mrr@10", "mrr@1", "ndcg@10", "rank_distance"], ranks, gains)
    assert m["map"][0] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert m["recall@1"][0] == 0.0 and m["recall@2"][0] == 0.5
    assert m["mrr@10"][0] == 0.5 and m["mrr@1"][0] == 0.0
    ideal = 1 + 1 / math.log2(3)
    assert m["ndcg@10"][0] == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / ideal)
    assert m["rank_distance"][0] == 2.0


@pytest.mark.parametrize(
    "ranks, expected",
    [
        ([1, 2, 3], 2.0),  # one answer per language, adjacent
        ([5, 1, 400], 399.0),  # one language's answer far down: strong bias
        ([7], math.nan),  # a single relevant item has no spread
        ([3, 3], 0.0),
    ],
)
def test_rank_distance_known_answers(ranks, expected):
    r = np.array([ranks], dtype=float)
    d = metrics.rank_distance(r, np.ones_like(r))[0]
    assert (math.isnan(d) and math.isnan(expected)) or d == expected


def test_rank_distance_ignores_padding_and_unretrieved():
    r = np.array([[2.0, 10.0, np.inf, np.inf]])
    g = np.array([[1.0, 1.0, 1.0, 0.0]])  # third slot relevant but not retrieved, fourth padding
    assert metrics.rank_distance(r, g)[0] == 8.0


def test_ties_count_against_the_relevant_candidate():
    # relevant candidate 0 ties with candidate 1: pessimistic rank 2, AP as sklearn computes it
    scores = [[0.5, 0.5, 0.1]]
    ranks, gains = ranks_of(scores, [[0]])
    assert ranks[0, 0] == 2.0
    ap = metrics.average_precision(ranks, gains)[0]
    assert ap == pytest.approx(average_precision_score([1, 0, 0], scores[0]))


def test_tied_relevant_candidates_match_sklearn():
    scores = [0.9, 0.7, 0.7, 0.7, 0.2, 0.7]
    truth = [0, 1, 0, 1, 1, 0]
    ranks, gains = ranks_of([scores], [[i for i, t in enumerate(truth) if t]])
    assert metrics.average_precision(ranks, gains)[0] == pytest.approx(average_precision_score(truth, scores))


def test_relevant_candidates_tied_with_each_other_take_consecutive_ranks():
    # two relevant candidates tied at the top: one is first, the other second, as trec_eval has it
    scores = {"d0": 1.0, "d1": 1.0, "d2": 0.0, "d3": 0.6}
    qrels = {"q": {"d0": 1, "d1": 1}}
    index, gains = metrics.pad_relevant([[0, 1]])
    ranks = metrics.relevant_ranks(torch.tensor([list(scores.values())]), index)
    ours = metrics.compute(["recall@1", "mrr@10", "ndcg@10", "map"], ranks, gains)
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"recall.1", "recip_rank", "ndcg_cut.10", "map"}).evaluate(
        {"q": scores}
    )["q"]
    assert ours["recall@1"][0] == ref["recall_1"] == 0.5
    assert ours["mrr@10"][0] == ref["recip_rank"] == 1.0
    assert ours["ndcg@10"][0] == pytest.approx(ref["ndcg_cut_10"]) and ours["map"][0] == pytest.approx(ref["map"])


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=1, max_size=12))
def test_ordinal_ranks_are_the_worst_order_a_ranking_can_have(candidates):
    # candidates: (score, grade); grade 0 = not relevant. Brute force: sort by score, in a tie
    # the non-relevant first, then the relevant by grade, then by position.
    scores = [c[0] for c in candidates]
    relevant = [i for i, c in enumerate(candidates) if c[1] > 0]
    if not relevant:
        return
    index, gains = metrics.pad_relevant([relevant], [[candidates[i][1] for i in relevant]])
    pessimistic = metrics.relevant_ranks(torch.tensor([scores], dtype=torch.float64), index)
    ours = metrics.ordinal_ranks(pessimistic, gains)[0]
    order = sorted(
        range(len(candidates)),
        key=lambda i: (-scores[i], candidates[i][1] > 0, candidates[i][1], relevant.index(i) if i in relevant else 0),
    )
    expected = [order.index(i) + 1 for i in relevant]
    assert ours[: len(relevant)].tolist() == expected


def test_graded_ndcg_matches_trec_eval():
    scores = {"d0": 0.9, "d1": 0.8, "d2": 0.7, "d3": 0.6, "d4": 0.5}
    qrels = {"q": {"d1": 2, "d3": 1, "d4": 3}}
    docs = list(scores)
    index, gains = metrics.pad_relevant([[docs.index(d) for d in qrels["q"]]], [list(qrels["q"].values())])
    ranks = metrics.relevant_ranks(torch.tensor([list(scores.values())]), index)
    ours = metrics.ndcg_at(ranks, gains, 10)[0]
    ref = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut"}).evaluate({"q": scores})["q"]["ndcg_cut_10"]
    assert ours == pytest.approx(ref, abs=1e-9)


def test_unknown_metric_is_rejected():
    with pytest.raises(ValueError, match="unknown metric"):
        metrics.compute(["success@5"], np.ones((1, 1)), np.ones((1, 1)))


# --- independent implementations on real encoded data ----------------------------------------


@pytest.fixture(scope="module")
def real_groups(xquad_small, real_embeddings):
    """Every Mo / Cr / Mul group of the real subset with its exact score matrix."""
    q, c = real_embeddings
    out = []
    for g in xquad_small.groups():
        scores = torch.from_numpy(q[g.query_rows]) @ torch.from_numpy(c[g.pool]).T
        out.append((g, scores))
    return out


@pytest.mark.real
def test_real_data_has_no_score_ties_among_relevant(real_groups):
    # pytrec_eval breaks ties by document id, we rank pessimistically: the comparison below
    # is exact only without ties, so make sure the real data has none.
    for g, scores in real_groups:
        index, _ = metrics.pad_relevant(g.relevant)
        own = scores.gather(1, torch.as_tensor(index).clamp(min=0))
        ties = (scores[:, None, :] == own[:, :, None]).sum(-1) - 1
        assert int(ties[torch.as_tensor(index) >= 0].max()) == 0


@pytest.mark.real
def test_ap_matches_sklearn_on_real_embeddings(real_groups):
    checked = 0
    for g, scores in real_groups:
        index, gains = metrics.pad_relevant(g.relevant)
        ours = metrics.average_precision(metrics.relevant_ranks(scores, index), gains)
        for row, rel in enumerate(g.relevant):
            truth = np.zeros(scores.shape[1])
            truth[rel] = 1
            assert ours[row] == pytest.approx(average_precision_score(truth, scores[row].numpy()), abs=1e-9)
            checked += 1
    assert checked > 1000


@pytest.mark.real
def test_rank_metrics_match_pytrec_eval_on_real_embeddings(real_groups):
    measures = {"ndcg_cut.10", "recall.1", "recall.10", "recip_rank", "map"}
    checked = 0
    for g, scores in real_groups:
        index, gains = metrics.pad_relevant(g.relevant)
        ours = metrics.compute(
            ["ndcg@10", "recall@1", "recall@10", "mrr@10", "map"], metrics.relevant_ranks(scores, index), gains
        )
        qrels = {f"q{r}": {f"d{i}": 1 for i in rel} for r, rel in enumerate(g.relevant)}
        run = {f"q{r}": {f"d{i}": float(s) for i, s in enumerate(row)} for r, row in enumerate(scores.numpy())}
        ref = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
        for r in range(len(g.relevant)):
            e = ref[f"q{r}"]
            assert ours["ndcg@10"][r] == pytest.approx(e["ndcg_cut_10"], abs=1e-6)
            assert ours["recall@1"][r] == pytest.approx(e["recall_1"], abs=1e-9)
            assert ours["recall@10"][r] == pytest.approx(e["recall_10"], abs=1e-9)
            mrr10 = e["recip_rank"] if e["recip_rank"] >= 0.1 else 0.0
            assert ours["mrr@10"][r] == pytest.approx(mrr10, abs=1e-9)
            assert ours["map"][r] == pytest.approx(e["map"], abs=1e-6)
            checked += 1
    assert checked > 1000


@pytest.mark.real
def test_evaluation_groups_agree_with_direct_computation(xquad_small, real_embeddings, real_groups):
    evaluation = xquad_small.evaluate(*real_embeddings)
    by_key = {(g.setting, g.query_lang, g.candidate_lang): g for g in evaluation.groups if g.setting != "mul_rank"}
    assert len(by_key) == len(real_groups) == 3 + 6 + 3  # the rank matrix's groups are read off Mul's ranking
    for g, scores in real_groups:
        index, gains = metrics.pad_relevant(g.relevant)
        direct = metrics.average_precision(metrics.relevant_ranks(scores, index), gains).mean()
        assert by_key[(g.setting, g.query_lang, g.candidate_lang)].mean("map") == pytest.approx(direct, abs=1e-4)


def brute_force_ranks(scores: torch.Tensor, index: np.ndarray) -> np.ndarray:
    ranks = np.full(index.shape, np.inf)
    for r, row in enumerate(index):
        for j, col in enumerate(row):
            if col >= 0:
                ranks[r, j] = float((scores[r] >= scores[r, col]).sum())
    return ranks


@pytest.mark.parametrize("seed", range(5))
def test_pruned_ranks_equal_brute_force_with_ties_and_padding(seed):
    rng = np.random.default_rng(seed)
    # few distinct values: plenty of ties, including among relevant candidates
    scores = torch.tensor(rng.integers(0, 12, size=(40, 60)).astype(np.float32) / 12)
    relevant = [sorted(rng.choice(60, size=rng.integers(1, 8), replace=False).tolist()) for _ in range(40)]
    index, _ = metrics.pad_relevant(relevant)
    np.testing.assert_array_equal(
        metrics.relevant_ranks(scores, index, cells_per_chunk=7 * scores.shape[1]), brute_force_ranks(scores, index)
    )


def test_normalised_rank_distance_is_0_for_adjacent_answers_and_1_for_a_random_ranking():
    """Checked against a brute-force simulation that shares no code with the metric: random
    permutations of a pool, each query's relevant positions read off ``argsort``."""
    pool, n = 500, 11
    adjacent = np.arange(1, n + 1, dtype=np.float64)[None, :] + 40
    assert metrics.rank_distance_norm(adjacent, np.ones_like(adjacent), pool)[0] == pytest.approx(0.0)
    rng = np.random.default_rng(7)
    positions = np.stack([np.argsort(rng.permutation(pool))[:n] + 1 for _ in range(4000)]).astype(np.float64)
    simulated = metrics.rank_distance_norm(positions, np.ones_like(positions), pool)
    assert simulated.mean() == pytest.approx(1.0, abs=0.01)
    raw = positions.max(1) - positions.min(1)  # the same distance, computed independently
    expected_random = (pool + 1) * (n - 1) / (n + 1)
    np.testing.assert_allclose(simulated, (raw - (n - 1)) / (expected_random - (n - 1)))
    one = np.array([[3.0, np.inf]])
    assert np.isnan(metrics.rank_distance_norm(one, np.array([[1.0, 1.0]]), pool)[0])  # fewer than two found
    with pytest.raises(ValueError, match="needs the pool's size"):
        metrics.compute(["rank_distance_norm"], positions, np.ones_like(positions))


def test_normalised_rank_distance_compares_pools_of_different_sizes(xquad):
    """Random vectors are unbiased at every pool size: the raw distance grows with the pool,
    the normalised one stays near 1 on the whole pool and on a sampled pool."""
    rng = np.random.default_rng(0)

    def unit(n: int) -> np.ndarray:
        x = rng.normal(size=(n, 32)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    whole = xquad.sample(100)
    small = xquad.sample(100, whole_pool=False)
    figures = {}
    for name, data in (("whole", whole), ("small", small)):
        result = data.evaluate(unit(len(data.questions)), unit(len(data.candidates)))
        figures[name] = result.summary()["multi"]
        pools = {g.pool_size for g in result.groups if g.setting == "multi"}
        assert pools == {len(data.candidates)}
    assert figures["whole"]["rank_distance"] > 3 * figures["small"]["rank_distance"]
    for name in figures:
        assert figures[name]["rank_distance_norm"] == pytest.approx(1.0, abs=0.05)


def test_the_rank_matrix_reads_each_candidate_language_off_the_pooled_ranking(xquad):
    """Checked against a brute-force ranking (``argsort`` of the full score matrix): the rank
    of each question's answer in language Y within the pool of every language."""
    rng = np.random.default_rng(3)

    def unit(n: int) -> np.ndarray:
        x = rng.normal(size=(n, 24)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    data = xquad.sample(15, whole_pool=False)
    q, c = unit(len(data.questions)), unit(len(data.candidates))
    result = data.evaluate(q, c)
    cells = {(g.query_lang, g.candidate_lang): g for g in result.groups if g.setting == "mul_rank"}
    assert len(cells) == len(data.languages) ** 2
    position = {cand.id: i for i, cand in enumerate(data.candidates)}
    order = np.argsort(-(q @ c.T), axis=1, kind="stable")
    rank_of = np.empty_like(order)
    rank_of[np.arange(len(q))[:, None], order] = np.arange(1, c.shape[0] + 1)
    for (x, y), group in list(cells.items())[:30]:
        rows = [i for i, question in enumerate(data.questions) if question.lang == x]
        expected = [
            min(rank_of[r, position[a]] for a in data.questions[r].relevant if data.candidates[position[a]].lang == y)
            for r in rows
        ]
        np.testing.assert_array_equal(group.per_query["rank"], expected)  # no ties between random vectors
    diagonal = np.mean([cells[(x, x)].mean("rank") for x in data.languages])
    assert group.pool_size == len(data.candidates) and diagonal > 0
