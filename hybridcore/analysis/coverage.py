"""How well a model knows each language: seen in fine-tuning, in pretraining only, or never.

A figure's group is labelled by its less covered language (a pair is only as well covered
as its weaker side; ``all``, the pooled candidates, is left aside). Pretraining languages
that are unknown (None) give ``unknown`` for languages not seen in fine-tuning. Languages
are compared with ``same_language``, so datasets that spell codes differently agree.
Torch-free: the dashboard uses it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from hybridcore.data.formats.metadata import POOLED
from hybridcore.languages import PIVOT, is_among

FINE_TUNING = "seen in fine-tuning"
PRETRAINING = "pretraining only"
UNKNOWN = "unknown"
NEVER = "never seen"
COVERAGE_ORDER = (FINE_TUNING, PRETRAINING, UNKNOWN, NEVER)
ALL_LANGUAGES = "all languages"  # the row of a table over every group, whatever its coverage


def coverage(lang: str, fine_tuning: Iterable[str], pretraining: Iterable[str] | None) -> str:
    """The coverage label of one language."""
    if is_among(lang, fine_tuning):
        return FINE_TUNING
    if pretraining is None:
        return UNKNOWN
    return PRETRAINING if is_among(lang, pretraining) else NEVER


def group_coverage(
    query_lang: str, candidate_lang: str, fine_tuning: Iterable[str], pretraining: Iterable[str] | None
) -> str:
    """The label of a (query language, candidate language) group: its less covered side."""
    fine_tuning = list(fine_tuning)
    pretraining = None if pretraining is None else list(pretraining)
    labels = [coverage(lang, fine_tuning, pretraining) for lang in (query_lang, candidate_lang) if lang != POOLED]
    return max(labels, key=COVERAGE_ORDER.index)


def group_language(
    query_lang: str, candidate_lang: str, fine_tuning: Iterable[str], pretraining: Iterable[str] | None
) -> str:
    """The language a group is about: its less covered side (``en -> yo`` and ``yo -> en``
    are both about Yoruba); on a tie the side that is not English, the pivot of every
    benchmark here (``en -> de`` is about German), else the query language."""
    fine_tuning = list(fine_tuning)
    pretraining = None if pretraining is None else list(pretraining)
    sides = [lang for lang in (query_lang, candidate_lang) if lang != POOLED]
    return max(
        sides,
        key=lambda lang: (
            COVERAGE_ORDER.index(coverage(lang, fine_tuning, pretraining)),
            lang != PIVOT,
            lang == query_lang,
        ),
    )


def label_figures(figures: pd.DataFrame, fine_tuning: Iterable[str], pretraining: Iterable[str] | None) -> pd.DataFrame:
    """``figures`` (or per-query scores) with ``coverage`` and ``language`` columns: the
    group's label and the language it is about (one model's languages for every row)."""
    fine_tuning = list(fine_tuning)
    pretraining = None if pretraining is None else list(pretraining)
    pairs = figures[["query_lang", "candidate_lang"]].drop_duplicates()
    labels = {
        (q, c): (group_coverage(q, c, fine_tuning, pretraining), group_language(q, c, fine_tuning, pretraining))
        for q, c in pairs.itertuples(index=False)
    }
    keys = list(zip(figures["query_lang"], figures["candidate_lang"]))
    return figures.assign(coverage=[labels[k][0] for k in keys], language=[labels[k][1] for k in keys])


def run_languages(runs: pd.DataFrame) -> tuple[set[str], list[str] | None]:
    """Runs' fine-tuning languages (the union of ``seen_languages``) and the pretraining
    languages recorded for their model (None: unknown), from the store's comma-separated
    columns."""
    fine_tuning = {lang for value in runs["seen_languages"] if value for lang in value.split(",") if lang}
    recorded = runs["pretraining_languages"].dropna()
    return fine_tuning, [lang for lang in recorded.iloc[0].split(",") if lang] if len(recorded) else None
