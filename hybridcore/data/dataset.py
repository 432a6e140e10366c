"""The one interface every retrieval dataset implements, whatever its format on disk.

A format (LAReQA, BEIR, AfriQA, ...) is a module of ``hybridcore.data.formats`` (or of any
installed package) with a ``DatasetFormat``: its metadata (``FormatMetadata``), how to
recognise its folder and how to load it. A loaded dataset says how to encode it and which
evaluation groups it has; scoring, TREC files, the zero-shot guard and the cache keys are
the same for every format (``Evaluable``). A format registers through the
``hybrid_eval.formats`` entry point group (``hybridcore.data.formats.registry``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

import numpy as np

from hybridcore.data.formats.metadata import FormatMetadata
from hybridcore.eval.groups import Group

if TYPE_CHECKING:
    from hybridcore.eval.results import Evaluation


class TextEncoder(Protocol):
    """What a dataset needs of a model to encode itself (``hybridcore.model.encoder.Encoder``)."""

    def encode_queries(self, texts: Sequence[str], progress: bool = False) -> np.ndarray: ...

    def encode_passages(
        self, texts: Sequence[str], contexts: Sequence[str] | None = None, progress: bool = False
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class GuardTexts:
    """What training data must not contain for an evaluation to stay zero-shot."""

    queries: tuple[str, ...]
    passages: tuple[str, ...]


class RetrievalData(Protocol):
    """A loaded retrieval dataset: queries, candidates, and its evaluation groups."""

    name: str
    metadata: ClassVar[FormatMetadata]

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language of its queries and candidates (BCP-47 tags)."""
        ...

    def encode(
        self, encoder: TextEncoder, candidate_context: bool = True, progress: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Query and candidate embeddings, row-aligned with what ``groups`` index."""
        ...

    def groups(self) -> list[Group]:
        """Every evaluation group, in the order results keep them."""
        ...

    def candidate_ids(self) -> list[str]:
        """An id per candidate row, for TREC files."""
        ...

    def notes(self) -> dict:
        """What the data left out of the evaluation, and why (kept with the results)."""
        ...

    def guard_texts(self) -> GuardTexts:
        """Texts the zero-shot guard compares training data with."""
        ...

    def evaluate(self, queries: np.ndarray, candidates: np.ndarray) -> Evaluation: ...

    def write_trec(self, queries: np.ndarray, candidates: np.ndarray, folder: Path, run_name: str) -> list[Path]: ...


class Evaluable:
    """The evaluation every dataset shares, from its ``groups`` and its format's metadata."""

    def evaluate(self: RetrievalData, queries: np.ndarray, candidates: np.ndarray) -> Evaluation:
        """Per-query metrics of every group, with the metrics its format declares per setting."""
        from hybridcore.eval.scoring import evaluate  # torch, only when scoring

        return evaluate(
            self.name,
            self.groups(),
            queries,
            candidates,
            self.metadata.metrics_of(),
            self.notes(),
            self.metadata.rank_matrices(),
        )

    def write_trec(
        self: RetrievalData, queries: np.ndarray, candidates: np.ndarray, folder: Path, run_name: str
    ) -> list[Path]:
        """TREC run and qrels files per setting, for trec_eval, ranx or pyserini."""
        from hybridcore.eval.trec import write_trec

        return write_trec(
            self.groups(), queries, candidates, self.candidate_ids(), folder, run_name, self.metadata.trec_depth
        )

    def notes(self) -> dict:
        return {}


# One fixed draw: every model and seed of an experiment is evaluated on the same sample,
# so their per-query scores stay paired.
SAMPLE_SEED = 0


@dataclass(frozen=True)
class LoadOptions:
    """What a caller may ask of a loader: a subset of languages (codes in any spelling, or a
    subset the format names, such as SIB-200's ``quick``), a language tag for formats that do
    not record one, a split (``None``: the format's default), and ``sample``: about that many
    queries per language, drawn with ``SAMPLE_SEED`` (whole parallel groups), ranked against
    the benchmark's whole pool; ``None`` keeps every query. ``pool="sampled"`` (with a sample
    only) also shrinks the pool to exactly the drawn queries' relevant candidates: a smoke
    test's pool, whose figures carry ``hybridcore.eval.pools.SAMPLED_POOL_CAVEAT``."""

    languages: tuple[str, ...] | None = None
    lang: str | None = None
    split: str | None = None
    sample: int | None = None
    pool: Literal["whole", "sampled"] = "whole"

    def __post_init__(self) -> None:
        if self.languages is not None:
            object.__setattr__(self, "languages", tuple(self.languages))

    @property
    def whole_pool(self) -> bool:
        return self.pool == "whole"


@dataclass(frozen=True)
class DatasetFormat:
    """A format on disk: its metadata, ``detect`` (whether a folder holds it) and ``load``
    (which raises a ``DataError`` naming the file and record on bad input)."""

    metadata: FormatMetadata
    detect: Callable[[Path], bool]
    load: Callable[[Path, LoadOptions], RetrievalData]

    @property
    def name(self) -> str:
        return self.metadata.name
