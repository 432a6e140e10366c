"""The underrepresented-languages figures: AfriQA's cost of the question's language, and
SIB-200's per-language bitext accuracy and language bias, each labelled by coverage.

``figures`` and ``scores`` are long frames as in ``comparison`` (a ``run`` column labels the
runs). Torch-free: the dashboard uses it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from hybridcore.analysis.coverage import COVERAGE_ORDER, label_figures

GAP = "gap"


def afriqa_gap(figures: pd.DataFrame, fine_tuning: Iterable[str], pretraining: Iterable[str] | None,
               metric: str = "ndcg@10") -> pd.DataFrame:
    """Per run and question language: X -> pivot, pivot -> pivot, and the gap between them
    (pivot -> pivot minus X -> pivot: what asking in X costs), with X's coverage."""
    part = figures[figures["setting"].isin(["native", "translated"]) & (figures["metric"] == metric)]
    if part.empty:
        return pd.DataFrame(columns=["run", "language", "coverage", "native", "translated", GAP])
    part = label_figures(part, fine_tuning, pretraining)
    wide = part.pivot_table(index=["run", "query_lang", "coverage"], columns="setting", values="value").reset_index()
    wide[GAP] = wide["translated"] - wide["native"]
    wide = wide.rename(columns={"query_lang": "language"}).rename_axis(columns=None)
    return _by_coverage(wide[["run", "language", "coverage", "native", "translated", GAP]])


def gap_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Per-query gaps (translated minus native, the same question) as scores of a ``gap``
    setting, ready for ``comparison.paired_tests``."""
    part = scores[scores["setting"].isin(["native", "translated"])]
    keys = ["run", "dataset", "query_lang", "candidate_lang", "query_id", "metric"]
    wide = part.pivot_table(index=keys, columns="setting", values="value").reset_index()
    wide = wide.dropna(subset=["native", "translated"])
    return wide.assign(setting=GAP, value=wide["translated"] - wide["native"])[[*keys, "setting", "value"]]


def bitext_and_bias(figures: pd.DataFrame, fine_tuning: Iterable[str], pretraining: Iterable[str] | None) -> pd.DataFrame:
    """Per run and language: bitext P@1 with English (mean of both directions) and the pooled
    setting's mAP and rank distance, with the language's coverage; worst covered, then
    hardest, first."""
    bitext = label_figures(figures[(figures["setting"] == "bitext") & (figures["metric"] == "precision@1")], fine_tuning, pretraining)
    pooled = label_figures(figures[(figures["setting"] == "multi") & figures["metric"].isin(["map", "rank_distance"])],
                           fine_tuning, pretraining)
    if bitext.empty and pooled.empty:
        return pd.DataFrame(columns=["run", "language", "coverage", "bitext P@1", "pooled mAP", "rank distance"])
    p_at_1 = bitext.groupby(["run", "language", "coverage"])["value"].mean().rename("bitext P@1")
    wide = pooled.pivot_table(index=["run", "language", "coverage"], columns="metric", values="value")
    wide = wide.rename(columns={"map": "pooled mAP", "rank_distance": "rank distance"})
    table = pd.concat([p_at_1, wide], axis=1).reset_index().rename_axis(columns=None)
    return _by_coverage(table)


def _by_coverage(table: pd.DataFrame) -> pd.DataFrame:
    order = {label: i for i, label in enumerate(COVERAGE_ORDER)}
    return table.sort_values(["coverage", "language", "run"], key=lambda c: c.map(order) if c.name == "coverage" else c,
                             kind="stable").reset_index(drop=True)
