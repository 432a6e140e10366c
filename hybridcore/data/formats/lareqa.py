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

import numpy as np

from hybridcore.config.paths import resolve_dataset_dir
from hybridcore.data.dataset import DatasetFormat, Evaluable, GuardTexts, TextEncoder
from hybridcore.data.formats.metadata import POOLED, Figure, FormatMetadata, Paper, Setting
from hybridcore.errors import DataError
from hybridcore.eval.groups import Group
from hybridcore.eval.pools import sampled_pool_name
from hybridcore.languages import language_tag, select_languages

_METRICS = ("map", "recall@1", "recall@10", "ndcg@10", "mrr@10")
_HEADLINES = (
    Figure("mono", "map"),
    Figure("cross", "map"),
    Figure("multi", "map"),
    Figure("multi", "rank_distance"),
    Figure("multi", "rank_distance_norm"),
)
METADATA = FormatMetadata(
    name="lareqa",
    description="LAReQA (arXiv 2004.05484): questions against answer sentences of every language's paragraphs",
    settings=(
        Setting("mono", "Mo", _METRICS, "language X's questions against X's sentences (X-X)"),
        Setting("cross", "Cr", _METRICS, "language X's questions against language Y's sentences, X != Y (X-Y)"),
        Setting(
            "multi",
            "Mul",
            (*_METRICS, "rank_distance", "rank_distance_norm"),
            "X's questions against the sentences of every language; relevant: the answer in each language; "
            "rank distance (max - min rank of a question's answers) measures language bias, and its normalised "
            "form (0: answers adjacent, 1: a random ranking) compares it across pool sizes",
            pooled=True,
        ),
        Setting(
            "mul_rank",
            "Mul rank",
            ("rank",),
            "in the pool of every language, the rank of X's question's answer in language Y: the query x "
            "candidate language matrix of language bias (from Mul's ranking)",
            ranks_of="multi",
        ),
    ),
    headlines=_HEADLINES,
    # arXiv 2408.10536, Tables 1-2: hybrid at least as good as mono and cross on Mo, Cr and Mul
    # mAP, with a lower rank distance, on XQuAD-R and MLQA-R.
    paper=Paper(claims=_HEADLINES[:4], reported_on=("xquad-r", "mlqa-r")),  # the paper has no normalised form
)


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
class RetrievalSet(Evaluable):
    """A multilingual retrieval set: questions and candidates of every language."""

    metadata = METADATA

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

    def sample(self, per_language: int, seed: int = 0, whole_pool: bool = True) -> RetrievalSet:
        """``per_language`` parallel question groups (the same id in every language; XQuAD-R:
        that many questions per language), drawn at random, against every candidate; without
        ``whole_pool``, against exactly the candidates relevant to them (each question keeps
        all its answers, the pool its languages, and loses every same-paragraph distractor)."""
        ids = sorted({q.id for q in self.questions})
        rng = np.random.default_rng(seed)
        kept = set(rng.choice(ids, size=min(len(ids), per_language), replace=False).tolist())
        chosen = tuple(q for q in self.questions if q.id in kept)
        if whole_pool:
            return RetrievalSet(self.name, chosen, self.candidates, self.files)
        relevant = {r for q in chosen for r in q.relevant}
        candidates = tuple(c for c in self.candidates if c.id in relevant)
        return RetrievalSet(sampled_pool_name(self.name), chosen, candidates, self.files)

    # --- RetrievalData ------------------------------------------------------------------

    def encode(
        self, encoder: TextEncoder, candidate_context: bool = True, progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Question and candidate embeddings, row-aligned with ``questions`` and ``candidates``.
        With ``candidate_context`` each sentence is encoded with its paragraph (LAReQA's way)."""
        questions = encoder.encode_queries([q.text for q in self.questions], progress=progress)
        contexts = [c.context for c in self.candidates] if candidate_context else None
        candidates = encoder.encode_passages([c.sentence for c in self.candidates], contexts, progress=progress)
        return questions, candidates

    def groups(self) -> list[Group]:
        """Per question language X: ``mono`` (X's pool), ``cross`` (each other language's pool)
        and ``multi`` (every language's pool). A question without a relevant candidate in a
        pool (an MLQA-R question lacking that translation) is left out of that group."""
        position = {c.id: i for i, c in enumerate(self.candidates)}
        cand_lang = np.array([c.lang for c in self.candidates])
        q_lang = np.array([q.lang for q in self.questions])
        groups: list[Group] = []
        for x in self.languages:
            q_rows = np.flatnonzero(q_lang == x)
            if len(q_rows) == 0:
                continue
            pools = [("mono" if y == x else "cross", y, np.flatnonzero(cand_lang == y)) for y in self.languages]
            pools.append(("multi", POOLED, np.arange(len(self.candidates))))
            for setting, y, pool in pools:
                in_pool = {int(col): i for i, col in enumerate(pool)}
                rows, relevant = [], []
                for r in q_rows:
                    cols = (position.get(c) for c in self.questions[r].relevant)
                    rel = [in_pool[col] for col in cols if col in in_pool]
                    if rel:
                        rows.append(r)
                        relevant.append(rel)
                if rows:
                    ids = tuple(self.questions[r].id for r in rows)
                    langs = cand_lang if setting == "multi" else None
                    groups.append(Group(setting, x, y, np.array(rows), ids, pool, relevant, pool_langs=langs))
        return groups

    def candidate_ids(self) -> list[str]:
        return [c.id for c in self.candidates]

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
            raise DataError(
                path, f"{record}.sentence_breaks[{s}]", f"bad span {span!r} for a context of {len(context)} characters"
            )
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


FORMAT = DatasetFormat(METADATA, _is_lareqa, lambda folder, options: load_lareqa(folder, options.languages))
