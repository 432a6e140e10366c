"""BEIR-format datasets: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

BEIR has no field for language, so each dataset is tagged with one: given by the caller, or
read from the ``hybrid-eval.json`` that the exporter writes beside the files. The exporter
turns any LAReQA language (or language pair) into a BEIR dataset, so the BEIR path is
exercised on real data and LAReQA sets can be handed to BEIR/MIRACL tooling.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hybridcore.data.dataset import DatasetFormat, GuardTexts
from hybridcore.data.jsonl import read_jsonl
from hybridcore.data.languages import language_tag
from hybridcore.errors import DataError
from hybridcore.files import atomic_folder

if TYPE_CHECKING:
    from hybridcore.data.lareqa import RetrievalSet
    from hybridcore.eval.results import Evaluation
    from hybridcore.model.encoder import Encoder

META_FILE = "hybrid-eval.json"


@dataclass(frozen=True)
class BeirDataset:
    """Queries, corpus and graded judgements of one split, tagged with languages."""

    name: str
    lang: str
    query_lang: str
    doc_ids: tuple[str, ...]
    doc_texts: tuple[str, ...]
    query_ids: tuple[str, ...]
    query_texts: tuple[str, ...]
    qrels: dict[str, dict[str, int]]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({self.lang, self.query_lang}))

    # --- RetrievalData (evaluation code imported when used: loading needs no torch) -----

    def encode(self, encoder: Encoder, candidate_context: bool = True, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Query and corpus embeddings, row-aligned with ``query_ids`` and ``doc_ids``
        (a BEIR document is its title and text; there is no paragraph context)."""
        return (encoder.encode_queries(list(self.query_texts), progress=progress),
                encoder.encode_passages(list(self.doc_texts), progress=progress))

    def evaluate(self, queries: np.ndarray, candidates: np.ndarray) -> Evaluation:
        from hybridcore.eval.settings import evaluate_beir

        return evaluate_beir(self, queries, candidates)

    def write_trec(self, queries: np.ndarray, candidates: np.ndarray, folder: Path, run_name: str) -> list[Path]:
        from hybridcore.eval.trec import write_beir_trec

        return write_beir_trec(self, queries, candidates, folder, run_name)

    def guard_texts(self) -> GuardTexts:
        return GuardTexts(self.query_texts, self.doc_texts)


def _read_rows(path: Path, what: str) -> list[tuple[str, dict]]:
    rows: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for record, row in read_jsonl(path):
        rid = row.get("_id") if isinstance(row, dict) else None
        if not isinstance(rid, str) or not isinstance(row.get("text"), str):
            raise DataError(path, record, "needs a string '_id' and a string 'text'")
        if rid in seen:
            raise DataError(path, f"{record} (_id {rid})", f"duplicate {what} id")
        seen.add(rid)
        rows.append((rid, row))
    return rows


def _read_qrels(path: Path, query_ids: set[str], doc_ids: set[str]) -> dict[str, dict[str, int]]:
    if not path.is_file():
        raise DataError(path, "qrels", "file not found")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            fields = line.rstrip("\n").split("\t")
            if line_no == 1 and fields[0] == "query-id":
                continue  # BEIR's header row
            if not line.strip():
                continue
            record = f"line {line_no}"
            if len(fields) != 3:
                raise DataError(path, record, f"expected 3 tab-separated fields (query-id, corpus-id, score), got {len(fields)}")
            qid, did, score = fields
            if qid not in query_ids:
                raise DataError(path, record, f"unknown query id {qid!r}")
            if did not in doc_ids:
                raise DataError(path, record, f"unknown corpus id {did!r}")
            try:
                qrels.setdefault(qid, {})[did] = int(score)
            except ValueError:
                raise DataError(path, record, f"score {score!r} is not an integer") from None
    if not any(grade > 0 for docs in qrels.values() for grade in docs.values()):
        raise DataError(path, "qrels", "no relevance judgement with a positive score: nothing to evaluate")
    return qrels


def load_beir(folder: str | Path, lang: str | None = None, split: str = "test") -> BeirDataset:
    """Load a BEIR folder; ``lang`` overrides the language recorded beside it."""
    folder = Path(folder)
    meta_path = folder / META_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    lang = lang or meta.get("language")
    if lang is None:
        raise DataError(folder, "language", f"no language given and no {META_FILE} (pass --lang)")
    query_lang = language_tag(meta.get("query_language", lang), meta_path, "query_language")
    lang = language_tag(lang, meta_path if "language" in meta else folder)
    corpus = _read_rows(folder / "corpus.jsonl", "corpus")
    queries = _read_rows(folder / "queries.jsonl", "query")
    qrels = _read_qrels(folder / "qrels" / f"{split}.tsv", {q for q, _ in queries}, {d for d, _ in corpus})
    return BeirDataset(
        name=meta.get("name", folder.name),
        lang=lang,
        query_lang=query_lang,
        doc_ids=tuple(d for d, _ in corpus),
        doc_texts=tuple(_doc_text(row) for _, row in corpus),
        query_ids=tuple(q for q, _ in queries),
        query_texts=tuple(row["text"] for _, row in queries),
        qrels=qrels,
    )


def _doc_text(row: dict) -> str:
    title = row.get("title") or ""
    return f"{title} {row['text']}".strip() if title else row["text"]


def export_beir(data: RetrievalSet, out: str | Path, query_lang: str, candidate_lang: str | None = None, split: str = "test") -> Path:
    """Write ``query_lang``'s questions against ``candidate_lang``'s sentences (default: the
    same language) as a BEIR folder. Written to a temporary folder, then renamed."""
    candidate_lang = candidate_lang or query_lang
    out = Path(out)
    docs = data.candidates_in(candidate_lang)
    doc_ids = {c.id for c in docs}
    questions = [q for q in data.questions_in(query_lang) if doc_ids.intersection(q.relevant)]
    if not docs or not questions:
        raise DataError(out, f"{query_lang}->{candidate_lang}", f"{data.name} has no such questions/candidates")
    with atomic_folder(out) as tmp:
        (tmp / "qrels").mkdir()
        with (tmp / "corpus.jsonl").open("w", encoding="utf-8") as f:
            for c in docs:
                f.write(json.dumps({"_id": c.id, "title": "", "text": c.sentence, "context": c.context}, ensure_ascii=False) + "\n")
        with (tmp / "queries.jsonl").open("w", encoding="utf-8") as f:
            for q in questions:
                f.write(json.dumps({"_id": q.key, "text": q.text}, ensure_ascii=False) + "\n")
        with (tmp / "qrels" / f"{split}.tsv").open("w", encoding="utf-8") as f:
            f.write("query-id\tcorpus-id\tscore\n")
            for q in questions:
                for cid in q.relevant:
                    if cid in doc_ids:
                        f.write(f"{q.key}\t{cid}\t1\n")
        meta = {"name": f"{data.name}-{query_lang}-{candidate_lang}", "language": candidate_lang, "query_language": query_lang}
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
    return out


FORMAT = DatasetFormat("beir", lambda folder: (folder / "corpus.jsonl").is_file(),
                       lambda folder, options: load_beir(folder, options.lang, options.split or "test"))
