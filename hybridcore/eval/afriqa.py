"""AfriQA's settings: each language's questions as asked, and as translated, on one pool.

- ``native``: the questions in language X against the pool (X -> pivot);
- ``translated``: the same questions' human translations into the pivot (pivot -> pivot).

Both groups of language X carry ``query_lang`` X (the language the questions were asked
in) and ``candidate_lang`` the pivot, and hold the same query ids in the same order, so
``translated - native`` per question is what the question's language costs, and a paired
test on it says whether a run changed that cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hybridcore.eval import metrics
from hybridcore.eval.results import Evaluation, GroupScores
from hybridcore.eval.settings import Group, score_groups

if TYPE_CHECKING:
    from hybridcore.data.afriqa import AfriqaSet

AFRIQA_SETTINGS = ("native", "translated")


def afriqa_groups(data: AfriqaSet) -> list[Group]:
    """Per question language, its native and translated groups over the whole pool; query
    rows index the encoded queries (natives first, then translations)."""
    pool = np.arange(len(data.passages))
    lang = np.array([q.lang for q in data.questions])
    groups = []
    for x in data.question_languages:
        rows = np.flatnonzero(lang == x)
        relevant = [[data.questions[r].passage] for r in rows]
        pivot = data.questions[rows[0]].pivot
        groups.append(Group("native", x, pivot, rows, pool, relevant))
        groups.append(Group("translated", x, pivot, rows + len(data.questions), pool, relevant))
    return groups


def evaluate_afriqa(data: AfriqaSet, queries: np.ndarray, candidates: np.ndarray,
                    names: tuple[str, ...] = metrics.AFRIQA_METRICS) -> Evaluation:
    """Both settings for every language; ``queries`` row-aligned as ``AfriqaSet.encode`` returns."""
    scored = []
    for g in afriqa_groups(data):
        per_query = score_groups(queries[g.rows], candidates[g.pool], g.relevant, names)
        ids = tuple(data.questions[r % len(data.questions)].id for r in g.rows)
        scored.append(GroupScores(g.setting, g.query_lang, g.candidate_lang, ids, per_query))
    return Evaluation(data.name, tuple(scored), data.notes())
