"""Whose candidate pool a figure was ranked against: the benchmark's own, or a sample's.

A sample (``?sample=N``) draws queries and keeps the benchmark's whole pool, so its figures
estimate the benchmark's. Only ``pool=sampled`` also shrinks the pool to the drawn queries'
relevant candidates: retrieval is then easier (fewer distractors), so those figures are not
comparable with the benchmark's, and the dataset's name says so wherever its figures go
(store, tables, dashboard, report), which also keeps them out of any comparison with the
whole pool's. Torch-free.
"""

from __future__ import annotations

SAMPLED_POOL_SUFFIX = "-sampled-pool"
SAMPLED_POOL_CAVEAT = "sampled pool: not comparable with the benchmark"


def sampled_pool_name(name: str) -> str:
    """The name a dataset's figures carry when its pool was shrunk to a sample's candidates."""
    return name if name.endswith(SAMPLED_POOL_SUFFIX) else name + SAMPLED_POOL_SUFFIX


def benchmark_name(dataset: str) -> str:
    """The benchmark a dataset's figures come from (``xquad-r`` for ``xquad-r-sampled-pool``)."""
    return dataset.removesuffix(SAMPLED_POOL_SUFFIX)


def pool_caveat(dataset: str) -> str | None:
    """The words that go beside a dataset's figures: the caveat for a sampled pool, else None."""
    return SAMPLED_POOL_CAVEAT if dataset.endswith(SAMPLED_POOL_SUFFIX) else None
