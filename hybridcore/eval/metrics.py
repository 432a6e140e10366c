"""Ranking metrics, computed from the ranks of each query's relevant candidates.

Every metric here is a function of two arrays of shape (queries, width):
``ranks`` holds the 1-based rank of each relevant candidate in the query's full ranking
(``inf`` where it was not retrieved, or where the slot is padding), ``gains`` its relevance
grade (0 for padding). Ranks are pessimistic: a candidate tied with others in score is ranked
after all of them, so a tie never flatters a model and average precision equals
``sklearn.metrics.average_precision_score`` over the pooled candidates, ties included. The
top-k metrics take ``ordinal_ranks``, which also orders relevant candidates tied with each
other (``compute`` does this).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch


def pad_relevant(
    relevant: Sequence[Sequence[int]], gains: Sequence[Sequence[float]] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pack ragged per-query relevant indices (and grades, default 1) into padded arrays:
    indices padded with -1, gains with 0."""
    width = max((len(r) for r in relevant), default=0) or 1
    index = np.full((len(relevant), width), -1, dtype=np.int64)
    grade = np.zeros((len(relevant), width), dtype=np.float64)
    for q, rel in enumerate(relevant):
        index[q, : len(rel)] = rel
        grade[q, : len(rel)] = 1.0 if gains is None else gains[q]
    return index, grade


def relevant_ranks(scores: torch.Tensor, relevant: np.ndarray, cells_per_chunk: int = 1 << 22) -> np.ndarray:
    """Pessimistic 1-based rank of each relevant candidate: the number of candidates scoring
    at least as high. ``relevant`` is a padded index array (-1 = padding -> rank inf).
    Memory stays bounded by ``cells_per_chunk`` score cells per pass, whatever the pool."""
    index = torch.as_tensor(relevant)
    valid = index >= 0
    own = scores.gather(1, index.clamp(min=0))
    if index.shape[1] == 1:
        ranks = (scores >= own).sum(1, keepdim=True).double()
    else:
        ranks = torch.empty(index.shape, dtype=torch.float64)
        step = max(1, cells_per_chunk // max(1, scores.shape[1]))
        for start in range(0, scores.shape[0], step):
            rows = slice(start, start + step)
            ranks[rows] = _ranks_above_floor(scores[rows], own[rows], valid[rows])
    ranks[~valid] = float("inf")
    return ranks.numpy()


def _ranks_above_floor(scores: torch.Tensor, own: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Ranks of several relevant candidates per row in one pass over the pool.

    Only candidates scoring at least a row's lowest relevant score can outrank any of its
    relevant candidates; each of those is placed among its row's sorted relevant scores by
    one binary search (rows laid end to end, far apart, so one sorted array serves them all:
    memory grows with the candidates, not candidates x relevant).
    """
    thresholds, order = torch.where(valid, own, torch.inf).sort(dim=1)  # ascending; padding last
    rows, cols = (scores >= thresholds[:, :1]).nonzero(as_tuple=True)
    values = scores[rows, cols].double()  # finite: each is at least a relevant score
    width = thresholds.shape[1]
    reach = float(values.abs().max()) + 1.0 if len(values) else 1.0
    offset = 4.0 * reach * torch.arange(scores.shape[0], dtype=torch.float64)[:, None]
    # every row's scores lie within +-reach of its offset; its padding at +2 reach, below the next row
    laid = torch.where(torch.isfinite(thresholds), thresholds.double(), 2.0 * reach) + offset
    placed = torch.searchsorted(laid.flatten(), values + offset[rows, 0], right=True)
    reached = placed - rows * width  # how many of its row's thresholds each candidate reaches
    histogram = torch.zeros(scores.shape[0] * (width + 1), dtype=torch.int64)
    histogram.index_add_(0, rows * (width + 1) + reached, torch.ones_like(reached))
    # candidates at or above threshold j = those that reached more than j thresholds
    at_least = histogram.view(-1, width + 1).flip(1).cumsum(1).flip(1)[:, 1:]
    return torch.empty_like(at_least, dtype=torch.float64).scatter_(1, order, at_least.double())


def _n_relevant(gains: np.ndarray) -> np.ndarray:
    return (gains > 0).sum(1)


def _found_and_hits(ranks: np.ndarray, gains: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which slots are retrieved relevant items, and for each how many relevant items rank at
    or above it (tied ones counted together)."""
    found = np.isfinite(ranks) & (gains > 0)
    safe = np.where(found, ranks, np.inf)
    return found, (safe[:, None, :] <= safe[:, :, None]).sum(-1)


def ordinal_ranks(ranks: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """Break ties among relevant items: in a block of tied scores the non-relevant candidates
    still come first, then the relevant ones one after another, lowest grade first.

    Pessimistic ranks alone put two relevant candidates tied at the top both at rank 2, an
    order no ranking has; top-k metrics need an order a ranking could have (AP does not: it
    counts tied hits together, as sklearn does)."""
    found, hits = _found_and_hits(ranks, gains)
    order = np.lexsort((gains, np.where(found, ranks, np.inf)))
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(1, order.shape[1] + 1)[None, :].repeat(len(order), 0), axis=1)
    # non-relevant candidates at or above the item, then the item's place among the relevant
    return np.where(found, ranks - hits + position, ranks)


def average_precision(ranks: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """AP over the whole ranking: mean over relevant items of precision at their rank."""
    found, hits = _found_and_hits(ranks, gains)
    precision = np.where(found, hits / np.where(found, ranks, 1.0), 0.0)
    return precision.sum(1) / np.maximum(_n_relevant(gains), 1)


def recall_at(ranks: np.ndarray, gains: np.ndarray, k: int) -> np.ndarray:
    """Share of the relevant items ranked in the top k."""
    return ((ranks <= k) & (gains > 0)).sum(1) / np.maximum(_n_relevant(gains), 1)


def precision_at(ranks: np.ndarray, gains: np.ndarray, k: int) -> np.ndarray:
    """Share of the top k that is relevant (P@1: Tatoeba-style bitext accuracy)."""
    return ((ranks <= k) & (gains > 0)).sum(1) / k


def ndcg_at(ranks: np.ndarray, gains: np.ndarray, k: int) -> np.ndarray:
    """nDCG@k with linear gains (trec_eval's ``ndcg_cut``)."""
    in_top = (ranks <= k) & (gains > 0)
    dcg = np.where(in_top, gains / np.log2(np.where(in_top, ranks, 1.0) + 1.0), 0.0).sum(1)
    ideal = -np.sort(-gains, axis=1)[:, :k]
    idcg = (ideal / np.log2(np.arange(2, ideal.shape[1] + 2))).sum(1)
    return np.where(idcg > 0, dcg / np.where(idcg > 0, idcg, 1.0), 0.0)


def mrr_at(ranks: np.ndarray, gains: np.ndarray, k: int) -> np.ndarray:
    """Reciprocal rank of the first relevant item if it is in the top k, else 0."""
    first = np.where(gains > 0, ranks, np.inf).min(1)
    return np.where(first <= k, 1.0 / first, 0.0)


def rank_distance(ranks: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """LAReQA language bias: max minus min rank over a query's relevant items (one per
    language in the multilingual pool); NaN for queries with fewer than two."""
    found = np.isfinite(ranks) & (gains > 0)
    hi = np.where(found, ranks, -np.inf).max(1)
    lo = np.where(found, ranks, np.inf).min(1)
    return np.where(found.sum(1) >= 2, hi - lo, np.nan)


def rank_distance_norm(ranks: np.ndarray, gains: np.ndarray, pool_size: int) -> np.ndarray:
    """Rank distance on a scale that does not grow with the pool (the project's own, so that
    pools of 2,880 and 13,014 candidates compare): 0 when a query's n relevant candidates sit
    next to each other (distance n - 1), 1 at a random ranking's expected distance, the
    expected range of n of ``pool_size`` positions drawn at random,
    (pool_size + 1)(n - 1) / (n + 1). NaN for queries with fewer than two."""
    n = (np.isfinite(ranks) & (gains > 0)).sum(1).astype(np.float64)
    floor = n - 1
    random = (pool_size + 1) * (n - 1) / np.maximum(n + 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = (rank_distance(ranks, gains) - floor) / (random - floor)
    return np.where((n >= 2) & (random > floor), scaled, np.nan)


_AT_K: dict[str, Callable[[np.ndarray, np.ndarray, int], np.ndarray]] = {
    "recall": recall_at,
    "precision": precision_at,
    "ndcg": ndcg_at,
    "mrr": mrr_at,
}
_PLAIN: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "map": average_precision,
    "rank_distance": rank_distance,
}


def compute(
    names: Sequence[str], ranks: np.ndarray, gains: np.ndarray, pool_size: int | None = None
) -> dict[str, np.ndarray]:
    """Per-query values of each named metric (``map``, ``rank_distance``,
    ``rank_distance_norm``, which needs ``pool_size``, the candidates each query was ranked
    against, ``recall@k``, ``precision@k``, ``ndcg@k``, ``mrr@k``)."""
    out: dict[str, np.ndarray] = {}
    ordinal = ordinal_ranks(ranks, gains) if any("@" in n for n in names) else ranks
    for name in names:
        base, _, k = name.partition("@")
        if name == "rank_distance_norm":
            if pool_size is None:
                raise ValueError("rank_distance_norm needs the pool's size")
            out[name] = rank_distance_norm(ranks, gains, pool_size)
        elif base in _PLAIN and not k:
            out[name] = _PLAIN[base](ranks, gains)
        elif base in _AT_K and k.isdigit():
            out[name] = _AT_K[base](ordinal, gains, int(k))
        else:
            raise ValueError(f"unknown metric {name!r}")
    return out
