"""Runs compared from their long-format figures, the shape the store keeps.

``figures``: one row per (run, dataset, setting, query_lang, candidate_lang, metric) with a
``value``; ``scores``: the same per query, with ``query_id``. ``run`` is whatever labels the
runs (a name). Settings follow LAReQA: ``mono`` (X-X), ``cross`` (X-Y, X != Y), ``multi`` (one
query language against the candidates of all languages), and ``beir`` for BEIR-format sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from hybridcore.analysis.coverage import ALL_LANGUAGES, COVERAGE_ORDER, Exposure, label_figures
from hybridcore.analysis.figures import figure_order, headlines, macro, metric_label, setting_label
from hybridcore.analysis.significance import benjamini_hochberg, holm, paired_randomization_test

CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg}


def figures_from_results(records: dict[str, dict]) -> pd.DataFrame:
    """Long-format figures of results JSONs (``Evaluation.to_dict``), one label per record."""
    rows = [
        {
            "run": label,
            "dataset": record.get("dataset", ""),
            "setting": g["setting"],
            "query_lang": g["query_lang"],
            "candidate_lang": g["candidate_lang"],
            "metric": metric,
            "value": value,
            "n_queries": g.get("n_queries"),
            "pool_size": g.get("pool_size"),
        }
        for label, record in records.items()
        for g in record["groups"]
        for metric, value in g["metrics"].items()
    ]
    columns = ["run", "dataset", "setting", "query_lang", "candidate_lang", "metric", "value", "n_queries", "pool_size"]
    return pd.DataFrame(rows, columns=columns)


def side_by_side(
    figures: pd.DataFrame, runs: Sequence[str], baseline: str, metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """Macro figures with one column per run, then ``Δ run`` = run - baseline for the others."""
    table = macro(figures)
    if metrics is not None:
        table = table[table["metric"].isin(metrics)]
    wide = table.pivot_table(index=["dataset", "setting", "metric"], columns="run", values="value", sort=False)
    wide = wide.reindex(columns=[r for r in runs if r in wide.columns])
    for run in wide.columns.tolist():
        if run != baseline and baseline in wide.columns:
            wide[f"Δ {run}"] = wide[run] - wide[baseline]
    order = figure_order(figures)
    wide = wide.reset_index()
    rank = [order.get((s, m), len(order)) for s, m in zip(wide["setting"], wide["metric"])]
    wide = wide.assign(_rank=rank).sort_values(["dataset", "_rank", "metric"], kind="stable").drop(columns="_rank")
    wide["setting"] = wide["setting"].map(setting_label)
    return wide.reset_index(drop=True)


def per_language(figures: pd.DataFrame, runs: list[str], dataset: str, setting: str, metric: str) -> pd.DataFrame:
    """Per query language (``macro`` over its groups), one column per run, and the figure
    over every group (``macro``, the same as every other table's) in the row ``ALL_LANGUAGES``."""
    part = figures[(figures["dataset"] == dataset) & (figures["setting"] == setting) & (figures["metric"] == metric)]
    table = macro(part, by=("run", "query_lang")).pivot_table(index="query_lang", columns="run", values="value")
    table = table.reindex(columns=[r for r in runs if r in table.columns])
    overall = macro(part, by=("run",)).set_index("run")["value"]
    table.loc[ALL_LANGUAGES] = overall.reindex(table.columns)
    return table


def per_language_median(scores: pd.DataFrame, runs: list[str]) -> pd.DataFrame:
    """Per query language, the median of one metric's per-query values, one column per run,
    and the median over every query in the row ``ALL_LANGUAGES`` (``scores``: per-query
    values of one dataset, setting and metric, with a ``run`` column)."""
    table = scores.pivot_table(index="query_lang", columns="run", values="value", aggfunc="median")
    table = table.reindex(columns=[r for r in runs if r in table.columns])
    table.loc[ALL_LANGUAGES] = scores.groupby("run")["value"].median().reindex(table.columns)
    return table


def rank_matrix(figures: pd.DataFrame, run: str, dataset: str, setting: str = "mul_rank") -> pd.DataFrame:
    """Query language x candidate language: the mean rank, in the pool of every language, of
    a query's answer in the candidate language (a format's rank-matrix setting; empty if the
    dataset has none). A row far higher off its diagonal than on it is language bias."""
    part = figures[(figures["run"] == run) & (figures["dataset"] == dataset) & (figures["setting"] == setting)]
    return part.pivot_table(index="query_lang", columns="candidate_lang", values="value", aggfunc="mean")


def pair_matrix(figures: pd.DataFrame, run: str, dataset: str, metric: str = "map") -> pd.DataFrame:
    """Query language x candidate language: X-Y from ``cross``, the diagonal from ``mono``."""
    part = figures[
        (figures["run"] == run)
        & (figures["dataset"] == dataset)
        & (figures["metric"] == metric)
        & figures["setting"].isin(["mono", "cross"])
    ]
    part = part.assign(candidate_lang=np.where(part["setting"] == "mono", part["query_lang"], part["candidate_lang"]))
    matrix = part.pivot_table(index="query_lang", columns="candidate_lang", values="value", aggfunc="mean")
    languages = sorted(set(matrix.index) | set(matrix.columns))
    return matrix.reindex(index=languages, columns=languages)


def with_differences(table: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """``table`` plus ``Δ run`` = run - baseline for every other run column."""
    out = table.copy()
    for run in table.columns:
        if run != baseline and baseline in table.columns:
            out[f"Δ {run}"] = table[run] - table[baseline]
    return out


def by_coverage(
    figures: pd.DataFrame,
    runs: Sequence[str],
    dataset: str,
    fine_tuning: Iterable[str],
    exposure: Exposure | None,
    columns: Sequence[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Per run: each (setting, metric) over all its groups (``ALL_LANGUAGES``, the same figure as
    ``macro``) and over the groups of each coverage label (``coverage.COVERAGE_ORDER``): a
    group is labelled by the language it is about (``en -> yo`` for Yoruba), and each figure
    is ``macro`` over the groups it covers. ``n_languages`` counts
    the languages those groups are about. Columns default to the dataset's headline figures."""
    part = label_figures(figures[figures["dataset"] == dataset], fine_tuning, exposure)
    columns = list(columns or headline_columns(part))
    rows = []
    for setting, metric in columns:
        cell = part[(part["setting"] == setting) & (part["metric"] == metric)]
        label = metric_label(setting, metric)
        overall = macro(cell, by=("run",)).set_index("run")["value"]
        grouped = macro(cell, by=("run", "coverage")).set_index(["run", "coverage"])["value"]
        languages = cell.groupby("run")["language"].nunique()
        languages_in = cell.groupby(["run", "coverage"])["language"].nunique()
        for run in [r for r in runs if r in overall.index]:
            rows.append(
                {
                    "run": run,
                    "languages": ALL_LANGUAGES,
                    "n_languages": languages[run],
                    "column": label,
                    "value": overall[run],
                }
            )
            for coverage in COVERAGE_ORDER:
                if (run, coverage) in grouped.index:
                    rows.append(
                        {
                            "run": run,
                            "languages": coverage,
                            "n_languages": languages_in[(run, coverage)],
                            "column": label,
                            "value": grouped[(run, coverage)],
                        }
                    )
    labels = [metric_label(setting, metric) for setting, metric in columns]
    if not rows:
        return pd.DataFrame(columns=["run", "languages", *labels])
    frame = pd.DataFrame(rows)
    out = frame.pivot_table(index=["run", "languages"], columns="column", values="value", sort=False, dropna=False)
    return out.reindex(columns=labels).reset_index().rename_axis(columns=None)


def headline_columns(figures: pd.DataFrame) -> list[tuple[str, str]]:
    """One dataset's headline (setting, metric) pairs that ``figures`` hold, as its format declares them."""
    return [(f.setting, f.metric) for f in headlines(figures)]


def coverage_differences(table: pd.DataFrame, treatment: str) -> pd.DataFrame:
    """``treatment`` minus each other run, per language group and column."""
    values = table.set_index(["run", "languages"])
    rows = []
    for baseline in values.index.get_level_values("run").unique():
        if baseline == treatment:
            continue
        diff = values.loc[treatment] - values.loc[baseline]
        rows.append(diff.assign(comparison=f"{treatment} - {baseline}").reset_index())
    if not rows:
        return pd.DataFrame(columns=["comparison", "languages"])
    out = pd.concat(rows, ignore_index=True)
    return out[["comparison", "languages", *[c for c in out.columns if c not in ("comparison", "languages")]]]


LEVELS = {
    "overall": ["setting"],
    "coverage": ["setting", "coverage"],
    "language": ["setting", "query_lang"],
    "pair": ["setting", "query_lang", "candidate_lang"],
}


def unit_scores(scores: pd.DataFrame, level: str) -> pd.DataFrame:
    """Per-query scores averaged into the sample unit of a test at ``level`` (see
    ``paired_tests``): one row per unit (indexed by the level's keys and ``query_id``), one
    column per run."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}: use {sorted(LEVELS)}")
    if level == "coverage" and "coverage" not in scores.columns:
        raise ValueError("level 'coverage' needs scores labelled with coverage.label_figures")
    keys = LEVELS[level]
    unit = [*keys, "query_id"] if level == "pair" else ["setting", "query_lang", "candidate_lang", "query_id"]
    if level == "coverage":
        unit = ["coverage", *unit]
    per_query = scores.groupby([*unit, "run"])["value"].mean().unstack("run")
    if level != "pair":
        # a query's scores over its candidate languages first, then (overall, coverage) its translations
        per_query = per_query.groupby(level=[k for k in unit if k != "candidate_lang"]).mean()
        if level != "language":
            per_query = per_query.groupby(level=[*keys, "query_id"]).mean()
    return per_query


def paired_tests(
    scores: pd.DataFrame,
    a: str,
    b: str,
    level: str = "language",
    correction: str = "holm",
    permutations: int = 10_000,
    seed: int = 0,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Paired randomisation tests of run ``b`` against run ``a`` on per-query scores of one metric.

    At ``pair`` level each language pair is one test and a query (question in one language)
    one sample. At ``language`` level a query's scores over its candidate languages are
    averaged first, so it counts once. At ``overall`` and ``coverage`` levels, which pool
    languages, the sample is a question: the translations of one question (the same query
    id) are not independent (a model that gains on it gains in every language), and counting
    them apart would make p-values far too small. ``coverage`` level needs a ``coverage``
    column in ``scores`` (``label_figures``) and tests each coverage group apart. p-values
    are corrected over the table's rows.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}: use {sorted(LEVELS)}")
    if correction not in CORRECTIONS:
        raise ValueError(f"unknown correction {correction!r}: use {sorted(CORRECTIONS)}")
    keys = LEVELS[level]
    columns = [*keys, "n", "mean_a", "mean_b", "delta", "cohens_d", "p", "p_adjusted", "significant"]
    per_query = unit_scores(scores[scores["run"].isin([a, b])], level)
    if a not in per_query.columns or b not in per_query.columns:
        return pd.DataFrame(columns=columns)
    rows = []
    for key, group in per_query.groupby(level=keys, sort=True):
        test = paired_randomization_test(group[a].to_numpy(), group[b].to_numpy(), permutations, seed)
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(keys, key)),
                "n": test.n,
                "mean_a": test.mean_a,
                "mean_b": test.mean_b,
                "delta": test.mean_difference,
                "cohens_d": test.cohens_d,
                "p": test.p_value,
            }
        )
    table = pd.DataFrame(rows)
    table["p_adjusted"] = CORRECTIONS[correction](table["p"].to_numpy())
    table["significant"] = table["p_adjusted"] < alpha
    return table[columns]
