"""LAReQA-format retrieval sets (XQuAD-R, MLQA-R): SQuAD JSON with sentence breaks.

One JSON file per language. Every sentence of every paragraph is a candidate; a question's
answer sentence is the one whose break span ``[start, end)`` holds ``answer_start``; the same
question id in several files marks translations, so a question's relevant set is its answer
sentence in every language that has the question.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hybridcore.data.dataset import DatasetFormat, GuardTexts
from hybridcore.data.languages import language_tag, select_languages
from hybridcore.errors import DataError
from hybridcore.run.paths import resolve_dataset_dir

if TYPE_CHECKING:
    from hybridcore.eval.results import Evaluation
    from hybridcore.model.encoder import Encoder


@dataclass(frozen=True)
class Candidate:
    """A candidate answer sentence; ``context`` is its whole paragraph."""

    id: str
    lang: str
    sentence: str
    context: str


@dataclass(frozen=True)
class Question:
    """A question in one language; ``relevant`` holds its answer candidates in every language."""

    id: str
    lang: str
    text: str
    relevant: tuple[str, ...]

    @property
    def key(self) -> str:
        """Unique within a set: the same ``id`` recurs across languages."""
        return f"{self.lang}:{self.id}"


@dataclass(frozen=True)
class RetrievalSet:
    """A multilingual retrieval set: questions and candidates of every language."""

    name: str
    questions: tuple[Question, ...]
    candidates: tuple[Candidate, ...]
    files: dict[str, Path] = field(default_factory=dict, compare=False)

    @cached_property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({c.lang for c in self.candidates} | {q.lang for q in self.questions}))

    def questions_in(self, lang: str) -> list[Question]:
        return [q for q in self.questions if q.lang == lang]

    def candidates_in(self, lang: str) -> list[Candidate]:
        return [c for c in self.candidates if c.lang == lang]

    def sample(self, per_language: int, seed: int = 0) -> RetrievalSet:
        """``per_language`` parallel question groups (the same id in every language; XQuAD-R:
        that many questions per language), drawn at random, with exactly the candidates
        relevant to them, so each question keeps all its answers and the pool its languages."""
        ids = sorted({q.id for q in self.questions})
        rng = np.random.default_rng(seed)
        kept = set(rng.choice(ids, size=min(len(ids), per_language), replace=False).tolist())
        chosen = tuple(q for q in self.questions if q.id in kept)
        relevant = {r for q in chosen for r in q.relevant}
        return RetrievalSet(self.name, chosen, tuple(c for c in self.candidates if c.id in relevant), self.files)

    # --- RetrievalData ------------------------------------------------------------------
    # The evaluation code is imported when used: loading and checking data needs no torch.

    def encode(self, encoder: Encoder, candidate_context: bool = True, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Question and candidate embeddings, row-aligned with ``questions`` and ``candidates``.
        With ``candidate_context`` each sentence is encoded with its paragraph (LAReQA's way)."""
        questions = encoder.encode_queries([q.text for q in self.questions], progress=progress)
        contexts = [c.context for c in self.candidates] if candidate_context else None
        candidates = encoder.encode_passages([c.sentence for c in self.candidates], contexts, progress=progress)
        return questions, candidates

    def evaluate(self, queries: np.ndarray, candidates: np.ndarray) -> Evaluation:
        """The Mo, Cr and Mul settings."""
        from hybridcore.eval.settings import evaluate_lareqa

        return evaluate_lareqa(self, queries, candidates)

    def write_trec(self, queries: np.ndarray, candidates: np.ndarray, folder: Path, run_name: str) -> list[Path]:
        from hybridcore.eval.trec import write_lareqa_trec

        return write_lareqa_trec(self, queries, candidates, folder, run_name)

    def guard_texts(self) -> GuardTexts:
        return GuardTexts(tuple(q.text for q in self.questions), tuple(c.sentence for c in self.candidates))


def load_lareqa(name_or_path: str | Path, languages: Sequence[str] | None = None) -> RetrievalSet:
    """Load every ``<lang>.json`` of a LAReQA folder (or only ``languages``)."""
    folder = resolve_dataset_dir(name_or_path)
    files = {language_tag(p.stem, p, "file name"): p for p in sorted(folder.glob("*.json"))}
    if languages is not None:
        files = {lang: files[lang] for lang in select_languages(folder, files, languages)}
    if not files:
        raise DataError(folder, "folder", "no <lang>.json files")

    candidates: list[Candidate] = []
    parsed: list[tuple[str, str, str, list[str]]] = []  # (lang, question id, text, answer ids)
    for lang, path in files.items():
        file_candidates, file_questions = _parse_file(path, lang, folder.name)
        candidates.extend(file_candidates)
        parsed.extend(file_questions)

    answers_of: dict[str, list[str]] = defaultdict(list)
    for _, qid, _, answer_ids in parsed:
        answers_of[qid].extend(answer_ids)
    questions = tuple(Question(qid, lang, text, tuple(answers_of[qid])) for lang, qid, text, _ in parsed)
    return RetrievalSet(folder.name, questions, tuple(candidates), dict(files))


def _parse_file(path: Path, lang: str, set_name: str) -> tuple[list[Candidate], list[tuple[str, str, str, list[str]]]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataError(path, f"line {err.lineno} column {err.colno}", f"malformed JSON: {err.msg}") from None
    except UnicodeDecodeError as err:
        raise DataError(path, f"byte {err.start}", "not valid UTF-8") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise DataError(path, "top level", "expected an object with a 'data' list (SQuAD format)")

    candidates: list[Candidate] = []
    questions: list[tuple[str, str, str, list[str]]] = []
    seen_ids: set[str] = set()
    paragraph_no = 0
    for a, article in enumerate(doc["data"]):
        for p, para in enumerate(article.get("paragraphs", [])):
            record = f"data[{a}].paragraphs[{p}]"
            sentences, breaks, context = _paragraph_fields(path, record, para)
            ids = [f"{set_name}:{lang}:{paragraph_no}:{s}" for s in range(len(sentences))]
            candidates.extend(Candidate(cid, lang, sent, context) for cid, sent in zip(ids, sentences))
            for k, qa in enumerate(para.get("qas", [])):
                qrecord = f"{record}.qas[{k}]"
                qid, text = qa.get("id"), qa.get("question")
                if not isinstance(qid, str) or not isinstance(text, str):
                    raise DataError(path, qrecord, "question needs a string 'id' and 'question'")
                if qid in seen_ids:
                    raise DataError(path, f"{qrecord} (id {qid})", "duplicate question id in this file")
                seen_ids.add(qid)
                answer_ids = _answer_sentences(path, f"{qrecord} (id {qid})", qa, breaks, ids)
                questions.append((lang, qid, text, answer_ids))
            paragraph_no += 1
    return candidates, questions


def _paragraph_fields(path: Path, record: str, para: dict) -> tuple[list[str], list[list[int]], str]:
    for key in ("sentences", "sentence_breaks", "context"):
        if key not in para:
            raise DataError(path, record, f"missing '{key}'")
    sentences, breaks, context = para["sentences"], para["sentence_breaks"], para["context"]
    if len(sentences) != len(breaks):
        raise DataError(path, record, f"{len(sentences)} sentences but {len(breaks)} sentence_breaks")
    for s, span in enumerate(breaks):
        if not (isinstance(span, list) and len(span) == 2 and 0 <= span[0] <= span[1] <= len(context)):
            raise DataError(path, f"{record}.sentence_breaks[{s}]", f"bad span {span!r} for a context of {len(context)} characters")
    return sentences, breaks, context


def _answer_sentences(path: Path, record: str, qa: dict, breaks: list[list[int]], ids: list[str]) -> list[str]:
    answers = qa.get("answers") or []
    if not answers:
        raise DataError(path, record, "no answers")
    found: list[str] = []
    for answer in answers:
        start = answer.get("answer_start")
        hits = [i for i, (b, e) in enumerate(breaks) if b <= start < e] if isinstance(start, int) else []
        if not hits:
            raise DataError(path, record, f"answer_start {start!r} lies outside every sentence")
        if ids[hits[0]] not in found:
            found.append(ids[hits[0]])
    return found


def _is_lareqa(folder: Path) -> bool:
    return any(folder.glob("*.json")) and not (folder / "corpus.jsonl").exists()


FORMAT = DatasetFormat("lareqa", _is_lareqa, lambda folder, options: load_lareqa(folder, options.languages))
