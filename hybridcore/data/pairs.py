"""Training examples: (parallel_id, lang, query, positive[, negatives]).

Examples sharing a ``parallel_id`` are translations of each other: the samplers pair a query
in one language with the positive of another, and keep translations out of each other's
batches. Sources: any LAReQA set (question -> its answer sentence), a JSONL file, or a
Hugging Face dataset with the same columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridcore.data.formats.lareqa import RetrievalSet, load_lareqa
from hybridcore.data.jsonl import read_jsonl
from hybridcore.errors import DataError
from hybridcore.files import atomic_file
from hybridcore.languages import language_tag

JSONL_FIELDS = ("parallel_id", "lang", "query", "positive")


@dataclass(frozen=True)
class TrainingExample:
    """One query and its positive passage in one language; ``context`` is the positive's
    paragraph when the passage is encoded LAReQA-style, else None."""

    parallel_id: str
    lang: str
    query: str
    positive: str
    negatives: tuple[str, ...] = ()
    context: str | None = None


def examples_from_lareqa(data: RetrievalSet, candidate_context: bool = False) -> list[TrainingExample]:
    """Each question with its answer sentence in the same language."""
    by_id = {c.id: c for c in data.candidates}
    examples = []
    for q in data.questions:
        answer = next((by_id[r] for r in q.relevant if r in by_id and by_id[r].lang == q.lang), None)
        if answer is not None:
            examples.append(
                TrainingExample(
                    q.id, q.lang, q.text, answer.sentence, (), answer.context if candidate_context else None
                )
            )
    return examples


def _example_from_row(row: object, path: str | Path, record: str) -> TrainingExample:
    if not isinstance(row, dict):
        raise DataError(path, record, "expected a JSON object")
    missing = [f for f in JSONL_FIELDS if not isinstance(row.get(f), str) or not row.get(f)]
    if missing:
        raise DataError(path, record, f"missing or empty string field(s) {missing}")
    negatives = row.get("negatives") or []
    if not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives):
        raise DataError(path, record, "'negatives' must be a list of strings")
    context = row.get("context")
    if context is not None and not isinstance(context, str):
        raise DataError(path, record, "'context' must be a string")
    return TrainingExample(
        row["parallel_id"],
        language_tag(row["lang"], path, record),
        row["query"],
        row["positive"],
        tuple(negatives),
        context,
    )


def load_jsonl(path: str | Path) -> list[TrainingExample]:
    """Read ``{"parallel_id", "lang", "query", "positive", "negatives"?, "context"?}`` lines."""
    examples = [_example_from_row(row, path, record) for record, row in read_jsonl(path)]
    check_unique(examples, path)
    return examples


def load_hf_dataset(name: str, split: str = "train") -> list[TrainingExample]:
    """A Hugging Face dataset with the JSONL columns (needs a hub or a local dataset folder)."""
    from datasets import load_dataset

    rows = load_dataset(name, split=split)
    examples = [_example_from_row(dict(row), name, f"row {i}") for i, row in enumerate(rows)]
    check_unique(examples, name)
    return examples


def check_unique(examples: Sequence[TrainingExample], source: str | Path) -> None:
    """One example per (parallel_id, lang): two would make a translation its own negative."""
    seen: set[tuple[str, str]] = set()
    for i, e in enumerate(examples):
        key = (e.parallel_id, e.lang)
        if key in seen:
            raise DataError(
                source,
                f"example {i} (parallel_id {e.parallel_id}, lang {e.lang})",
                "a second example for the same parallel_id and language",
            )
        seen.add(key)


def load_training_examples(source: str | Path, candidate_context: bool = False) -> list[TrainingExample]:
    """A ``.jsonl`` file, ``hf:<dataset name>``, or a LAReQA set (name or folder)."""
    text = str(source)
    if text.startswith("hf:"):
        return load_hf_dataset(text[3:])
    if text.endswith(".jsonl"):
        return load_jsonl(text)
    return examples_from_lareqa(load_lareqa(text), candidate_context)


def write_jsonl(examples: Iterable[TrainingExample], path: str | Path) -> Path:
    """The inverse of ``load_jsonl``."""
    path = Path(path)
    with atomic_file(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        for e in examples:
            row = {"parallel_id": e.parallel_id, "lang": e.lang, "query": e.query, "positive": e.positive}
            if e.negatives:
                row["negatives"] = list(e.negatives)
            if e.context is not None:
                row["context"] = e.context
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def answer_sets(examples: Sequence[TrainingExample]) -> dict[str, str]:
    """Map each parallel_id to a name for its answer set: the parallel groups linked by a
    shared positive (same language, same text), transitively.

    In SQuAD-style data several questions share one answer sentence. Two such groups in one
    batch make each other's positive a false negative, and split between training and
    validation they put a validation answer into training."""
    parent = {e.parallel_id: e.parallel_id for e in examples}

    def root(g: str) -> str:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    first_owner: dict[tuple[str, str], str] = {}
    for e in examples:
        owner = first_owner.setdefault((e.lang, e.positive), e.parallel_id)
        a, b = root(owner), root(e.parallel_id)
        if a != b:
            parent[max(a, b)] = min(a, b)
    return {g: root(g) for g in parent}


def split_by_group(
    examples: Sequence[TrainingExample], validation_fraction: float, seed: int
) -> tuple[list[TrainingExample], list[TrainingExample]]:
    """Hold out whole answer sets (``answer_sets``) for validation, so neither a translation
    of a validation query nor its answer is trained on."""
    answer_set = answer_sets(examples)
    names = sorted(set(answer_set.values()))
    rng = np.random.default_rng(seed)
    n_val = int(round(len(names) * validation_fraction))
    held = {names[i] for i in rng.permutation(len(names))[:n_val].tolist()}
    train = [e for e in examples if answer_set[e.parallel_id] not in held]
    val = [e for e in examples if answer_set[e.parallel_id] in held]
    return train, val
