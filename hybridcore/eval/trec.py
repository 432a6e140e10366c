"""TREC run and qrels files, so trec_eval, ranx or pyserini can check any evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hybridcore.eval.index import top_k
from hybridcore.eval.settings import SETTINGS, Group, lareqa_groups
from hybridcore.files import write_text_atomic

if TYPE_CHECKING:
    from hybridcore.data.beir import BeirDataset
    from hybridcore.data.lareqa import RetrievalSet


def run_lines(query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray, indices: np.ndarray, run_name: str) -> list[str]:
    """``qid Q0 docid rank score run`` lines from a top-k search."""
    lines = []
    for qid, row_scores, row_idx in zip(query_ids, scores, indices):
        for rank, (score, idx) in enumerate(zip(row_scores, row_idx), 1):
            if idx >= 0:
                lines.append(f"{qid} Q0 {doc_ids[idx]} {rank} {score:.6f} {run_name}")
    return lines


def qrels_lines(qrels: Mapping[str, Mapping[str, int]]) -> list[str]:
    return [f"{qid} 0 {did} {grade}" for qid, docs in qrels.items() for did, grade in docs.items()]


def _write(path: Path, lines: list[str]) -> None:
    write_text_atomic(path, "\n".join(lines) + "\n")


def write_groups_trec(groups: Sequence[Group], queries: np.ndarray, candidates: np.ndarray, candidate_ids: Sequence[str],
                      out_dir: str | Path, run_name: str, query_ids: Sequence[str] | None = None, k: int = 100) -> list[Path]:
    """One ``<setting>.run`` (top k per query) and ``<setting>.qrels`` per setting of ``groups``.
    Query ids are ``<query lang>-<candidate lang>:<id>`` (id: ``query_ids[row]``, else the
    row) so every group stays apart in one file; a query's excluded candidate is left out."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for setting in dict.fromkeys(g.setting for g in groups):
        runs: list[str] = []
        qrels: dict[str, dict[str, int]] = {}
        for g in (g for g in groups if g.setting == setting):
            qids = [f"{g.query_lang}-{g.candidate_lang}:{query_ids[r] if query_ids is not None else r}" for r in g.rows]
            doc_ids = [candidate_ids[i] for i in g.pool]
            extra = 0 if g.exclude is None else 1
            scores, idx = top_k(queries[g.rows], candidates[g.pool], k + extra)
            if g.exclude is not None:
                keep = idx != g.exclude[:, None]
                scores = np.stack([row[m][:k] for row, m in zip(scores, keep)])
                idx = np.stack([row[m][:k] for row, m in zip(idx, keep)])
            runs += run_lines(qids, doc_ids, scores, idx, run_name)
            qrels.update({q: {doc_ids[i]: 1 for i in rel} for q, rel in zip(qids, g.relevant)})
        for suffix, lines in (("run", runs), ("qrels", qrels_lines(qrels))):
            path = out / f"{setting}.{suffix}"
            _write(path, lines)
            written.append(path)
    return written


def write_lareqa_trec(data: RetrievalSet, question_embeddings: np.ndarray, candidate_embeddings: np.ndarray,
                      out_dir: str | Path, run_name: str, k: int = 100, settings: Sequence[str] = SETTINGS) -> list[Path]:
    """The LAReQA settings' run and qrels files (query ids carry the question id)."""
    return write_groups_trec(lareqa_groups(data, settings), question_embeddings, candidate_embeddings,
                             [c.id for c in data.candidates], out_dir, run_name, [q.id for q in data.questions], k)


def write_beir_trec(data: BeirDataset, query_embeddings: np.ndarray, corpus_embeddings: np.ndarray,
                    out_dir: str | Path, run_name: str, k: int = 1000) -> list[Path]:
    """``beir.run`` (top k per query) and ``beir.qrels`` for a BEIR-format dataset."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scores, idx = top_k(query_embeddings, corpus_embeddings, k)
    run, qrels = out / "beir.run", out / "beir.qrels"
    _write(run, run_lines(data.query_ids, data.doc_ids, scores, idx, run_name))
    _write(qrels, qrels_lines(data.qrels))
    return [run, qrels]
