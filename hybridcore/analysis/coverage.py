"""How well a model knows each language, as documented: the labels every per-language figure
carries.

Labels come from the model's exposure card (``hybridcore.model.exposure``), as a run records
it: *seen in fine-tuning* (our training languages), *supervised retrieval data* (the base
model's supervised stage), *documented pretraining* (a corpus of its MLM or contrastive
pretraining documents the language), *no documented exposure* (no stage documents it; some
corpora's languages are undocumented, so this is not "never seen"), and *unknown* (a model
without a card). The old three groups, from XLM-R's CC-100 list alone (*pretraining only*,
*never seen*), stay computable (``CC100``) for comparison with figures labelled before.

A figure's group is labelled by its less covered language (a pair is only as well covered
as its weaker side; ``all``, the pooled candidates, is left aside). Languages are compared
with ``same_language``, so datasets that spell codes differently agree. Torch-free: the
dashboard uses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from hybridcore.data.formats.metadata import POOLED
from hybridcore.eval.pools import benchmark_name
from hybridcore.languages import PIVOT, is_among

FINE_TUNING = "seen in fine-tuning"
SUPERVISED = "supervised retrieval data"
DOCUMENTED = "documented pretraining"
PRETRAINING = "pretraining only"  # CC-100 scheme
UNKNOWN = "unknown"
UNDOCUMENTED = "no documented exposure"
NEVER = "never seen"  # CC-100 scheme
COVERAGE_ORDER = (FINE_TUNING, SUPERVISED, DOCUMENTED, PRETRAINING, UNKNOWN, UNDOCUMENTED, NEVER)
ALL_LANGUAGES = "all languages"  # the row of a table over every group, whatever its coverage
CARD, CC100 = "exposure card", "CC-100 (old)"
SCHEMES = (CARD, CC100)


@dataclass(frozen=True)
class Flag:
    """An evaluation set the model may have seen (``kind``: possibly seen, same source)."""

    dataset: str
    kind: str
    what: str
    languages: tuple[str, ...] | None
    source: str

    def applies(self, dataset: str, lang: str | None = None) -> bool:
        """Whether it concerns ``dataset`` (a sampled pool of it too) and, given, ``lang``."""
        if benchmark_name(dataset) != self.dataset:
            return False
        return lang is None or self.languages is None or is_among(lang, self.languages)


@dataclass(frozen=True)
class Exposure:
    """What labels are computed from: the languages documented per kind of stage (a card's
    record), or, in the ``CC100`` scheme, XLM-R's pretraining list alone."""

    pretraining: tuple[str, ...]
    supervised: tuple[str, ...] = ()
    flags: tuple[Flag, ...] = ()
    undocumented: tuple[str, ...] = ()
    scheme: str = CARD

    @classmethod
    def from_record(cls, record: dict | str | None) -> Exposure | None:
        """From ``hybridcore.model.exposure.exposure_record`` (or its JSON); None stays unknown."""
        if isinstance(record, str):
            record = json.loads(record)
        if not record:
            return None
        flags = tuple(
            Flag(
                f["dataset"],
                f["kind"],
                f["what"],
                None if f["languages"] is None else tuple(f["languages"]),
                f["source"],
            )
            for f in record.get("evaluation_sets", [])
        )
        return cls(
            tuple(record["pretraining"]), tuple(record["supervised"]), flags, tuple(record.get("undocumented", []))
        )

    @classmethod
    def cc100(cls, languages: Iterable[str] | None) -> Exposure | None:
        """The old scheme: a model's pretraining languages (None: unknown)."""
        return None if languages is None else cls(tuple(languages), scheme=CC100)

    def label(self, lang: str) -> str:
        """The label of a language the model was not fine-tuned on."""
        if self.scheme == CC100:
            return PRETRAINING if is_among(lang, self.pretraining) else NEVER
        if is_among(lang, self.supervised):
            return SUPERVISED
        return DOCUMENTED if is_among(lang, self.pretraining) else UNDOCUMENTED

    def flags_for(self, dataset: str, lang: str | None = None) -> list[Flag]:
        return [flag for flag in self.flags if flag.applies(dataset, lang)]


def exposure_notes(dataset: str, exposure: Exposure | None) -> list[str]:
    """One line per evaluation-set flag of ``dataset``, for captions and reports."""
    if exposure is None:
        return []
    return [
        f"{flag.kind.capitalize()}: {flag.what} "
        f"({'every language' if flag.languages is None else 'languages ' + ', '.join(flag.languages)}; "
        f"source: {flag.source})."
        for flag in exposure.flags_for(dataset)
    ]


def flag_label(dataset: str, lang: str, exposure: Exposure | None) -> str:
    """The flags of one language's figures on ``dataset`` (``possibly seen``, ``same source``; "" for none)."""
    return "" if exposure is None else ", ".join(dict.fromkeys(f.kind for f in exposure.flags_for(dataset, lang)))


def coverage(lang: str, fine_tuning: Iterable[str], exposure: Exposure | None) -> str:
    """The coverage label of one language."""
    if is_among(lang, fine_tuning):
        return FINE_TUNING
    return UNKNOWN if exposure is None else exposure.label(lang)


def group_coverage(query_lang: str, candidate_lang: str, fine_tuning: Iterable[str], exposure: Exposure | None) -> str:
    """The label of a (query language, candidate language) group: its less covered side."""
    fine_tuning = list(fine_tuning)
    labels = [coverage(lang, fine_tuning, exposure) for lang in (query_lang, candidate_lang) if lang != POOLED]
    return max(labels, key=COVERAGE_ORDER.index)


def group_language(query_lang: str, candidate_lang: str, fine_tuning: Iterable[str], exposure: Exposure | None) -> str:
    """The language a group is about: its less covered side (``en -> yo`` and ``yo -> en``
    are both about Yoruba); on a tie the side that is not English, the pivot of every
    benchmark here (``en -> de`` is about German), else the query language."""
    fine_tuning = list(fine_tuning)
    sides = [lang for lang in (query_lang, candidate_lang) if lang != POOLED]
    return max(
        sides,
        key=lambda lang: (
            COVERAGE_ORDER.index(coverage(lang, fine_tuning, exposure)),
            lang != PIVOT,
            lang == query_lang,
        ),
    )


def label_figures(figures: pd.DataFrame, fine_tuning: Iterable[str], exposure: Exposure | None) -> pd.DataFrame:
    """``figures`` (or per-query scores) with ``coverage`` and ``language`` columns: the
    group's label and the language it is about (one model's languages for every row), and
    ``flag``: the evaluation-set exposure of that language on that dataset ("" for none)."""
    fine_tuning = list(fine_tuning)
    pairs = figures[["query_lang", "candidate_lang"]].drop_duplicates()
    labels = {
        (q, c): (group_coverage(q, c, fine_tuning, exposure), group_language(q, c, fine_tuning, exposure))
        for q, c in pairs.itertuples(index=False)
    }
    keys = list(zip(figures["query_lang"], figures["candidate_lang"]))
    languages = [labels[k][1] for k in keys]
    datasets = figures["dataset"] if "dataset" in figures.columns else pd.Series([""] * len(figures))
    flags = {(d, lang): flag_label(str(d), lang, exposure) for d, lang in set(zip(datasets, languages))}
    return figures.assign(
        coverage=[labels[k][0] for k in keys],
        language=languages,
        flag=[flags[(d, lang)] for d, lang in zip(datasets, languages)],
    )


def run_languages(runs: pd.DataFrame, scheme: str = CARD) -> tuple[set[str], Exposure | None]:
    """Runs' fine-tuning languages (the union of ``seen_languages``) and their model's
    exposure (None: unknown), from the store's columns: the recorded card (``CARD``), or the
    recorded pretraining list (``CC100``, the old scheme)."""
    fine_tuning = {lang for value in runs["seen_languages"] if value for lang in value.split(",") if lang}
    if scheme == CC100:
        recorded = runs["pretraining_languages"].dropna()
        listed = [lang for lang in recorded.iloc[0].split(",") if lang] if len(recorded) else None
        return fine_tuning, Exposure.cc100(listed)
    cards = runs["exposure"].dropna() if "exposure" in runs.columns else pd.Series([], dtype=object)
    return fine_tuning, Exposure.from_record(cards.iloc[0]) if len(cards) else None
