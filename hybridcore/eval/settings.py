"""Scoring a group of queries against a pool, and the LAReQA and BEIR settings.

Questions and candidates are encoded once; every setting is a choice of query rows, a
candidate pool and each query's relevant candidates within that pool:

- ``mono``: language X's questions against X's pool (one group per language);
- ``cross``: X's questions against Y's pool, X != Y (one group per ordered pair);
- ``multi``: X's questions against the pool of all languages, relevant = the answer in every
  language; also gives the rank-distance language bias;
- ``beir``: a BEIR-format dataset's queries against its corpus.

A group keeps per-query values, so runs can later be compared with paired tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from hybridcore.eval import metrics
from hybridcore.eval.results import Evaluation, GroupScores

if TYPE_CHECKING:  # the formats import these functions, not the other way round
    from hybridcore.data.beir import BeirDataset
    from hybridcore.data.lareqa import RetrievalSet

ALL_LANGUAGES = "all"
SETTINGS = ("mono", "cross", "multi")


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
    names one candidate per query (-1: none) left out of its ranking: the query itself, where
    queries and candidates are the same sentences."""
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


@dataclass(frozen=True)
class Group:
    """One setting's query rows, candidate pool and, per query, relevant positions in the pool."""

    setting: str
    query_lang: str
    candidate_lang: str
    rows: np.ndarray
    pool: np.ndarray
    relevant: list[list[int]]
    exclude: np.ndarray | None = None  # per query, a pool position left out of its ranking (itself)


def lareqa_groups(data: RetrievalSet, settings: Sequence[str] = SETTINGS) -> list[Group]:
    """Every group of the LAReQA settings; questions without a relevant candidate in a pool
    (MLQA-R questions lacking that translation) are left out of that group."""
    position = {c.id: i for i, c in enumerate(data.candidates)}
    cand_lang = np.array([c.lang for c in data.candidates])
    q_lang = np.array([q.lang for q in data.questions])
    groups: list[Group] = []
    for x in data.languages:
        q_rows = np.flatnonzero(q_lang == x)
        pools = [("mono" if y == x else "cross", y, np.flatnonzero(cand_lang == y)) for y in data.languages]
        pools.append(("multi", ALL_LANGUAGES, np.arange(len(data.candidates))))
        for setting, y, pool in pools:
            if setting not in settings or len(q_rows) == 0:
                continue
            in_pool = {int(col): i for i, col in enumerate(pool)}
            rows, relevant = [], []
            for r in q_rows:
                cols = (position.get(c) for c in data.questions[r].relevant)
                rel = [in_pool[col] for col in cols if col in in_pool]
                if rel:
                    rows.append(r)
                    relevant.append(rel)
            if rows:
                groups.append(Group(setting, x, y, np.array(rows), pool, relevant))
    return groups


def evaluate_lareqa(
    data: RetrievalSet,
    question_embeddings: np.ndarray,
    candidate_embeddings: np.ndarray,
    names: Sequence[str] = metrics.LAREQA_METRICS,
    settings: Sequence[str] = SETTINGS,
) -> Evaluation:
    """Run the LAReQA settings; embeddings are row-aligned with ``data.questions`` and
    ``data.candidates``."""
    scored: list[GroupScores] = []
    for g in lareqa_groups(data, settings):
        names_here = list(names) + (["rank_distance"] if g.setting == "multi" else [])
        per_query = score_groups(question_embeddings[g.rows], candidate_embeddings[g.pool], g.relevant, names_here)
        ids = tuple(data.questions[r].id for r in g.rows)
        scored.append(GroupScores(g.setting, g.query_lang, g.candidate_lang, ids, per_query))
    return Evaluation(data.name, tuple(scored))


def evaluate_beir(
    data: BeirDataset,
    query_embeddings: np.ndarray,
    corpus_embeddings: np.ndarray,
    names: Sequence[str] = metrics.BEIR_METRICS,
) -> Evaluation:
    """Rank the whole corpus for each judged query; embeddings row-aligned with
    ``data.query_ids`` and ``data.doc_ids``."""
    doc_pos = {d: i for i, d in enumerate(data.doc_ids)}
    rows, relevant, gains = [], [], []
    for r, qid in enumerate(data.query_ids):
        judged = {d: g for d, g in data.qrels.get(qid, {}).items() if g > 0}
        if judged:
            rows.append(r)
            relevant.append([doc_pos[d] for d in judged])
            gains.append(list(judged.values()))
    per_query = score_groups(query_embeddings[rows], corpus_embeddings, relevant, names, gains)
    ids = tuple(data.query_ids[r] for r in rows)
    return Evaluation(data.name, (GroupScores("beir", data.query_lang, data.lang, ids, per_query),))
