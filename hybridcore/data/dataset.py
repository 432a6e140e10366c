"""The one interface every retrieval dataset implements, whatever its format on disk.

A format (LAReQA, BEIR, ...) is a ``DatasetFormat``: how to recognise its folder and how to
load it into a ``RetrievalData``. Everything downstream (encoding, evaluation, TREC files,
the zero-shot guard, the cache keys) goes through these two classes only, so a new format
is its own module plus one line in ``hybridcore.data.registry``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from hybridcore.eval.results import Evaluation
    from hybridcore.model.encoder import Encoder


@dataclass(frozen=True)
class GuardTexts:
    """What training data must not contain for an evaluation to stay zero-shot."""

    queries: tuple[str, ...]
    passages: tuple[str, ...]


class RetrievalData(Protocol):
    """A loaded retrieval dataset: queries, candidates, and how to evaluate rankings of them."""

    name: str

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language of its queries and candidates (BCP-47 tags)."""
        ...

    def encode(self, encoder: Encoder, candidate_context: bool = True, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Query and candidate embeddings, row-aligned with what ``evaluate`` expects."""
        ...

    def evaluate(self, queries: np.ndarray, candidates: np.ndarray) -> Evaluation:
        """Per-query metrics of every evaluation group."""
        ...

    def write_trec(self, queries: np.ndarray, candidates: np.ndarray, folder: Path, run_name: str) -> list[Path]:
        """TREC run and qrels files, for trec_eval, ranx or pyserini."""
        ...

    def guard_texts(self) -> GuardTexts:
        """Texts the zero-shot guard compares training data with."""
        ...


# One fixed draw: every model and seed of an experiment is evaluated on the same sample,
# so their per-query scores stay paired.
SAMPLE_SEED = 0


@dataclass(frozen=True)
class LoadOptions:
    """What a caller may ask of a loader: a subset of languages (codes in any spelling, or a
    subset the format names, such as SIB-200's ``quick``), a language tag for formats that do
    not record one, a split (``None``: the format's default), and ``sample``: about that many
    queries per language, drawn with ``SAMPLE_SEED`` (whole parallel groups, and a pool of
    exactly their relevant candidates), for quick runs; ``None`` keeps everything."""

    languages: tuple[str, ...] | None = None
    lang: str | None = None
    split: str | None = None
    sample: int | None = None

    def __post_init__(self) -> None:
        if self.languages is not None:
            object.__setattr__(self, "languages", tuple(self.languages))


@dataclass(frozen=True)
class DatasetFormat:
    """A format on disk: ``detect`` tells whether a folder holds it, ``load`` reads it (and
    raises a ``DataError`` naming the file and record on bad input)."""

    name: str
    detect: Callable[[Path], bool]
    load: Callable[[Path, LoadOptions], RetrievalData]

