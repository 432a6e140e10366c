"""Figures in long format: how they are labelled and which of them are a dataset's headlines,
read from the formats' metadata (``hybridcore.data.formats``), so no table names a format.

``figures``: one row per (run, dataset, setting, query_lang, candidate_lang, metric) with a
``value``, the shape the store keeps. The aggregation over groups is ``macro``
(``hybridcore.eval.aggregate``), the only one. Torch-free: the dashboard uses this module.
"""

from __future__ import annotations

import pandas as pd

from hybridcore.data.formats.metadata import Figure, FormatMetadata
from hybridcore.data.formats.registry import metadata_for, setting_info
from hybridcore.eval import catalogue
from hybridcore.eval.aggregate import macro
from hybridcore.eval.pools import pool_caveat

__all__ = [
    "macro",
    "metric_label",
    "setting_label",
    "headlines",
    "format_of",
    "figure_order",
    "strategy_rank",
    "arm_labels",
    "pool_statement",
]

STRATEGY_ORDER = ("reference", "mono", "cross", "hybrid")


def setting_label(setting: str) -> str:
    """``Mo``, ``X→pivot``: the label its format declares (the name, for an unknown setting)."""
    info = setting_info(setting)
    return info.label if info else setting


def metric_label(setting: str, metric: str) -> str:
    """``Mo mAP``, ``Mul rank dist``: how tables and charts name a (setting, metric)."""
    return f"{setting_label(setting)} {catalogue.metric_label(metric)}"


def format_of(figures: pd.DataFrame) -> FormatMetadata | None:
    """The format one dataset's figures come from (``registry.metadata_for`` on their settings)."""
    return metadata_for(figures["setting"].unique())


def headlines(figures: pd.DataFrame) -> list[Figure]:
    """One dataset's headline figures that ``figures`` hold, as its format declares them;
    for a dataset of no known format, every (setting, metric) it has."""
    present = list(dict.fromkeys(zip(figures["setting"], figures["metric"])))
    metadata = format_of(figures)
    if metadata is None:
        return [Figure(s, m) for s, m in present]
    return [f for f in metadata.headlines if (f.setting, f.metric) in set(present)]


def figure_order(figures: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Per dataset's format, each (setting, metric) in the order the format declares its
    settings and their metrics: tables list figures that way."""
    order: dict[tuple[str, str], int] = {}
    for _, part in figures.groupby("dataset", sort=False):
        metadata = format_of(part)
        for setting in metadata.settings if metadata else ():
            for metric in setting.metrics:
                order.setdefault((setting.name, metric), len(order))
    return order


def strategy_rank(strategy: str) -> int:
    """Where a strategy goes in tables: the reference first, then mono, cross, hybrid, others last."""
    return STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else len(STRATEGY_ORDER)


def arm_labels(runs: pd.DataFrame) -> pd.Series:
    """Each run's arm as tables name it (``runs`` with ``strategy`` and ``alpha``): the
    strategy, with hybrid's alpha where the runs have several. Runs that differ only in their
    seed share a label, so tables built on it average over seeds."""
    several = runs.loc[runs["strategy"] == "hybrid", "alpha"].dropna().nunique() > 1
    return pd.Series(
        [
            f"hybrid α={alpha:g}" if strategy == "hybrid" and several else strategy
            for strategy, alpha in zip(runs["strategy"], runs["alpha"])
        ],
        index=runs.index,
        dtype=object,
    )


def pool_statement(figures: pd.DataFrame) -> str:
    """What one dataset's figures were measured on, in words for a table's caption: per
    setting, its groups, their queries and the candidates each query is ranked against
    (``Mo: 11 groups of 1,190 queries against 1,180-1,200 candidates``), then the sampled
    pool's caveat where it applies. The figures of one run suffice: every run of a dataset
    is evaluated on the same groups."""
    if figures.empty:
        return ""
    if "run_id" in figures.columns:
        figures = figures[figures["run_id"] == figures["run_id"].iloc[0]]
    one_metric = figures.drop_duplicates(["setting", "query_lang", "candidate_lang"])
    parts = []
    for setting, part in one_metric.groupby("setting", sort=False):
        queries = part["n_queries"].dropna() if "n_queries" in part else pd.Series([], dtype=float)
        pools = part["pool_size"].dropna() if "pool_size" in part else pd.Series([], dtype=float)
        pool = f"{_span(pools)} candidates" if len(pools) == len(part) else "a pool of unrecorded size"
        asked = f"{_span(queries)} queries" if len(queries) == len(part) else "queries"
        parts.append(f"{setting_label(setting)}: {len(part)} groups of {asked} against {pool}")
    caveat = pool_caveat(str(figures["dataset"].iloc[0]))
    return "; ".join(parts) + (f". {caveat[0].upper()}{caveat[1:]}." if caveat else ".")


def _span(values: pd.Series) -> str:
    low, high = int(values.min()), int(values.max())
    return f"{low:,}" if low == high else f"{low:,}-{high:,}"
