"""Exact top-k retrieval with FAISS (inner product on L2-normalised vectors = cosine)."""

from __future__ import annotations

import faiss
import numpy as np


def top_k(queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores and candidate indices of each query's k best candidates, best first."""
    if len(candidates) == 0:
        raise ValueError(f"no candidates to search for {len(queries)} queries")
    index = faiss.IndexFlatIP(candidates.shape[1])
    index.add(np.ascontiguousarray(candidates, dtype=np.float32))
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, len(candidates)))
