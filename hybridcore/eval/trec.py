"""TREC run and qrels files of any format's groups, so trec_eval, ranx or pyserini can check
every evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from hybridcore.eval.groups import Group
from hybridcore.eval.index import top_k
from hybridcore.files import write_text_atomic


def run_lines(
    query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray, indices: np.ndarray, run_name: str
) -> list[str]:
    """``qid Q0 docid rank score run`` lines from a top-k search."""
    lines = []
    for qid, row_scores, row_idx in zip(query_ids, scores, indices):
        for rank, (score, idx) in enumerate(zip(row_scores, row_idx), 1):
            if idx >= 0:
                lines.append(f"{qid} Q0 {doc_ids[idx]} {rank} {score:.6f} {run_name}")
    return lines


def qrels_lines(qrels: Mapping[str, Mapping[str, int]]) -> list[str]:
    return [f"{qid} 0 {did} {grade}" for qid, docs in qrels.items() for did, grade in docs.items()]


def write_trec(
    groups: Sequence[Group],
    queries: np.ndarray,
    candidates: np.ndarray,
    candidate_ids: Sequence[str],
    out_dir: str | Path,
    run_name: str,
    k: int = 100,
) -> list[Path]:
    """One ``<setting>.run`` (top ``k`` per query) and ``<setting>.qrels`` per setting of
    ``groups``. Where a setting has several groups, a query id is
    ``<query lang>-<candidate lang>:<id>`` so they stay apart in one file; a setting of one
    group keeps the dataset's own ids (a BEIR set's qrels then match its run). A query's
    excluded candidate is left out of its ranking."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for setting in dict.fromkeys(g.setting for g in groups):
        mine = [g for g in groups if g.setting == setting]
        runs: list[str] = []
        qrels: dict[str, dict[str, int]] = {}
        for g in mine:
            qids = [f"{g.query_lang}-{g.candidate_lang}:{q}" if len(mine) > 1 else q for q in g.query_ids]
            doc_ids = [candidate_ids[i] for i in g.pool]
            extra = 0 if g.exclude is None else 1
            scores, idx = top_k(queries[g.query_rows], candidates[g.pool], k + extra)
            if g.exclude is not None:
                keep = idx != g.exclude[:, None]
                scores = np.stack([row[m][:k] for row, m in zip(scores, keep)])
                idx = np.stack([row[m][:k] for row, m in zip(idx, keep)])
            runs += run_lines(qids, doc_ids, scores, idx, run_name)
            gains = g.gains or [[1] * len(rel) for rel in g.relevant]
            qrels.update(
                {
                    q: {doc_ids[i]: int(grade) for i, grade in zip(rel, grades)}
                    for q, rel, grades in zip(qids, g.relevant, gains)
                }
            )
        for suffix, lines in (("run", runs), ("qrels", qrels_lines(qrels))):
            path = out / f"{setting}.{suffix}"
            write_text_atomic(path, "\n".join(lines) + "\n")
            written.append(path)
    return written
