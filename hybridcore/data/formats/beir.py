"""BEIR-format datasets: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

BEIR has no field for language, so each dataset is tagged with one: given by the caller, or
read from the ``hybrid-eval.json`` that the exporter writes beside the files. The exporter
turns any LAReQA language (or language pair) into a BEIR dataset, so the BEIR path is
exercised on real data and LAReQA sets can be handed to BEIR/MIRACL tooling.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hybridcore.data.dataset import DatasetFormat, Evaluable, GuardTexts, TextEncoder
from hybridcore.data.formats.metadata import Figure, FormatMetadata, Setting
from hybridcore.data.jsonl import read_jsonl
from hybridcore.errors import DataError
from hybridcore.eval.groups import Group
from hybridcore.files import atomic_folder
from hybridcore.languages import language_tag

if TYPE_CHECKING:
    from hybridcore.data.formats.lareqa import RetrievalSet

META_FILE = "hybrid-eval.json"
METADATA = FormatMetadata(
    name="beir",
    description="BEIR (arXiv 2104.08663): judged queries against one corpus, graded relevance",
    settings=(
        Setting(
            "beir",
            "BEIR",
            ("ndcg@10", "recall@100", "mrr@10", "map"),
            "every judged query against the whole corpus, as BEIR and MIRACL report",
        ),
    ),
    headlines=(Figure("beir", "ndcg@10"),),
    trec_depth=1000,
)


@dataclass(frozen=True)
class BeirDataset(Evaluable):
    """Queries, corpus and graded judgements of one split, tagged with languages."""

    name: str
    lang: str
    query_lang: str
    doc_ids: tuple[str, ...]
    doc_texts: tuple[str, ...]
    query_ids: tuple[str, ...]
    query_texts: tuple[str, ...]
    qrels: dict[str, dict[str, int]]
    revision: str | None = None  # the hub commit it was read at (``hf:`` sets only)

    metadata = METADATA

    def notes(self) -> dict:
        return {"hub_revision": self.revision} if self.revision else {}

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({self.lang, self.query_lang}))

    # --- RetrievalData ------------------------------------------------------------------

    def encode(
        self, encoder: TextEncoder, candidate_context: bool = True, progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Query and corpus embeddings, row-aligned with ``query_ids`` and ``doc_ids``
        (a BEIR document is its title and text; there is no paragraph context)."""
        return (
            encoder.encode_queries(list(self.query_texts), progress=progress),
            encoder.encode_passages(list(self.doc_texts), progress=progress),
        )

    def groups(self) -> list[Group]:
        """One group: every query with a positive judgement against the whole corpus."""
        doc_pos = {d: i for i, d in enumerate(self.doc_ids)}
        rows, relevant, gains = [], [], []
        for r, qid in enumerate(self.query_ids):
            judged = {d: g for d, g in self.qrels.get(qid, {}).items() if g > 0}
            if judged:
                rows.append(r)
                relevant.append([doc_pos[d] for d in judged])
                gains.append(list(judged.values()))
        return [
            Group(
                "beir",
                self.query_lang,
                self.lang,
                np.array(rows, dtype=np.int64),
                tuple(self.query_ids[r] for r in rows),
                np.arange(len(self.doc_ids)),
                relevant,
                gains,
            )
        ]

    def candidate_ids(self) -> list[str]:
        return list(self.doc_ids)

    def guard_texts(self) -> GuardTexts:
        return GuardTexts(self.query_texts, self.doc_texts)


def check_rows(where: str | Path, rows: Iterable[tuple[str, object]], what: str) -> list[tuple[str, dict]]:
    """(id, row) of (record, row) pairs: each needs a string id (``_id``, or ``id`` as mteb
    names it) and a string ``text``; ids are unique."""
    out: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for record, row in rows:
        rid = row.get("_id", row.get("id")) if isinstance(row, dict) else None
        if not isinstance(rid, str) or not isinstance(row.get("text"), str):
            raise DataError(where, record, "needs a string '_id' and a string 'text'")
        if rid in seen:
            raise DataError(where, f"{record} (_id {rid})", f"duplicate {what} id")
        seen.add(rid)
        out.append((rid, row))
    return out


def check_qrels(
    where: str | Path, judgements: Iterable[tuple[str, str, str, object]], query_ids: set[str], doc_ids: set[str]
) -> dict[str, dict[str, int]]:
    """qrels from (record, query id, corpus id, score): ids must exist, scores be integers,
    and at least one judgement be positive (else there is nothing to evaluate)."""
    qrels: dict[str, dict[str, int]] = {}
    for record, qid, did, score in judgements:
        if qid not in query_ids:
            raise DataError(where, record, f"unknown query id {qid!r}")
        if did not in doc_ids:
            raise DataError(where, record, f"unknown corpus id {did!r}")
        try:
            qrels.setdefault(qid, {})[did] = int(score)
        except (TypeError, ValueError):
            raise DataError(where, record, f"score {score!r} is not an integer") from None
    if not any(grade > 0 for docs in qrels.values() for grade in docs.values()):
        raise DataError(where, "qrels", "no relevance judgement with a positive score: nothing to evaluate")
    return qrels


def _qrels_lines(path: Path) -> Iterator[tuple[str, str, str, str]]:
    if not path.is_file():
        raise DataError(path, "qrels", "file not found")
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            fields = line.rstrip("\n").split("\t")
            if (line_no == 1 and fields[0] == "query-id") or not line.strip():
                continue  # BEIR's header row, blank lines
            if len(fields) != 3:
                raise DataError(
                    path,
                    f"line {line_no}",
                    f"expected 3 tab-separated fields (query-id, corpus-id, score), got {len(fields)}",
                )
            yield f"line {line_no}", *fields


def beir_dataset(
    name: str,
    lang: str,
    query_lang: str,
    corpus: list[tuple[str, dict]],
    queries: list[tuple[str, dict]],
    qrels: dict[str, dict[str, int]],
) -> BeirDataset:
    return BeirDataset(
        name=name,
        lang=lang,
        query_lang=query_lang,
        doc_ids=tuple(d for d, _ in corpus),
        doc_texts=tuple(_doc_text(row) for _, row in corpus),
        query_ids=tuple(q for q, _ in queries),
        query_texts=tuple(row["text"] for _, row in queries),
        qrels=qrels,
    )


def load_beir(folder: str | Path, lang: str | None = None, split: str = "test") -> BeirDataset:
    """Load a BEIR folder; ``lang`` overrides the language recorded beside it."""
    folder = Path(folder)
    meta_path = folder / META_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    lang = lang or meta.get("language")
    if lang is None:
        raise DataError(folder, "language", f"no language given and no {META_FILE} (pass --lang)")
    lang = language_tag(lang, meta_path if "language" in meta else folder)
    query_lang = language_tag(meta["query_language"], meta_path, "query_language") if "query_language" in meta else lang
    corpus = check_rows(folder / "corpus.jsonl", read_jsonl(folder / "corpus.jsonl"), "corpus")
    queries = check_rows(folder / "queries.jsonl", read_jsonl(folder / "queries.jsonl"), "query")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    qrels = check_qrels(qrels_path, _qrels_lines(qrels_path), {q for q, _ in queries}, {d for d, _ in corpus})
    return beir_dataset(meta.get("name", folder.name), lang, query_lang, corpus, queries, qrels)


def _doc_text(row: dict) -> str:
    title = row.get("title") or ""
    return f"{title} {row['text']}".strip() if title else row["text"]


def export_beir(
    data: RetrievalSet, out: str | Path, query_lang: str, candidate_lang: str | None = None, split: str = "test"
) -> Path:
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
                f.write(
                    json.dumps({"_id": c.id, "title": "", "text": c.sentence, "context": c.context}, ensure_ascii=False)
                    + "\n"
                )
        with (tmp / "queries.jsonl").open("w", encoding="utf-8") as f:
            for q in questions:
                f.write(json.dumps({"_id": q.key, "text": q.text}, ensure_ascii=False) + "\n")
        with (tmp / "qrels" / f"{split}.tsv").open("w", encoding="utf-8") as f:
            f.write("query-id\tcorpus-id\tscore\n")
            for q in questions:
                for cid in q.relevant:
                    if cid in doc_ids:
                        f.write(f"{q.key}\t{cid}\t1\n")
        meta = {
            "name": f"{data.name}-{query_lang}-{candidate_lang}",
            "language": candidate_lang,
            "query_language": query_lang,
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
    return out


FORMAT = DatasetFormat(
    METADATA,
    lambda folder: (folder / "corpus.jsonl").is_file(),
    lambda folder, options: load_beir(folder, options.lang, options.split or "test"),
)
