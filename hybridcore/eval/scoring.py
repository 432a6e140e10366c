"""Scoring groups: every query ranked against its group's whole pool, metrics per query.

The one metric loop of the product: every format's groups (``hybridcore.eval.groups``) go
through ``evaluate``, with the metrics their format declares for each setting. A group keeps
per-query values, so runs can later be compared with paired tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from hybridcore.eval import metrics
from hybridcore.eval.groups import Group
from hybridcore.eval.results import Evaluation, GroupScores

RANK = "rank"  # the metric of a rank-matrix setting: a query's best answer's rank in one candidate language


def relevant_ranks(
    queries: np.ndarray,
    candidates: np.ndarray,
    relevant: Sequence[Sequence[int]],
    gains: Sequence[Sequence[float]] | None = None,
    exclude: np.ndarray | None = None,
    rows_per_chunk: int = 256,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``queries`` ranked against all ``candidates`` by cosine (both L2-normalised): the
    padded relevant indices, their grades and their 1-based pessimistic ranks. ``exclude``
    names one candidate per query (-1: none) left out of its ranking."""
    index, grade = metrics.pad_relevant(relevant, gains)
    cand = torch.from_numpy(np.ascontiguousarray(candidates, dtype=np.float32))
    query = torch.from_numpy(np.ascontiguousarray(queries, dtype=np.float32))
    ranks = np.empty(index.shape, dtype=np.float64)
    for start in range(0, len(query), rows_per_chunk):
        rows = slice(start, start + rows_per_chunk)
        scores = query[rows] @ cand.T
        if exclude is not None:
            own = torch.as_tensor(exclude[rows])
            hit = (own >= 0).nonzero(as_tuple=True)[0]
            scores[hit, own[hit]] = -torch.inf
        ranks[rows] = metrics.relevant_ranks(scores, index[rows])
    return index, grade, ranks


def rank_by_language(group: Group, index: np.ndarray, ranks: np.ndarray, setting: str) -> list[GroupScores]:
    """Per candidate language Y of a pooled group: each query's best-ranked relevant candidate
    in Y, its rank in the pooled ranking (``RANK``), for the query languages x candidate
    languages matrix of language bias. Queries without a relevant candidate in Y are left out."""
    if group.pool_langs is None:
        return []
    valid = index >= 0
    langs = np.where(valid, np.asarray(group.pool_langs)[np.where(valid, index, 0)], "")
    out = []
    for lang in dict.fromkeys(group.pool_langs):
        best = np.where(valid & (langs == lang) & np.isfinite(ranks), ranks, np.inf).min(axis=1)
        keep = np.flatnonzero(np.isfinite(best))
        if len(keep):
            ids = tuple(group.query_ids[i] for i in keep)
            out.append(GroupScores(setting, group.query_lang, str(lang), ids, {RANK: best[keep]}, group.ranked_pool))
    return out


def evaluate(
    dataset: str,
    groups: Sequence[Group],
    queries: np.ndarray,
    candidates: np.ndarray,
    metrics_of: Mapping[str, Sequence[str]],
    notes: dict | None = None,
    rank_matrices: Mapping[str, str] | None = None,
) -> Evaluation:
    """Every group scored with its setting's metrics (``metrics_of``: setting -> metric
    names); a pooled group whose setting ``rank_matrices`` maps to a matrix setting also gives
    that setting's per-candidate-language ranks (``rank_by_language``), from the same ranking."""
    scored = []
    for g in groups:
        index, grade, ranks = relevant_ranks(queries[g.query_rows], candidates[g.pool], g.relevant, g.gains, g.exclude)
        per_query = metrics.compute(metrics_of[g.setting], ranks, grade, g.ranked_pool)
        scored.append(GroupScores(g.setting, g.query_lang, g.candidate_lang, g.query_ids, per_query, g.ranked_pool))
        if rank_matrices and g.setting in rank_matrices:
            scored += rank_by_language(g, index, ranks, rank_matrices[g.setting])
    return Evaluation(dataset, tuple(scored), dict(notes or {}))
