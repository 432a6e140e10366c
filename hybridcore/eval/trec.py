"""TREC run and qrels files, so trec_eval, ranx or pyserini can check any evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hybridcore.eval.index import top_k
from hybridcore.eval.settings import SETTINGS, lareqa_groups
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


def write_lareqa_trec(data: RetrievalSet, question_embeddings: np.ndarray, candidate_embeddings: np.ndarray,
                      out_dir: str | Path, run_name: str, k: int = 100, settings: Sequence[str] = SETTINGS) -> list[Path]:
    """One ``<setting>.run`` and ``<setting>.qrels`` per setting. Query ids are
    ``<query lang>-<candidate lang>:<question id>`` so every group stays apart in one file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for setting in settings:
        runs: list[str] = []
        qrels: dict[str, dict[str, int]] = {}
        for g in lareqa_groups(data, [setting]):
            qids = [f"{g.query_lang}-{g.candidate_lang}:{data.questions[r].id}" for r in g.rows]
            doc_ids = [data.candidates[i].id for i in g.pool]
            scores, idx = top_k(question_embeddings[g.rows], candidate_embeddings[g.pool], k)
            runs += run_lines(qids, doc_ids, scores, idx, run_name)
            qrels.update({q: {doc_ids[i]: 1 for i in rel} for q, rel in zip(qids, g.relevant)})
        for suffix, lines in (("run", runs), ("qrels", qrels_lines(qrels))):
            path = out / f"{setting}.{suffix}"
            _write(path, lines)
            written.append(path)
    return written


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
