"""The metrics this project computes, as facts: their names, how tables label them, and which
direction is better. Torch-free, so format metadata and the dashboard can check names and
directions without loading the scoring code (``hybridcore.eval.metrics``)."""

from __future__ import annotations

import re

PLAIN = ("map", "rank_distance", "rank_distance_norm", "rank")
AT_K = ("recall", "precision", "ndcg", "mrr")
_LABELS = {
    "map": "mAP",
    "rank_distance": "rank dist",
    "rank_distance_norm": "norm rank dist",
    "rank": "mean rank",
    "recall": "R",
    "precision": "P",
    "ndcg": "nDCG",
    "mrr": "MRR",
}
_LOWER_IS_BETTER = frozenset({"rank_distance", "rank_distance_norm", "rank"})
_NAME = re.compile(rf"(?P<plain>{'|'.join(PLAIN)})|(?P<base>{'|'.join(AT_K)})@(?P<k>[1-9][0-9]*)")


def is_metric(name: str) -> bool:
    """Whether ``name`` is a metric ``hybridcore.eval.metrics.compute`` knows (``map``,
    ``rank_distance``, ``recall@k``, ``precision@k``, ``ndcg@k``, ``mrr@k``)."""
    return _NAME.fullmatch(name) is not None


def metric_label(metric: str) -> str:
    """``mAP``, ``nDCG@10``, ``rank dist``; a name this project does not compute is shown as it is."""
    match = _NAME.fullmatch(metric)
    if match is None:
        return metric
    return _LABELS[match["plain"]] if match["plain"] else f"{_LABELS[match['base']]}@{match['k']}"


def lower_is_better(metric: str) -> bool:
    """Whether a smaller value of ``metric`` is the better one (rank distance: less language bias)."""
    return metric in _LOWER_IS_BETTER


def value_format(metric: str) -> str:
    """How tables print it: a rank distance with one decimal, a score in [0, 1] with three."""
    return "{:.1f}" if metric in ("rank_distance", "rank") else "{:.3f}"
