"""Encode whole retrieval sets: questions with the query prefix, candidates as passages."""

from __future__ import annotations

import numpy as np

from hybridcore.beir import BeirDataset
from hybridcore.encoder import Encoder
from hybridcore.lareqa import RetrievalSet


def encode_lareqa(encoder: Encoder, data: RetrievalSet, with_context: bool = True, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Question and candidate embeddings, row-aligned with ``data``. With ``with_context``
    each candidate sentence is encoded together with its paragraph (LAReQA's way)."""
    questions = encoder.encode_queries([q.text for q in data.questions], progress=progress)
    contexts = [c.context for c in data.candidates] if with_context else None
    candidates = encoder.encode_passages([c.sentence for c in data.candidates], contexts, progress=progress)
    return questions, candidates


def encode_beir(encoder: Encoder, data: BeirDataset, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Query and corpus embeddings, row-aligned with ``data``."""
    return (
        encoder.encode_queries(list(data.query_texts), progress=progress),
        encoder.encode_passages(list(data.doc_texts), progress=progress),
    )
