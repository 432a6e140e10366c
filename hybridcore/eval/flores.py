"""FLORES-200 (SIB-200) settings: bitext retrieval against English, and the pooled
multilingual setting with its language-bias measure.

- ``bitext``: language X's sentences against English's, and English's against X's; the same
  ``index_id`` is relevant. P@1 is the Tatoeba-style accuracy.
- ``multi``: each language's sentences against the pool of every chosen language's
  sentences, the query itself left out; relevant: the same sentence in every other
  language. mAP, and LAReQA's rank distance (max - min rank of the relevant translations)
  per query language: how much a model prefers some languages to others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hybridcore.eval import metrics
from hybridcore.eval.results import Evaluation, GroupScores
from hybridcore.eval.settings import ALL_LANGUAGES, Group, score_groups

if TYPE_CHECKING:
    from hybridcore.data.flores import FloresSet

FLORES_SETTINGS = ("bitext", "multi")


def flores_groups(data: FloresSet, settings: tuple[str, ...] = FLORES_SETTINGS) -> list[Group]:
    """Bitext pairs with English both ways, then one pooled group per language; pools and
    relevant positions index the encoded sentences (language-major)."""
    from hybridcore.data.flores import PIVOT

    n, count = len(data.index_ids), len(data.languages)
    same_sentence = [[i] for i in range(n)]
    groups: list[Group] = []
    if "bitext" in settings:
        for x in data.languages:
            if x != PIVOT:
                groups.append(Group("bitext", x, PIVOT, data.rows_of(x), data.rows_of(PIVOT), same_sentence))
                groups.append(Group("bitext", PIVOT, x, data.rows_of(PIVOT), data.rows_of(x), same_sentence))
    if "multi" in settings and count > 1:
        pool = np.arange(n * count)
        for li, x in enumerate(data.languages):
            others = [lj for lj in range(count) if lj != li]
            relevant = [[lj * n + i for lj in others] for i in range(n)]
            groups.append(Group("multi", x, ALL_LANGUAGES, data.rows_of(x), pool, relevant, exclude=data.rows_of(x)))
    return groups


def evaluate_flores(data: FloresSet, queries: np.ndarray, candidates: np.ndarray) -> Evaluation:
    """Both settings over every chosen language; embeddings row-aligned with the sentences."""
    scored = []
    for g in flores_groups(data):
        if g.setting == "multi":
            names = (*metrics.POOLED_METRICS, "rank_distance")
            per_query = score_groups(queries[g.rows], candidates[g.pool], g.relevant, names, exclude=g.exclude)
        else:
            per_query = score_groups(queries[g.rows], candidates[g.pool], g.relevant, metrics.BITEXT_METRICS)
        scored.append(GroupScores(g.setting, g.query_lang, g.candidate_lang, data.index_ids, per_query))
    return Evaluation(data.name, tuple(scored), data.notes())
