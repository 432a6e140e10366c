"""The one unit of evaluation: a group of queries ranked against one candidate pool.

A format turns its dataset into groups (``hybridcore.data.formats``); scoring, the TREC writer
and the stored figures know nothing else about it. Torch-free: formats build groups without
loading the scoring code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Group:
    """One setting's queries against one pool. ``query_rows`` index the query embeddings and
    ``pool`` the candidate embeddings; ``relevant[i]`` holds query i's relevant positions in
    the pool, with grades ``gains[i]`` (None: every grade 1); ``exclude[i]`` is a pool
    position left out of query i's ranking (-1: none), the query itself where queries and
    candidates are the same sentences. ``query_ids`` name the queries in the stored scores.
    ``pool_langs``, for a pooled group, gives the language of each pool position, so the same
    ranking also yields each query's best answer's rank per candidate language."""

    setting: str
    query_lang: str
    candidate_lang: str
    query_rows: np.ndarray
    query_ids: tuple[str, ...]
    pool: np.ndarray
    relevant: list[list[int]]
    gains: list[list[float]] | None = None
    exclude: np.ndarray | None = None
    pool_langs: np.ndarray | None = None  # each pool position's language, where ranks are read per language

    def __post_init__(self) -> None:
        if not len(self.query_rows) == len(self.query_ids) == len(self.relevant):
            raise ValueError(
                f"group {self.setting} {self.query_lang}->{self.candidate_lang}: {len(self.query_rows)} rows, "
                f"{len(self.query_ids)} ids and {len(self.relevant)} relevance lists"
            )

    @property
    def ranked_pool(self) -> int:
        """The candidates each query is ranked against: the pool, less the query itself where
        it is left out of its own ranking."""
        own = self.exclude is not None and len(self.exclude) > 0 and bool((np.asarray(self.exclude) >= 0).all())
        return len(self.pool) - int(own)
