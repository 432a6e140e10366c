"""AfriQA's gold passages as a cross-lingual retrieval benchmark for African languages.

Files: ``<lang>/gold_span_passages.afriqa.<lang>.<pivot>.<split>.json``, JSON Lines despite
the name. Each line is a question asked in ``<lang>`` (``question_lang``), its human
translation into the pivot language (``question_translated``: English, French for Fon) and
its gold Wikipedia passage in the pivot language (``context``).

The pool is every distinct passage of the whole dataset (all languages and splits); a
question's relevant candidate is its gold passage. Each question is asked twice, on the same
pool: as asked (X -> pivot) and as translated (pivot -> pivot), so the gap between the two is
what the question's language costs. A question without a gold passage (``context`` null or
empty) or without its text (one NaN in twi's dev split), warts of the real data, cannot be
evaluated: it is left out and counted.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hybridcore.data.dataset import DatasetFormat, Evaluable, GuardTexts, LoadOptions, TextEncoder
from hybridcore.data.formats.metadata import Figure, FormatMetadata, Gap, Setting
from hybridcore.data.jsonl import read_jsonl
from hybridcore.errors import DataError
from hybridcore.eval.groups import Group
from hybridcore.eval.pools import sampled_pool_name
from hybridcore.languages import language_tag, select_languages

FILE_PATTERN = re.compile(r"gold_span_passages\.afriqa\.(?P<lang>[a-z]+)\.(?P<pivot>[a-z]+)\.(?P<split>[a-z]+)\.json")
REQUIRED = ("id", "question_lang", "question_translated", "context")
DEFAULT_SPLIT = "test"
_METRICS = ("ndcg@10", "recall@1", "recall@10", "recall@100", "mrr@10", "map")
METADATA = FormatMetadata(
    name="afriqa",
    description="AfriQA (arXiv 2305.06897) gold passages: questions asked in African languages, and their human "
    "translations, against one pool of pivot-language passages",
    settings=(
        Setting("native", "X→pivot", _METRICS, "the questions as asked in language X against the pool"),
        Setting(
            "translated",
            "pivot→pivot",
            _METRICS,
            "the same questions' human translations into the pivot (English; French for Fon) against the pool",
        ),
    ),
    headlines=(
        Figure("native", "ndcg@10"),
        Figure("translated", "ndcg@10"),
        Figure("native", "map"),
        Figure("translated", "map"),
    ),
    gaps=(
        Gap("gap", "translated", "native", "pivot→pivot minus X→pivot on the same question: what asking in X costs"),
    ),
)


@dataclass(frozen=True)
class AfriqaQuestion:
    """A question as asked in ``lang``, its translation into ``pivot``, and the pool index of
    its gold passage."""

    id: str
    lang: str
    pivot: str
    text: str
    translation: str
    passage: int


@dataclass(frozen=True)
class AfriqaSet(Evaluable):
    """The chosen questions of one split against the pool of all passages."""

    metadata = METADATA

    name: str
    split: str
    questions: tuple[AfriqaQuestion, ...]
    passages: tuple[str, ...]
    left_out: dict[str, int] = field(default_factory=dict, compare=False)  # per language: no passage or no text

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({q.lang for q in self.questions} | {q.pivot for q in self.questions}))

    @property
    def question_languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.lang for q in self.questions))

    def notes(self) -> dict:
        """What was left out of the evaluation, and why."""
        return {"split": self.split, "pool_passages": len(self.passages), "questions_left_out": dict(self.left_out)}

    def sample(self, per_language: int, seed: int = 0, whole_pool: bool = True) -> AfriqaSet:
        """``per_language`` questions of each language, drawn at random, against the whole
        pool; without ``whole_pool``, against a pool of exactly their gold passages."""
        rng = np.random.default_rng(seed)
        chosen: list[AfriqaQuestion] = []
        for lang in self.question_languages:
            mine = [q for q in self.questions if q.lang == lang]
            picked = set(rng.choice(len(mine), size=min(len(mine), per_language), replace=False).tolist())
            chosen += [q for i, q in enumerate(mine) if i in picked]
        if whole_pool:
            return replace(self, questions=tuple(chosen))
        old_rows = sorted({q.passage for q in chosen})
        new_row = {old: new for new, old in enumerate(old_rows)}
        return AfriqaSet(
            sampled_pool_name(self.name),
            self.split,
            tuple(replace(q, passage=new_row[q.passage]) for q in chosen),
            tuple(self.passages[i] for i in old_rows),
            self.left_out,
        )

    # --- RetrievalData ------------------------------------------------------------------

    def encode(
        self, encoder: TextEncoder, candidate_context: bool = True, progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Query rows: every question as asked, then every translation; candidate rows: the pool."""
        texts = [q.text for q in self.questions] + [q.translation for q in self.questions]
        return encoder.encode_queries(texts, progress=progress), encoder.encode_passages(
            list(self.passages), progress=progress
        )

    def groups(self) -> list[Group]:
        """Per question language X, ``native`` and ``translated`` over the whole pool. Both
        carry ``query_lang`` X and ``candidate_lang`` the pivot, and the same query ids in
        the same order, so ``translated - native`` per question is what X costs."""
        pool = np.arange(len(self.passages))
        lang = np.array([q.lang for q in self.questions])
        groups = []
        for x in self.question_languages:
            rows = np.flatnonzero(lang == x)
            relevant = [[self.questions[r].passage] for r in rows]
            ids = tuple(self.questions[r].id for r in rows)
            pivot = self.questions[rows[0]].pivot
            groups.append(Group("native", x, pivot, rows, ids, pool, relevant))
            groups.append(Group("translated", x, pivot, rows + len(self.questions), ids, pool, relevant))
        return groups

    def candidate_ids(self) -> list[str]:
        return [f"p{i}" for i in range(len(self.passages))]

    def guard_texts(self) -> GuardTexts:
        return GuardTexts(
            tuple(q.text for q in self.questions) + tuple(q.translation for q in self.questions), self.passages
        )


@dataclass(frozen=True)
class _Row:
    lang: str
    pivot: str
    split: str
    id: str
    text: str | None
    translation: str | None
    passage: str | None

    @property
    def complete(self) -> bool:
        return self.text is not None and self.translation is not None and self.passage is not None


def _read_file(path: Path, lang: str, pivot: str, split: str) -> list[_Row]:
    rows: list[_Row] = []
    seen: set[str] = set()
    for record, row in read_jsonl(path):
        if not isinstance(row, dict):
            raise DataError(path, record, "expected a JSON object")
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise DataError(path, record, f"missing field(s) {missing}")
        qid = str(row["id"])
        if qid in seen:
            raise DataError(path, f"{record} (id {qid})", "duplicate question id in this file")
        seen.add(qid)
        texts = [
            _text_or_none(path, f"{record} (id {qid})", row, key)
            for key in ("question_lang", "question_translated", "context")
        ]
        rows.append(_Row(lang, pivot, split, qid, *texts))
    if not rows:
        raise DataError(path, "file", "no questions")
    return rows


def _text_or_none(path: Path, record: str, row: dict, key: str) -> str | None:
    """A text field; null, NaN or blank (warts of the real data: 153 null passages, one NaN
    question) is None, anything else that is not a string is an error."""
    value = row[key]
    if value is None or (isinstance(value, float) and value != value):
        return None
    if not isinstance(value, str):
        raise DataError(path, record, f"'{key}' must be a string or null, got {type(value).__name__}")
    return value if value.strip() else None


def _files(folder: Path) -> dict[str, list[tuple[Path, str, str]]]:
    """Language tag -> [(file, pivot tag, split)], checking names against their folder."""
    files: dict[str, list[tuple[Path, str, str]]] = {}
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        lang = language_tag(sub.name, sub, "language folder")
        found = []
        for path in sorted(sub.glob("*.json")):
            match = FILE_PATTERN.fullmatch(path.name)
            if match is None:
                raise DataError(path, "file name", "expected gold_span_passages.afriqa.<lang>.<pivot>.<split>.json")
            if match["lang"] != sub.name:
                raise DataError(path, "file name", f"language {match['lang']!r} but the folder is {sub.name!r}")
            found.append((path, language_tag(match["pivot"], path, "pivot language in file name"), match["split"]))
        if not found:
            raise DataError(sub, "folder", "no gold_span_passages files")
        files[lang] = found
    if not files:
        raise DataError(folder, "folder", "no language folders")
    return files


def load_afriqa(folder: str | Path, options: LoadOptions | None = None) -> AfriqaSet:
    """Read every file (the pool spans them all), then keep the chosen languages' questions
    of one split (default ``test``)."""
    folder = Path(folder)
    options = options or LoadOptions()
    split = options.split or DEFAULT_SPLIT
    files = _files(folder)
    chosen = select_languages(folder, files, options.languages) if options.languages else list(files)
    rows = [
        row
        for lang in files
        for path, pivot, file_split in files[lang]
        for row in _read_file(path, lang, pivot, file_split)
    ]
    passages = tuple(dict.fromkeys(r.passage for r in rows if r.passage is not None))
    index = {text: i for i, text in enumerate(passages)}
    wanted = [r for r in rows if r.split == split and r.lang in chosen]
    absent = [lang for lang in chosen if not any(r.lang == lang for r in wanted)]
    if options.languages and absent:
        raise DataError(folder, "requested languages", f"no {split!r} split for {absent}")
    # ids name the language: questions with the same file id in two languages are different questions
    questions = tuple(
        AfriqaQuestion(f"{r.lang}:{r.split}:{r.id}", r.lang, r.pivot, r.text, r.translation, index[r.passage])
        for r in wanted
        if r.complete
    )
    if not questions:
        raise DataError(folder, f"split {split!r}", "no question with its text, translation and gold passage")
    left_out = Counter(r.lang for r in wanted if not r.complete)
    return AfriqaSet(
        folder.name, split, questions, passages, {lang: left_out.get(lang, 0) for lang in chosen if lang not in absent}
    )


def _is_afriqa(folder: Path) -> bool:
    return any(FILE_PATTERN.fullmatch(p.name) for p in folder.glob("*/*.json"))


FORMAT = DatasetFormat(METADATA, _is_afriqa, load_afriqa)
