"""Figures in long format, their labels, and the one macro average.

``figures``: one row per (run, dataset, setting, query_lang, candidate_lang, metric) with a
``value`` (a group's mean over its queries), the shape the store keeps and ``Evaluation``
produces. A macro average is the unweighted mean over a setting's groups (languages or
language pairs), groups without a value left out: ``macro`` is the only place it is computed.
Torch-free: the dashboard uses this module.
"""

from __future__ import annotations

import pandas as pd

SETTING_LABELS = {"mono": "Mo", "cross": "Cr", "multi": "Mul", "beir": "BEIR", "native": "X→pivot",
                  "translated": "pivot→pivot", "bitext": "bitext"}
SETTING_ORDER = list(SETTING_LABELS)
METRIC_LABELS = {"map": "mAP", "recall@1": "R@1", "recall@10": "R@10", "recall@100": "R@100",
                 "ndcg@10": "nDCG@10", "mrr@10": "MRR@10", "rank_distance": "rank dist", "precision@1": "P@1"}
STRATEGY_ORDER = ("reference", "mono", "cross", "hybrid")
HEADLINE = [("mono", "map"), ("cross", "map"), ("multi", "map"), ("multi", "rank_distance")]
# every dataset's headline figures: LAReQA's (and SIB-200's pooled), AfriQA's two settings, bitext
HEADLINES = [*HEADLINE, ("native", "ndcg@10"), ("translated", "ndcg@10"), ("native", "map"), ("translated", "map"),
             ("bitext", "precision@1"), ("beir", "ndcg@10")]
FIGURE_COLUMNS = ["dataset", "setting", "query_lang", "candidate_lang", "metric", "value", "n_queries"]


def metric_label(setting: str, metric: str) -> str:
    """``Mo mAP``, ``Mul rank dist``: how tables and charts name a (setting, metric)."""
    return f"{SETTING_LABELS.get(setting, setting)} {METRIC_LABELS.get(metric, metric)}"


def strategy_rank(strategy: str) -> int:
    """Where a strategy goes in tables: the reference first, then mono, cross, hybrid, others last."""
    return STRATEGY_ORDER.index(strategy) if strategy in STRATEGY_ORDER else len(STRATEGY_ORDER)


def arm_labels(runs: pd.DataFrame) -> pd.Series:
    """Each run's arm as tables name it (``runs`` with ``strategy`` and ``alpha``): the
    strategy, with hybrid's alpha where the runs have several. Runs that differ only in their
    seed share a label, so tables built on it average over seeds."""
    several = runs.loc[runs["strategy"] == "hybrid", "alpha"].dropna().nunique() > 1
    return pd.Series([f"hybrid α={alpha:g}" if strategy == "hybrid" and several else strategy
                      for strategy, alpha in zip(runs["strategy"], runs["alpha"])], index=runs.index, dtype=object)


def macro(figures: pd.DataFrame, by: tuple[str, ...] = ("run", "dataset", "setting", "metric")) -> pd.DataFrame:
    """Mean over each setting's groups (NaN left out), with the number of groups: one row per
    ``by`` key (columns of ``by`` missing from ``figures`` are skipped)."""
    keys = [k for k in by if k in figures.columns]
    return (figures.groupby(keys, sort=False)["value"]
            .agg(value="mean", groups="size").reset_index())


def per_language(figures: pd.DataFrame, runs: list[str], dataset: str, setting: str, metric: str) -> pd.DataFrame:
    """Per query language (mean over its candidate languages), one column per run, and the
    macro average over languages in the row ``all``."""
    part = figures[(figures["dataset"] == dataset) & (figures["setting"] == setting) & (figures["metric"] == metric)]
    table = part.pivot_table(index="query_lang", columns="run", values="value", aggfunc="mean")
    table = table.reindex(columns=[r for r in runs if r in table.columns])
    table.loc["all"] = table.mean()
    return table
