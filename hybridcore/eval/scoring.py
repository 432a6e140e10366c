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


def score_groups(
    queries: np.ndarray,
    candidates: np.ndarray,
    relevant: Sequence[Sequence[int]],
    names: Sequence[str],
    gains: Sequence[Sequence[float]] | None = None,
    exclude: np.ndarray | None = None,
    rows_per_chunk: int = 256,
) -> dict[str, np.ndarray]:
    """Per-query metrics of ``queries`` ranked against all ``candidates`` by cosine
    (both L2-normalised); ``relevant`` indexes each query's relevant candidates. ``exclude``
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
    return metrics.compute(names, ranks, grade)


def evaluate(
    dataset: str,
    groups: Sequence[Group],
    queries: np.ndarray,
    candidates: np.ndarray,
    metrics_of: Mapping[str, Sequence[str]],
    notes: dict | None = None,
) -> Evaluation:
    """Every group scored with its setting's metrics (``metrics_of``: setting -> metric names)."""
    scored = []
    for g in groups:
        per_query = score_groups(
            queries[g.query_rows], candidates[g.pool], g.relevant, metrics_of[g.setting], g.gains, g.exclude
        )
        scored.append(GroupScores(g.setting, g.query_lang, g.candidate_lang, g.query_ids, per_query))
    return Evaluation(dataset, tuple(scored), dict(notes or {}))
