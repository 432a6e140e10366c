"""Helpers shared by the tests."""

from __future__ import annotations

import itertools
import shutil
import socket
from dataclasses import replace
from pathlib import Path

import numpy as np

from hybridcore.data.formats.lareqa import RetrievalSet
from hybridcore.eval.results import Evaluation


def subset(data: RetrievalSet, paragraphs: int) -> RetrievalSet:
    """The first ``paragraphs`` paragraphs of every language, and the questions on them."""
    keep = [c for c in data.candidates if int(c.id.split(":")[2]) < paragraphs]
    kept = {c.id for c in keep}
    questions = []
    for q in data.questions:
        relevant = tuple(r for r in q.relevant if r in kept)
        if relevant and any(r.split(":")[1] == q.lang for r in relevant):
            questions.append(replace(q, relevant=relevant))
    return RetrievalSet(data.name, tuple(questions), tuple(keep))


def fake_evaluation(data: RetrievalSet, seed: int) -> Evaluation:
    """An evaluation of random unit vectors: real structure, chance-level figures."""
    rng = np.random.default_rng(seed)
    q = rng.normal(size=(len(data.questions), 8)).astype(np.float32)
    c = rng.normal(size=(len(data.candidates), 8)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    return data.evaluate(q, c)


def positives_by_group(examples) -> dict[str, set[tuple[str, str]]]:
    """Each parallel group's positives, as (language, text)."""
    out: dict[str, set[tuple[str, str]]] = {}
    for e in examples:
        out.setdefault(e.parallel_id, set()).add((e.lang, e.positive))
    return out


def assert_no_shared_answer(batch, examples, positives) -> None:
    """No two groups of the batch have a positive in common (checked directly, not through
    ``pairs.answer_sets``)."""
    groups = [positives[examples[q].parallel_id] for q, _ in batch.pairs]
    for a, b in itertools.combinations(groups, 2):
        assert not a & b, "two groups with the same answer passage in one batch: a false negative"


# A full XQuAD-R evaluation: 11 Mo + 110 Cr groups with 5 metrics each, 11 Mul groups with
# rank distance and its normalised form as a sixth and seventh, and the 11 x 11 rank matrix.
XQUAD_FIGURES_PER_RUN = 11 * 5 + 110 * 5 + 11 * 7 + 11 * 11
# AfriQA: 9 languages x (X->pivot, pivot->pivot) x 6 metrics.
AFRIQA_FIGURES_PER_RUN = 9 * 2 * 6
# SIB-200's quick subset (15 languages, English among them): 14 x 2 bitext groups x 3 metrics,
# 15 pooled groups x (mAP, rank distance, normalised), and the rank matrix without its
# diagonal (a sentence's own language holds no answer: the query itself is left out).
SIB_QUICK_FIGURES_PER_RUN = 14 * 2 * 3 + 15 * 3 + 15 * 14
# What the quick profile stores per run: XQuAD-R, AfriQA and SIB-200's quick subset.
QUICK_FIGURES_PER_RUN = XQUAD_FIGURES_PER_RUN + AFRIQA_FIGURES_PER_RUN + SIB_QUICK_FIGURES_PER_RUN


def free_port() -> int:
    """A TCP port free on loopback now, for a server a test starts."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_checkpoint(model: Path, folder: Path, noise: float = 0.0, broken: bool = False, seed: int = 0) -> Path:
    """A copy of ``model`` as a training job's checkpoint folder: its weights moved by
    ``noise`` (so it is a model of its own), or ``broken`` (every word embedding replaced by
    their mean: the model can no longer tell texts apart, a regression made on purpose)."""
    import torch
    from safetensors.torch import load_file, save_file

    shutil.copytree(model, folder)
    weights = load_file(str(folder / "model.safetensors"))
    generator = torch.Generator().manual_seed(seed)
    for name, tensor in weights.items():
        if noise:
            weights[name] = tensor + noise * torch.randn(tensor.shape, generator=generator)
        if broken and name.endswith("word_embeddings.weight"):
            weights[name] = tensor.mean(0, keepdim=True).expand_as(tensor).contiguous()
    save_file(weights, str(folder / "model.safetensors"))
    return folder
