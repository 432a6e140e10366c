"""The zero-shot guard: training data must share no query or passage with evaluation sets.

Texts are compared after normalisation (Unicode NFKC, case folding, punctuation dropped,
white space collapsed), so a copy that differs only in case or spacing is still caught.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from hybridcore.data.dataset import RetrievalData
from hybridcore.data.pairs import TrainingExample

_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """The form in which two texts count as the same."""
    return _PUNCT_OR_SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


@dataclass(frozen=True)
class OverlapReport:
    """Overlap of the training data with one evaluation set."""

    eval_set: str
    query_overlap: int
    passage_overlap: int
    query_examples: tuple[str, ...]
    passage_examples: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return self.query_overlap == 0 and self.passage_overlap == 0

    def as_dict(self) -> dict:
        return asdict(self)


class LeakageError(RuntimeError):
    """Training data overlaps an evaluation set: the evaluation would not be zero-shot."""

    def __init__(self, reports: Sequence[OverlapReport]) -> None:
        self.reports = list(reports)
        lines = [
            f"training data overlaps {r.eval_set}: {r.query_overlap} queries, {r.passage_overlap} positives"
            f" (e.g. {list(r.query_examples[:2]) + list(r.passage_examples[:2])})"
            for r in reports
            if not r.clean
        ]
        super().__init__("; ".join(lines) + ". Remove them, or override explicitly (--allow-overlap).")


def overlap(examples: Sequence[TrainingExample], eval_set: RetrievalData, n_examples: int = 5) -> OverlapReport:
    """Count training examples whose query equals an evaluation query, and those whose
    positive equals an evaluation candidate (both normalised; empty texts ignored)."""
    texts = eval_set.guard_texts()
    questions = {normalise(t) for t in texts.queries} - {""}
    sentences = {normalise(t) for t in texts.passages} - {""}
    q_hits = [e.query for e in examples if normalise(e.query) in questions]
    p_hits = [e.positive for e in examples if normalise(e.positive) in sentences]
    return OverlapReport(
        eval_set.name,
        len(q_hits),
        len(p_hits),
        tuple(dict.fromkeys(q_hits))[:n_examples],
        tuple(dict.fromkeys(p_hits))[:n_examples],
    )


def check_zero_shot(
    examples: Sequence[TrainingExample],
    eval_sets: Mapping[str, RetrievalData] | Sequence[RetrievalData],
    allow_overlap: bool = False,
) -> list[OverlapReport]:
    """Reports for every evaluation set; raises LeakageError on any overlap unless allowed."""
    sets = eval_sets.values() if isinstance(eval_sets, Mapping) else eval_sets
    reports = [overlap(examples, s) for s in sets]
    if not allow_overlap and not all(r.clean for r in reports):
        raise LeakageError(reports)
    return reports
